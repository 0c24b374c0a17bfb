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
    "render": "partlift.commands.render:render",
    "shapes": "partlift.commands.shapes:shapes",
    "eval": "partlift.commands.eval:eval_group",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("partlift.commands"):
                return None  # command not built yet in this checkout
            raise


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
