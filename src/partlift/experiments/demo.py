"""``partlift demo``: both methods on the embedded data, end to end, into one HTML report.

Stages (each resumable; markers in ``<run_dir>/stages``, see :mod:`partlift.experiments.stages`):

1. ``partstad``         - :func:`partlift.experiments.partstad_benchmark.run_bench` on the PartSTAD categories
                          (trains the proposal CNN and the weight network, scores with the metrics layer).
2. ``partstad_gallery`` - views, proposals, predictions and ground truth of a few test shapes.
3. ``part321``          - :func:`partlift.experiments.part321_benchmark.run_bench` on the Part321 categories.
4. ``part321_gallery``  - input, predicted 2D parts, predicted 3D boxes and ground truth of a few images.
The page itself is drawn by :func:`partlift.report.demo_report.build_report` (cheap; ``partlift demo`` and
``partlift report`` call it after the stages).

Everything a stage computes is saved under the run folder, so ``partlift report RUN_DIR`` rebuilds the
page without recomputing, and the trained models of an interrupted run are reused by the next one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from partlift.experiments.part321_benchmark import BenchSettings as Part321Settings
from partlift.experiments.partstad_benchmark import BenchSettings as PartSTADSettings
from partlift.experiments.partstad_benchmark import PartstadMethod
from partlift.experiments.stages import StageRunner
from partlift.geometry.atomic import atomic_savez
from partlift.validation import bounded, validate_config

DEMO_FORMAT = "partlift-demo/1"


@dataclass(frozen=True)
class DemoConfig:
    """What ``partlift demo`` runs. :func:`demo_config` gives the full and ``--quick`` presets."""

    quick: bool = False
    """The <= 3-minute preset (tiny training; the numbers only show that everything runs)."""
    seed: int = bounded(0, ge=0)
    """Seed of every randomised step (data generation uses the embedded datasets' own seeds)."""
    partstad: PartSTADSettings = field(default_factory=PartSTADSettings)
    """PartSTAD benchmark settings (categories, proposer steps, epochs, test shapes)."""
    partstad_methods: tuple[PartstadMethod, ...] = ("satr", "partslip", "wo_weights", "partstad")
    """PartSTAD-side methods to run and compare."""
    part321: Part321Settings = field(default_factory=Part321Settings)
    """Part321 benchmark settings (categories, dataset size, training, test images)."""
    gallery_shapes: int = bounded(2, ge=0)
    """PartSTAD test shapes per category shown in the gallery."""
    gallery_images: int = bounded(3, ge=0)
    """Part321 test images per category shown in the gallery."""
    gallery_views: tuple[int, ...] = bounded((0, 5), ge=0, le=9)
    """Which of PartSLIP's 10 views the PartSTAD gallery shows."""

    def __post_init__(self) -> None:
        validate_config(self)

    def to_dict(self) -> dict:
        from partlift.datasets.generation import to_jsonable

        return to_jsonable(self)


def demo_config(quick: bool = False, seed: int = 0) -> DemoConfig:
    """The demo presets: 2 PartSTAD + 2 Part321 categories; full <= 15 min, quick <= 3 min on 2 CPU cores."""
    from partlift.experiments.part321_benchmark import quick_settings as part321_quick
    from partlift.part321.baseline2d import Seg2DTrainConfig
    from partlift.part321.correspondence import PretrainConfig
    from partlift.part321.deformation import DeformationConfig
    from partlift.part321.feature_training import FeatureTrainingConfig
    from partlift.part321.inference import InferenceConfig
    from partlift.part321.model import Part321Config

    base321 = part321_quick()
    if quick:
        pst = PartSTADSettings(categories=("Kettle", "Chair"), test_shapes=4, proposer_steps=80, epochs=60,
                               timing_shapes=1, seed=seed)
        model = Part321Config(
            pretrain=PretrainConfig(shapes_per_category=8, steps=300),
            deformation=DeformationConfig(steps=150),
            training=FeatureTrainingConfig(epochs=6),
            inference=InferenceConfig(pose_steps=40, part_steps=60),
        )
        p321 = replace(base321, categories=("car", "kettle"), test_images=3, n_points=1024, model=model,
                       dataset={"n_train_meshes": 4, "n_test_meshes": 1, "views_per_mesh": 10, "template_views": 10},
                       baseline=Seg2DTrainConfig(epochs=6), methods=("part321",))
        p321 = replace(p321, model=replace(p321.model, seed=seed))
        return DemoConfig(quick=True, seed=seed, partstad=pst, part321=p321, partstad_methods=("partslip", "partstad"),
                          gallery_shapes=1, gallery_images=2)
    pst = PartSTADSettings(categories=("Kettle", "Chair"), test_shapes=10, proposer_steps=300, epochs=200,
                           timing_shapes=2, seed=seed)
    p321 = replace(base321, categories=("car", "kettle"), test_images=6, methods=("part321",),
                   model=replace(base321.model, seed=seed))
    return DemoConfig(quick=False, seed=seed, partstad=pst, part321=p321)


def _write_json(path: Path, obj) -> None:
    from partlift.datasets.generation import write_json_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, obj)


# ------------------------------------------------------------------------------------------- PartSTAD
def _partstad_stage(cfg: DemoConfig, run_dir: Path, progress: bool, log) -> dict:
    from partlift.experiments.partstad_benchmark import run_bench

    result = run_bench(cfg.partstad, run_dir / "partstad", methods=cfg.partstad_methods, progress=progress, log=log)
    _write_json(run_dir / "partstad" / "results.json", result)
    return {"miou": {m: v["miou"] for m, v in result["methods"].items()}}


def _partstad_gallery(cfg: DemoConfig, run_dir: Path, log) -> dict:
    """Per category: a few test shapes' views, proposals, prediction and ground truth, saved as arrays
    (``partstad/gallery/data.json`` + one NPZ per shape) for :mod:`partlift.report.gallery` to draw."""
    from partlift.datasets.cache import embedded_points_root
    from partlift.datasets.loaders import load_partnete_split as load_split
    from partlift.partstad.model import PartSTAD, is_saved_model

    out = run_dir / "partstad" / "gallery"
    entries = []
    for cat in cfg.partstad.categories:
        model_dir = run_dir / "partstad" / cat / "model-partstad"
        if not is_saved_model(model_dir):
            log(f"[partstad_gallery] no finished PartSTAD model for {cat}; skipped")
            continue
        model = PartSTAD.load(model_dir, cache_dir=run_dir / "partstad" / "cache")
        shapes = load_split(embedded_points_root(cat, False), "test", cat, cfg.gallery_shapes)
        for s in shapes:
            ps = model.prepare(s, keep_images=True)
            pred = model.predict_prepared(ps)
            sem = pred.semantic[ps.keep_index]
            gt = np.asarray(s.labels)[ps.keep_index]
            views = [v for v in cfg.gallery_views if v < len(ps.views.image)]
            sel = np.isin(ps.proposals.view, views)
            npz = out / cat / f"{s.name}_gallery.npz"
            atomic_savez(
                npz, points=ps.points.astype(np.float32), pred=sem.astype(np.int16), gt=gt.astype(np.int16),
                views=np.asarray(views, np.int64), images=np.asarray(ps.views.image)[views],
                point_index=np.asarray(ps.views.point_index)[views],
                proposal_view=ps.proposals.view[sel], proposal_masks=ps.proposals.masks[sel],
                proposal_box=ps.proposals.box[sel], proposal_label=ps.proposals.label[sel],
                proposal_score=ps.proposals.score[sel])
            entries.append({"category": cat, "shape": s.name, "part_names": list(model.part_names),
                            "data": str(npz.relative_to(run_dir))})
    _write_json(out / "data.json", entries)
    return {"shapes": len(entries)}


# ------------------------------------------------------------------------------------------- Part321
def _part321_stage(cfg: DemoConfig, run_dir: Path, progress: bool, log, workers: int) -> dict:
    from partlift.experiments.executors import LocalExecutor
    from partlift.experiments.part321_benchmark import run_bench

    with LocalExecutor(workers) as pool:  # categories at once, one core each; the scores do not change
        result = run_bench(cfg.part321, run_dir / "part321", progress=progress, log=log, executor=pool)
    _write_json(run_dir / "part321" / "results.json", result)
    return {"pose_acc_pi6": {m: v["pose_acc_pi6"] for m, v in result["methods"].items()}}


def _part321_gallery(cfg: DemoConfig, run_dir: Path, log) -> dict:
    """Per category: the first test images with their predicted and ground-truth eval records, saved
    (``part321/gallery/data.json`` + one NPZ per image) for :mod:`partlift.report.gallery` to draw."""
    from partlift.datasets.cache import ensure_embedded_dataset
    from partlift.experiments.part321_benchmark import dataset_config
    from partlift.metrics.eval_formats import read_part321_record
    from partlift.part321.data import load_test_samples

    out = run_dir / "part321" / "gallery"
    records = run_dir / "part321" / "records"
    entries = []
    for cat in cfg.part321.category_list():
        root = ensure_embedded_dataset("images", cat, config=dataset_config(cfg.part321, cat), progress=False)
        samples, _ = load_test_samples(root, max_images=cfg.part321.test_images)
        for s in samples[: cfg.gallery_images]:
            iid = f"{s.shape_id}_{s.view:03d}"
            pred_path = records / "part321" / cat / f"{iid}.json"
            gt_path = records / "gt" / cat / f"{iid}.json"
            if not (pred_path.is_file() and gt_path.is_file()):
                log(f"[part321_gallery] no records for {cat}/{iid}; skipped")
                continue
            pred, gt = read_part321_record(pred_path), read_part321_record(gt_path)
            npz = out / cat / f"{iid}_image.npz"
            atomic_savez(npz, image=np.asarray(s.image), K=np.asarray(s.camera.K, np.float64))
            entries.append({"category": cat, "image": iid, "part_names": list(gt.part_names or pred.part_names or ()),
                            "pose_error_deg": _pose_error_deg(pred.pose, gt.pose),
                            "data": str(npz.relative_to(run_dir)),
                            "prediction": str(pred_path.relative_to(run_dir)),
                            "ground_truth": str(gt_path.relative_to(run_dir))})
    _write_json(out / "data.json", entries)
    return {"images": len(entries)}


def _pose_error_deg(pred_pose, gt_pose) -> float | None:
    from partlift.metrics.pose import pose_error

    if np.any(~np.isfinite(np.asarray(pred_pose, float))):
        return None
    return float(np.degrees(pose_error(pred_pose, gt_pose)))


# ------------------------------------------------------------------------------------------- driver
def run_demo(cfg: DemoConfig, run_dir: str | Path, progress: bool = True,
             log: Callable[[str], None] = print, workers: int = 1) -> Path:
    """Run (or resume) the demo in ``run_dir``; returns ``run_dir``, ready for
    :func:`partlift.report.demo_report.build_report`. ``workers``: Part321 categories trained and
    evaluated at once (processes; its loops use one core each), which changes times, not results."""
    from partlift.experiments.provenance import provenance

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_json(run_dir / "config.json", cfg.to_dict())
    t0 = time.perf_counter()
    runner = StageRunner(run_dir, log=log)
    key_pst = [cfg.partstad, cfg.partstad_methods]
    key_321 = [cfg.part321]
    runner.run("partstad", lambda: _partstad_stage(cfg, run_dir, progress, log), key=key_pst)
    runner.run("partstad_gallery", lambda: _partstad_gallery(cfg, run_dir, log),
               key=key_pst + [cfg.gallery_shapes, cfg.gallery_views])
    runner.run("part321", lambda: _part321_stage(cfg, run_dir, progress, log, workers), key=key_321)
    runner.run("part321_gallery", lambda: _part321_gallery(cfg, run_dir, log), key=key_321 + [cfg.gallery_images])
    info = {
        "format": DEMO_FORMAT,
        "provenance": provenance(cfg.seed, cfg.to_dict()),
        "stage_seconds": dict(runner.timings),
        "reused_stages": list(runner.skipped),
        "wall_seconds_this_run": time.perf_counter() - t0,
    }
    _write_json(run_dir / "run.json", info)
    return run_dir


def load_run_info(run_dir: str | Path) -> dict:
    """``run.json`` of a demo run (raises ReadError when the folder is not a finished demo run)."""
    from partlift.errors import ReadError

    p = Path(run_dir) / "run.json"
    if not p.is_file():
        if (Path(run_dir) / "stages").is_dir():
            raise ReadError(f"{run_dir} is an unfinished demo run (no run.json yet); `partlift demo --out {run_dir}` "
                            "continues it")
        raise ReadError(f"{run_dir} is not a partlift demo run (no run.json); run `partlift demo --out {run_dir}`")
    try:
        return json.loads(p.read_text())
    except ValueError as exc:
        raise ReadError(f"cannot read {p}: {exc}") from exc
