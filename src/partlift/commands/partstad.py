"""PartSTAD commands: ``partlift train partstad``, ``partlift segment``, ``partlift bench partstad``.

The benchmark itself is :mod:`partlift.experiments.partstad_benchmark`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import click
import numpy as np

from partlift.commands.options import CommaChoice, config_type, device_option, executor_config, executor_options
from partlift.datasets.cache import embedded_points_root
from partlift.datasets.loaders import load_partnete_split, partnete_categories
from partlift.errors import ConfigError, LabelMismatchError, ReadError
from partlift.experiments.partstad_benchmark import (
    ALL_METHODS,
    PRESETS,
    BenchSettings,
    format_bench,
    preset_settings,
    run_bench,
)
from partlift.models.device import resolve_device
from partlift.outputs import claim_output_dir
from partlift.partstad.config import LearnedProposerConfig, ProposerConfig, SuperpointConfig, TrainConfig, ViewConfig

# ============================================================================================ train


@click.command("partstad")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="PartNetE-layout root (few_shot/ for training, val/ for epoch selection); "
                   "default: the embedded procedural dataset.")
@click.option("--category", "-c", required=True, help="Category to train (a folder of <data>/few_shot).")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Model folder to write (default: partstad-<category>).")
@click.option("--proposer", type=config_type(ProposerConfig, "kind"), default=ProposerConfig.kind, show_default=True,
              help="2D part proposals.")
@click.option("--model-path", type=click.Path(exists=True, file_okay=False), default=None,
              help="Local transformers Grounding DINO folder (with --proposer grounding-dino).")
@click.option("--sam-path", type=click.Path(exists=True, file_okay=False), default=None,
              help="Local transformers SamModel folder (box -> mask for grounding-dino).")
@click.option("--epochs", type=config_type(TrainConfig, "epochs"), default=None,
              help="Weight-network epochs (default 400, PartSTAD's).")
@click.option("--proposer-steps", type=config_type(LearnedProposerConfig, "steps"), default=None,
              help="Training steps of the learned proposer (default 600).")
@click.option("--image-size", type=config_type(ViewConfig, "image_size"), default=None,
              help="View size in pixels (default 128; PartSLIP 800).")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), default=None,
              help="Preprocessing cache folder (default: <out>/cache).")
@click.option("--superpoint-reg", type=config_type(SuperpointConfig, "reg"), default=None,
              help="Cut-pursuit regularisation of the superpoints (default 0.05, PartSLIP's; larger = coarser).")
@click.option("--val-split", default="val", show_default=True,
              help="Split folder of <data> whose shapes pick the best epoch. PartNetE has no val/: PartSTAD "
                   "used 8 shapes of test/ (--val-split test --val-shapes 8).")
@click.option("--val-shapes", type=click.IntRange(min=0), default=None,
              help="Use only the first N shapes of --val-split (default: all).")
@click.option("--seed", type=config_type(TrainConfig, "seed"), default=0, show_default=True)
@click.option("--force", is_flag=True, help="Write into a non-empty --out folder that is not a PartSTAD model.")
@device_option
@click.option("--progress/--no-progress", default=True, show_default=True)
def train_partstad(data_dir, category, out_dir, proposer, model_path, sam_path, epochs, proposer_steps, image_size,
                   cache_dir, superpoint_reg, val_split, val_shapes, seed, force, device, progress) -> None:
    """Train PartSTAD for one category on its few-shot shapes; writes a model folder."""
    from partlift.partstad.config import PartSTADConfig
    from partlift.partstad.model import PartSTAD

    root = Path(data_dir) if data_dir else embedded_points_root(category, progress)
    few = load_partnete_split(root, "few_shot", category)
    if not few:
        cats = partnete_categories(root, "few_shot")
        raise LabelMismatchError(
            f"category {category!r} has no few-shot shapes in {root / 'few_shot'}; available: "
            f"{', '.join(cats) if cats else 'none'}"
        )
    val = load_partnete_split(root, val_split, category, val_shapes)
    if not val:
        click.echo(f"note: no {val_split}/{category} shapes in {root}: the last epoch is kept "
                   "(pass --val-split to choose epochs on held-out shapes)")
    cfg = PartSTADConfig()
    cfg = replace(
        cfg,
        proposer=replace(cfg.proposer, kind=proposer, model_path=model_path or "", sam_path=sam_path or "", seed=seed),
        learned=replace(cfg.learned, seed=seed, steps=cfg.learned.steps if proposer_steps is None else proposer_steps),
        train=replace(cfg.train, seed=seed, epochs=cfg.train.epochs if epochs is None else epochs),
        views=replace(cfg.views, image_size=cfg.views.image_size if image_size is None else image_size),
        superpoints=replace(cfg.superpoints, reg=cfg.superpoints.reg if superpoint_reg is None else superpoint_reg),
    )
    out = claim_output_dir(out_dir or f"partstad-{category}", "partstad-model", force=force,
                           recognise=lambda p: (p / "model.json").is_file()).path
    t0 = time.perf_counter()
    model = PartSTAD(cfg, cache_dir=Path(cache_dir) if cache_dir else out / "cache", device=resolve_device(device))
    model.fit(few, val, progress=progress, log=click.echo)
    model.save(out)
    click.echo(f"trained PartSTAD for {category} ({len(few)} few-shot, {len(val)} validation shapes) in "
               f"{time.perf_counter() - t0:.1f} s; best epoch {model.best_epoch}; model written to {out}")


# ============================================================================================ segment


def save_views_png(path: Path, images: list[np.ndarray], legend: list[tuple[str, tuple[int, ...]]]) -> None:
    """The views mosaic of ``partlift segment`` with a legend of part colours (module-level: batch
    workers receive it by name)."""
    from partlift.report.figures import save_png, view_mosaic, with_legend

    save_png(path, with_legend(view_mosaic(images), legend))


def one_input_file(inputs: tuple[str, ...]) -> Path | None:
    """The input file when the command got exactly one path that is not a folder or a pattern."""
    if len(inputs) != 1 or Path(inputs[0]).is_dir() or (not Path(inputs[0]).exists() and any(c in inputs[0]
                                                                                            for c in "*?[")):
        return None
    path = Path(inputs[0])
    if not path.is_file():
        raise ReadError(f"{path}: no such file or folder")
    return path


def echo_batch_report(report, notes: list[str]) -> None:
    """Print a batch's notes and summary lines; exit with status 3 when some inputs failed."""
    for line in notes + report.lines():
        click.echo(line)
    if report.failures:
        raise click.exceptions.Exit(3)


@click.command("segment")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default for one input file: <input stem>-parts; required otherwise).")
@click.option("--points", "num_points", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Points sampled from a mesh input.")
@click.option("--category", default=None, help="Category of the input; refused if the model was trained for another.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@executor_options
@click.option("--redo", is_flag=True,
              help="--out holds a batch made with another model or other settings: delete its results and redo "
                   "every input (without it, such a folder is refused).")
@click.option("--force", is_flag=True, help="Write into a non-empty --out folder that partlift did not write.")
@device_option
@click.option("--progress/--no-progress", default=True, show_default=True)
def segment(model_dir: str, inputs: tuple[str, ...], out_dir: str | None, num_points: int, category: str | None,
            seed: int, backend: str, workers: int | None, address: str | None, redo: bool, force: bool,
            device: str, progress: bool) -> None:
    """Segment point clouds (.ply) or meshes into the parts a PartSTAD model was trained for.

    INPUT is one or more files, folders (searched recursively; a PartNetE-layout folder
    <Category>/<shape_id>/pc.ply keeps its layout) or glob patterns. For each input: <stem>_parts.ply
    (points coloured by part, with label / instance properties), <stem>_parts.json (labels,
    instances with confidences, timings), <stem>_views.png and label.npy (PartNetE prediction, for
    `partlift eval partstad`). One file writes them into --out; a batch into <out>/<input>/ with
    manifest.json (finished inputs are skipped by a rerun), failures.json and summary.json. Exit
    status 3 when some inputs failed.
    """
    from partlift.experiments.batch import BatchItem
    from partlift.experiments.batch_jobs import SegmentJob, run_model_batch, segment_item
    from partlift.partstad.model import PartSTAD

    single = one_input_file(inputs)
    dev = str(resolve_device(device))
    exec_cfg = executor_config(backend, workers, address, dev)
    model = PartSTAD.load(model_dir, device=dev)
    if category:
        model.check_category(category)
    if single is None and not out_dir:
        raise ConfigError("--out: several inputs, a folder or a pattern need an output folder (--out DIR)")
    target = out_dir if out_dir else f"{single.stem}-parts" if single is not None else ""
    out = claim_output_dir(target, "partstad-segmentation", force=force, recognise=_segmentation_output).path
    job = SegmentJob(str(out), str(model_dir), num_points, seed, save_views_png, device=dev)
    if single is None:
        report, notes = run_model_batch(job, inputs, model.category, {"num_points": num_points, "seed": seed},
                                        exec_cfg, redo=redo, progress=progress)
        echo_batch_report(report, notes)
        return
    res = segment_item((model, job), BatchItem(single.stem, str(single), "", single.stem))["summary"]
    counts = ", ".join(f"{n}: {c}" for n, c in res["part_point_counts"].items())
    click.echo(f"{single.name} ({res['input_kind']}): {counts}; unlabelled {res['unlabelled_points']}; "
               f"{res['instances']} instances; {res['seconds']:.2f} s")
    click.echo(f"wrote {out}/{single.stem}_parts.ply, {single.stem}_parts.json, {single.stem}_views.png, label.npy")


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _segmentation_output(path: Path) -> bool:
    """Output of `segment` written before folder markers existed."""
    return any(path.glob("*_parts.json"))


@click.command("partstad")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default=None,
              help="full: the 11 PartNetE-style categories, every method (default); quick: the <= 10-minute "
                   "run; user: the Part321 taxonomies car, bus, airliner, mountain_bike, tricycle with PartSLIP "
                   "and PartSTAD. The options below change a preset.")
@click.option("--quick", is_flag=True, help="Same as --preset quick (2 categories, 10 test shapes each).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None, help="Write the results JSON.")
@click.option("--categories", default=None,
              help="Comma-separated categories, any of `partlift shapes list` (default: the preset's).")
@click.option("--methods", type=CommaChoice(ALL_METHODS), default=None,
              help=f"Comma-separated rows to run, of {', '.join(ALL_METHODS)} (default: the preset's).")
@click.option("--split", type=config_type(BenchSettings, "split"), default=None,
              help="random: the embedded datasets' split (default); style: the style hold-out (few-shot and "
                   "validation shapes of some generator styles; scored on in-style and held-out-style test shapes).")
@click.option("--test-shapes", type=config_type(BenchSettings, "test_shapes"), default=None,
              help="Test shapes per category and test set (default: all, quick: 10).")
@click.option("--proposer-steps", type=config_type(BenchSettings, "proposer_steps"), default=None,
              help="Training steps of the learned proposer (default 600, quick: 300).")
@click.option("--epochs", type=config_type(BenchSettings, "epochs"), default=None,
              help="Weight-network epochs (default 400, PartSTAD's).")
@click.option("--per-part/--no-per-part", default=True, show_default=True,
              help="Print the per-part IoU table of every category.")
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Working folder (trained proposers, cache, results, PartNetE predictions); reruns resume.")
@click.option("--force", is_flag=True, help="Use a non-empty --workdir that partlift did not write.")
@device_option
@click.option("--progress/--no-progress", default=True, show_default=True)
def bench_partstad(preset, quick, json_out, categories, methods, split, test_shapes, proposer_steps, epochs, per_part,
                   workdir, force, device, progress) -> None:
    """PartSTAD, its ablations, PartSLIP and SATR on the embedded data: Tables 1-3, per-part IoU and
    timings; with --split style also the held-out style's tables and the in-style / held-out summary."""
    from partlift.datasets.cache import default_cache_dir, in_cache_dir
    from partlift.datasets.generation import write_json_atomic

    if quick and preset not in (None, "quick"):
        raise click.UsageError(f"--quick and --preset {preset} contradict each other")
    preset = "quick" if quick else preset or "full"
    settings = replace(preset_settings(preset), device=str(resolve_device(device)))
    if categories:
        settings = replace(settings, categories=_comma_list(categories))
    if methods:
        settings = replace(settings, methods=methods)
    if split is not None:
        settings = replace(settings, split=split)
    if test_shapes is not None:
        settings = replace(settings, test_shapes=int(test_shapes))
    if proposer_steps is not None:
        settings = replace(settings, proposer_steps=int(proposer_steps))
    if epochs is not None:
        settings = replace(settings, epochs=int(epochs))
    folder = {"full": "bench", "quick": "bench-quick"}.get(preset, f"bench-{preset}")
    if settings.split != "random":
        folder += f"-{settings.split}"
    wd = Path(workdir) if workdir else default_cache_dir() / "partstad" / folder
    claim_output_dir(wd, "partstad-bench", force=force, option="--workdir", recognise=in_cache_dir)
    result = run_bench(settings, wd, progress=progress, log=click.echo)
    click.echo(format_bench(result, per_part=per_part))
    if json_out:
        write_json_atomic(json_out, result)
        click.echo(f"wrote {json_out}")
