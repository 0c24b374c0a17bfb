"""``partlift demo``: both methods on the embedded data, into ``runs/<name>/report.html``."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import click

from partlift.commands.options import device_option


@click.command("demo")
@click.option("--quick", is_flag=True, help="The <= 3-minute preset (tiny training: shows that everything runs).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Run folder (default: runs/demo, or runs/demo-quick with --quick). A rerun resumes it.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of every randomised step.")
@click.option("--force", is_flag=True, help="Use a non-empty --out folder that is not a partlift demo run.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Part321 categories trained at once, one process and one core each (default: 2, or 1 on a "
                   "one-core machine). Times change, results do not.")
@device_option
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bars.")
def demo(quick: bool, out_dir: str | None, seed: int, force: bool, workers: int | None, device: str,
         progress: bool) -> None:
    """Train and evaluate PartSTAD and Part321 on 2 embedded categories each and write an HTML report.

    Generates (or reuses the cached) embedded data, trains at demo settings, scores with the papers'
    metrics and writes report.html with tables, galleries and 3D views. Interrupt it any time:
    running the same command again continues where it stopped and reuses what was trained.
    """
    from partlift.experiments.demo import demo_config, run_demo
    from partlift.models.device import resolve_device
    from partlift.outputs import claim_output_dir
    from partlift.report.demo_report import build_report

    dev = str(resolve_device(device))
    run_dir = Path(out_dir) if out_dir else Path("runs") / ("demo-quick" if quick else "demo")
    claim_output_dir(run_dir, "demo-run", force=force,
                     recognise=lambda p: (p / "stages").is_dir() or (p / "run.json").is_file())
    cfg = demo_config(quick=quick, seed=seed)
    cfg = replace(cfg, partstad=replace(cfg.partstad, device=dev), part321=replace(cfg.part321, device=dev))
    click.echo(f"partlift demo{' --quick' if quick else ''}: run folder {run_dir} "
               f"(PartSTAD on {', '.join(cfg.partstad.categories)}; Part321 on {', '.join(cfg.part321.categories)})")
    t0 = time.perf_counter()
    try:
        run_demo(cfg, run_dir, progress=progress, log=click.echo,
                 workers=workers if workers is not None else min(2, os.cpu_count() or 1))
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted; run the same command again to continue from {run_dir}", err=True)
        raise SystemExit(130) from None
    path = build_report(run_dir)
    click.echo(f"report: {path}")
    click.echo(f"done in {time.perf_counter() - t0:.0f} s. Open {path.resolve().as_uri()}")
