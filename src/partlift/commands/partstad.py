"""PartSTAD commands: ``partlift train partstad``, ``partlift segment``, ``partlift bench partstad``.

The benchmark itself is :mod:`partlift.experiments.partstad_benchmark`.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import click
import numpy as np

from partlift.commands.options import config_type, device_option
from partlift.datasets.cache import embedded_points_root
from partlift.datasets.loaders import load_partnete_split, partnete_categories
from partlift.errors import LabelMismatchError
from partlift.experiments.partstad_benchmark import BenchSettings, format_bench, quick_settings, run_bench
from partlift.models.device import resolve_device
from partlift.outputs import claim_output_dir, refuse_input_overwrite
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


@click.command("segment")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("input_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: <input stem>-parts).")
@click.option("--points", "num_points", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Points sampled from a mesh input.")
@click.option("--category", default=None, help="Category of the input; refused if the model was trained for another.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--force", is_flag=True, help="Write into a non-empty --out folder that partlift did not write.")
@device_option
def segment(model_dir, input_path, out_dir, num_points, category, seed, force, device) -> None:
    """Segment a point cloud (.ply) or a mesh into the parts a PartSTAD model was trained for.

    Writes <stem>_parts.ply (points coloured by part, with label / instance properties),
    <stem>_parts.json (labels, instances with confidences, timings) and <stem>_views.png.
    """
    from partlift.geometry.io import load_points_or_mesh, write_labelled_ply
    from partlift.partstad.model import PartSTAD
    from partlift.partstad.views import render_views
    from partlift.render.shading import label_colors
    from partlift.report.figures import save_png, view_mosaic

    model = PartSTAD.load(model_dir, device=resolve_device(device))
    if category:
        model.check_category(category)
    path = Path(input_path)
    pts, col, kind = load_points_or_mesh(path, num_points, seed)
    t0 = time.perf_counter()
    pred = model.predict(pts, col)
    seconds = time.perf_counter() - t0
    out = claim_output_dir(out_dir or f"{path.stem}-parts", "partstad-segmentation", force=force,
                           recognise=lambda p: any(p.glob("*_parts.json"))).path
    refuse_input_overwrite([out / f"{path.stem}_parts.{x}" for x in ("ply", "json")] + [out / f"{path.stem}_views.png"],
                           [path, model_dir])
    colors = label_colors(pred.semantic, model.num_parts)
    finite = np.isfinite(pts).all(1)
    write_labelled_ply(out / f"{path.stem}_parts.ply", np.where(finite[:, None], pts, 0.0), colors, pred.semantic,
                       pred.instances.ids)
    ins = pred.instances
    report = {
        "model": str(model_dir), "input": str(path), "input_kind": kind, "category": model.category,
        "part_names": list(model.part_names), "num_points": int(len(pts)),
        "num_nan_points": int((~finite).sum()),
        "part_point_counts": {n: int((pred.semantic == i).sum()) for i, n in enumerate(model.part_names)},
        "unlabelled_points": int((pred.semantic < 0).sum()),
        "instances": [
            {"id": i, "label": int(lab), "part": model.part_names[lab], "score": float(ins.scores[i]),
             "num_points": int((ins.ids == i).sum())}
            for i, lab in enumerate(ins.labels)
        ],
        "labels": pred.semantic.tolist(), "instance_ids": ins.ids.tolist(),
        "seconds": seconds, "timings": pred.timings,
    }
    (out / f"{path.stem}_parts.json").write_text(json.dumps(report))
    from partlift.geometry.normalize import unit_sphere_normalization

    keep = np.flatnonzero(finite)
    norm = unit_sphere_normalization(pts[keep])
    views = render_views(norm.apply(pts[keep]), colors[keep], model.config.views)
    save_png(out / f"{path.stem}_views.png", view_mosaic(list(views.image)))
    counts = ", ".join(f"{n}: {c}" for n, c in report["part_point_counts"].items())
    click.echo(f"{path.name} ({kind}): {counts}; unlabelled {report['unlabelled_points']}; "
               f"{len(ins)} instances; {seconds:.2f} s")
    click.echo(f"wrote {out}/{path.stem}_parts.ply, {path.stem}_parts.json, {path.stem}_views.png")


@click.command("partstad")
@click.option("--quick", is_flag=True, help="The <= 10-minute configuration (2 categories, 10 test shapes each).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None, help="Write the results JSON.")
@click.option("--categories", default=None, help="Comma-separated categories (default: all embedded ones).")
@click.option("--test-shapes", type=config_type(BenchSettings, "test_shapes"), default=None,
              help="Test shapes per category (default: all, quick: 10).")
@click.option("--proposer-steps", type=config_type(BenchSettings, "proposer_steps"), default=None,
              help="Training steps of the learned proposer (default 600, quick: 300).")
@click.option("--epochs", type=config_type(BenchSettings, "epochs"), default=None,
              help="Weight-network epochs (default 400, PartSTAD's).")
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Working folder (trained proposers, cache, results, PartNetE predictions); reruns resume.")
@click.option("--force", is_flag=True, help="Use a non-empty --workdir that partlift did not write.")
@device_option
@click.option("--progress/--no-progress", default=True, show_default=True)
def bench_partstad(quick, json_out, categories, test_shapes, proposer_steps, epochs, workdir, force, device,
                   progress) -> None:
    """PartSTAD, its ablations, PartSLIP and SATR on the embedded data: Tables 1-3 and timings."""
    from partlift.datasets.cache import default_cache_dir, in_cache_dir
    from partlift.datasets.generation import write_json_atomic

    settings = replace(quick_settings() if quick else BenchSettings(), device=str(resolve_device(device)))
    if categories:
        settings = replace(settings, categories=tuple(c.strip() for c in categories.split(",") if c.strip()))
    if test_shapes is not None:
        settings = replace(settings, test_shapes=int(test_shapes))
    if proposer_steps is not None:
        settings = replace(settings, proposer_steps=int(proposer_steps))
    if epochs is not None:
        settings = replace(settings, epochs=int(epochs))
    wd = Path(workdir) if workdir else default_cache_dir() / "partstad" / ("bench-quick" if quick else "bench")
    claim_output_dir(wd, "partstad-bench", force=force, option="--workdir", recognise=in_cache_dir)
    result = run_bench(settings, wd, progress=progress, log=click.echo)
    click.echo(format_bench(result))
    if json_out:
        write_json_atomic(json_out, result)
        click.echo(f"wrote {json_out}")
