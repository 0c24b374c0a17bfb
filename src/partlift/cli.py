"""The ``partlift`` command. Each subcommand is a thin layer over the library.

Subcommands live in their own modules under ``partlift.commands`` and are registered here.

Every failure prints one line on stderr (docs/CONVENTIONS.md, "Command-line errors"):

- bad input (a :class:`partlift.errors.PartliftError`, a bad option, a file that cannot be read or
  written): ``error: ...``, exit status 2;
- anything else is a bug: ``internal error: ...``, exit status 1;
- an interrupt (Ctrl-C): exit status 130;
- a batch (``segment`` / ``detect`` over several inputs) in which some inputs failed: the failures
  listed, exit status 3.

``--debug`` (before the subcommand) or ``PARTLIFT_DEBUG=1`` shows the traceback as well.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

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
@click.option("--debug", is_flag=True, help="Show the Python traceback of a failure (or set PARTLIFT_DEBUG=1).")
def cli(debug: bool) -> None:
    """partlift: parts of 3D objects across 2D images and 3D shapes (PartSTAD, Part321)."""


def one_line(message: object) -> str:
    """``message`` on one line (multi-line library messages joined with '; ')."""
    return "; ".join(part.strip() for part in str(message).splitlines() if part.strip())


def _debug_requested(argv: list[str]) -> bool:
    if os.environ.get("PARTLIFT_DEBUG", "").strip() not in ("", "0"):
        return True
    for arg in argv:  # group options come before the subcommand
        if arg == "--debug":
            return True
        if not arg.startswith("-"):
            return False
    return False


def _os_error_line(exc: OSError) -> str:
    what = exc.strerror or type(exc).__name__
    name = exc.filename if exc.filename is not None else ""
    return f"{name}: {what}" if name else one_line(str(exc) or what)


def _fail(line: str, status: int, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    click.echo(line, err=True)
    sys.exit(status)


def main(argv: list[str] | None = None) -> None:
    """Run the ``partlift`` command on ``argv`` (default ``sys.argv[1:]``); exits with its status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(argv)
    try:
        status = cli.main(args=argv, prog_name="partlift", standalone_mode=False)
        if isinstance(status, int) and status:  # a command's ctx.exit(n) / click.exceptions.Exit(n)
            sys.exit(status)
    except PartliftError as exc:
        _fail(f"error: {one_line(exc)}", 2, debug)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, EOFError):  # click turns EOFError into Abort; it is not an interrupt
            _fail(f"internal error: unexpected end of file ({one_line(exc.__cause__) or 'EOFError'}); rerun with "
                  "--debug for the traceback", 1, debug)
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        sub = exc.ctx.command_path.partition(" ")[2] if exc.ctx else ""
        hint = f" (see 'partlift {sub + ' ' if sub else ''}--help')"
        _fail(f"error: {one_line(exc.format_message())}{hint}", 2, debug)
    except click.ClickException as exc:
        _fail(f"error: {one_line(exc.format_message())}", exc.exit_code if exc.exit_code else 1, debug)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except OSError as exc:  # a file or folder the user named cannot be read or written
        _fail(f"error: {_os_error_line(exc)}", 2, debug)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        _fail(f"internal error: {type(exc).__name__}: {one_line(exc)} (rerun with --debug for the traceback; "
              "please report it)", 1, debug)


if __name__ == "__main__":
    main()
