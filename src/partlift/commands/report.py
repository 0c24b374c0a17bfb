"""``partlift report RUN_DIR``: rebuild a demo run's report.html from its saved results."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False))
def report(run_dir: str) -> None:
    """Rebuild RUN_DIR/report.html from the results a `partlift demo` run saved (nothing is recomputed)."""
    from partlift.errors import ReadError
    from partlift.report.demo_report import build_report

    if not Path(run_dir).is_dir():
        raise ReadError(f"run folder not found: {run_dir}")
    path = build_report(run_dir)
    click.echo(f"wrote {path}")
