"""The `partlift` command: every subcommand answers --help; input errors print one line, exit 2."""

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from partlift.cli import COMMANDS, SUBCOMMANDS, cli


def _all_paths():
    ctx = click.Context(cli)
    paths = []
    for name in cli.list_commands(ctx):
        cmd = cli.get_command(ctx, name)
        paths.append([name])
        if isinstance(cmd, click.Group):
            sub_ctx = click.Context(cmd)
            paths.extend([name, sub] for sub in cmd.list_commands(sub_ctx))
    return paths


def test_top_level_help_lists_available_commands():
    res = CliRunner().invoke(cli, ["--help"])
    assert res.exit_code == 0
    for path in _all_paths():
        if len(path) == 1:
            assert path[0] in res.output


@pytest.mark.parametrize("path", _all_paths(), ids=lambda p: " ".join(p))
def test_every_subcommand_has_help(path):
    res = CliRunner().invoke(cli, [*path, "--help"])
    assert res.exit_code == 0, res.output
    assert "Usage:" in res.output and len(res.output.splitlines()) > 3


def test_tables_name_modules_in_the_commands_package():
    for target in list(COMMANDS.values()) + [t for sub in SUBCOMMANDS.values() for t in sub.values()]:
        assert target.startswith("partlift.commands.") and ":" in target


def test_input_error_is_one_line_exit_2(tmp_path):
    if "render" not in cli.list_commands(click.Context(cli)):
        pytest.skip("render command not built")
    missing = tmp_path / "missing.obj"
    run = subprocess.run(
        [sys.executable, "-m", "partlift.cli", "render", str(missing), "--out", str(tmp_path / "o")],
        capture_output=True, text=True,
    )
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: mesh file not found: {missing}"


def test_test_module_basenames_are_unique():
    # pytest's default import mode puts each test directory on sys.path, so two test files with one
    # basename in different folders break collection of the whole suite.
    root = Path(__file__).parent
    names = [p.name for p in root.rglob("test_*.py")]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"test modules sharing a basename: {duplicates}"


def test_python_dash_m_partlift_is_the_command():
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "partlift", "--version"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "partlift" in res.stdout
