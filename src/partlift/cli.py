"""The ``partlift`` command. Each subcommand is a thin layer over the library.

Subcommands live in their own modules under ``partlift.commands`` and are registered here;
errors caused by bad input (:class:`partlift.errors.PartliftError`) print as one line and exit 2.
"""

from __future__ import annotations

import importlib
import sys

import click

from partlift import __version__
from partlift.errors import PartliftError

# name -> "module:attribute" of a click command or group; imported lazily so `--help` stays fast.
COMMANDS: dict[str, str] = {
    "demo": "partlift.commands.demo:demo",
    "report": "partlift.commands.report:report",
    "render": "partlift.commands.render:render",
    "shapes": "partlift.commands.shapes:shapes",
    "make-dataset": "partlift.commands.make_dataset:make_dataset",
    "eval": "partlift.commands.eval:eval_group",
    "segment": "partlift.commands.partstad:segment",
    "detect": "partlift.commands.part321:detect",
}
# Groups whose subcommands belong to different methods: group -> {subcommand: "module:attribute"}.
SUBCOMMANDS: dict[str, dict[str, str]] = {
    "train": {
        "partstad": "partlift.commands.partstad:train_partstad",
        "part321": "partlift.commands.part321:train_part321",
    },
    "bench": {
        "partstad": "partlift.commands.partstad:bench_partstad",
        "part321": "partlift.commands.part321:bench_part321",
        "transfer": "partlift.commands.part321:bench_transfer",
    },
}
GROUP_HELP = {
    "train": "Train a method on a dataset (see the subcommands).",
    "bench": "Run a method's benchmark on the embedded data and print the papers' tables.",
}


def _load(target: str) -> click.Command | None:
    module, attr = target.split(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("partlift.commands"):
            return None  # command not built in this checkout
        raise


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, from a name -> "module:attr" table."""

    def __init__(self, *args, table: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.table = table

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(self.table) if self.table is not None else set(COMMANDS) | set(SUBCOMMANDS)
        return sorted(n for n in names if self.get_command(ctx, n) is not None)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if self.table is not None:
            return _load(self.table[name]) if name in self.table else None
        if name in SUBCOMMANDS:
            group = LazyGroup(name=name, table=SUBCOMMANDS[name], help=GROUP_HELP.get(name))
            return group if group.list_commands(ctx) else None
        return _load(COMMANDS[name]) if name in COMMANDS else None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="partlift")
def cli() -> None:
    """partlift: parts of 3D objects across 2D images and 3D shapes (PartSTAD, Part321)."""


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="partlift", standalone_mode=False)
    except PartliftError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
