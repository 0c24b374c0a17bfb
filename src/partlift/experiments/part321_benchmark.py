"""Benchmarks of Part321 on the embedded data: Table 1/4/5-style results and the Table 3 transfer.

:func:`run_bench` trains Part321 and the 2D baseline per category on an embedded DST-Part3D-style
dataset, evaluates the full model, the three ablations and the baseline on the test images, and
returns the JSON of ``partlift bench part321``. :func:`run_transfer_bench` scores mesh-to-mesh
correspondence methods by part transfer (``partlift bench transfer``).
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from partlift.datasets.cache import ensure_embedded_dataset
from partlift.datasets.generation import to_jsonable
from partlift.datasets.images import ImageDatasetConfig
from partlift.errors import ConfigError, PartliftError
from partlift.experiments.executors import Executor
from partlift.experiments.part321_diagnosis import diagnose_test_set, format_diagnosis, summarize_diagnosis
from partlift.experiments.part321_scoring import (
    BASELINE,
    METHODS,
    Part321Method,
    format_category_table,
    format_methods_table,
    predict_test_set,
    score_methods,
    summarize,
)
from partlift.experiments.part_transfer import transfer_scores
from partlift.geometry.atomic import atomic_write_json, atomic_write_text
from partlift.part321.baseline2d import Seg2DBaseline, Seg2DTrainConfig, pseudo_masks
from partlift.part321.correspondence import (
    CorrespondenceConfig,
    CorrespondenceMethod,
    MeshCorrespondence,
    PretrainConfig,
    pretrained_encoder,
)
from partlift.part321.data import load_test_samples, load_training_data
from partlift.part321.deformation import DeformationConfig
from partlift.part321.feature_training import FeatureTrainingConfig
from partlift.part321.model import MODEL_VERSION, Part321, Part321Config, is_saved_model, saved_model_version
from partlift.validation import bounded, validate_config


def _all_categories() -> tuple[str, ...]:
    from partlift.shapes.registry import list_categories

    return tuple(list_categories("part321"))


@dataclass(frozen=True)
class BenchSettings:
    """What ``partlift bench part321`` runs."""

    categories: tuple[str, ...] = ()
    """Categories (empty = all Part321 categories)."""
    test_images: int = bounded(15, ge=1)
    """Test images per category (spread over the test shapes: 3 views of each of the 5)."""
    n_points: int = bounded(4096, ge=1)
    """Surface samples per shape for the Chamfer distance and the boxes."""
    dataset: dict = field(default_factory=dict)
    """Overrides of the embedded dataset's ImageDatasetConfig (empty = the embedded default)."""
    model: Part321Config = field(default_factory=Part321Config)
    """Part321 settings."""
    baseline: Seg2DTrainConfig = field(default_factory=Seg2DTrainConfig)
    """2D baseline settings."""
    methods: tuple[Part321Method, ...] = METHODS
    """Part321 variants to evaluate (the full model first, then Table 5 ablations)."""
    with_baseline: bool = True
    """Also train and score the 2D U-Net baseline."""
    split: Literal["test", "val"] = "test"
    """Images to score: the embedded test images, or the validation images (other shapes and
    poses, :func:`validation_config`) on which settings are chosen."""
    distance: Literal["given", "estimated"] = "given"
    """"given": the test image's annotated camera distance is known and kept (NeMo's evaluation
    protocol, which rescales every image to a fixed object distance; docs/PART321.md);
    "estimated": Part321 estimates it from the object's extent, as ``partlift detect`` must on a photo."""
    diagnose: bool = False
    """Also score the test images under the diagnostic conditions of
    :mod:`partlift.experiments.part321_diagnosis` (true pose given, template only, oracle hypothesis);
    written under ``diagnostics`` in the bench JSON."""
    device: str = "cpu"
    """Torch device of Part321's feature training and inference (``--device``; the 2D baseline and
    rasterisation run on the CPU)."""

    def __post_init__(self) -> None:
        validate_config(self)

    def category_list(self) -> tuple[str, ...]:
        return tuple(self.categories) or _all_categories()


def quick_settings() -> BenchSettings:
    """A <= 15-minute configuration: 2 categories, small datasets, short training, 8 test images each."""
    model = Part321Config(
        pretrain=PretrainConfig(shapes_per_category=8, steps=300),
        deformation=DeformationConfig(steps=400),
        training=FeatureTrainingConfig(epochs=25),
    )
    return BenchSettings(
        categories=("car", "kettle"), test_images=8, n_points=2048,
        dataset={"n_train_meshes": 8, "n_test_meshes": 2, "views_per_mesh": 16, "template_views": 16},
        model=model, baseline=Seg2DTrainConfig(epochs=25),
    )


def dataset_config(settings: BenchSettings, category: str) -> ImageDatasetConfig:
    return replace(ImageDatasetConfig(category=category), **settings.dataset)


def validation_config(config: ImageDatasetConfig) -> ImageDatasetConfig:
    """The validation images of a dataset: its test split generated with the next seed (so other
    shapes, poses, materials and backgrounds), no template views and no training meshes."""
    return replace(config, seed=config.seed + 1, n_train_meshes=0, template_views=0)


def _stamp_matches(stamp: Path, text: str) -> bool:
    try:
        return stamp.read_text() == text
    except OSError:
        return False


def _same_training(stamp: Path, config: Part321Config) -> bool:
    """Whether the stamp records the same settings but for inference (which does not change a trained model)."""
    try:
        # read through the config class: a setting added since takes its default, so a model
        # trained before it existed is still the model its default would train
        saved = Part321Config.from_dict(json.loads(stamp.read_text())).to_dict()
    except (OSError, ValueError, TypeError, ConfigError):
        return False
    now = config.to_dict()
    return {k: v for k, v in saved.items() if k != "inference"} == {k: v for k, v in now.items() if k != "inference"}


def _train_or_load(settings: BenchSettings, root: Path, workdir: Path, progress: bool, log) -> tuple[Part321, dict]:
    """The category's model from ``workdir/model`` if a finished one was trained with these settings
    (``model_config.json``, written after the model, says so), else trained and saved."""
    model_dir = workdir / "model"
    cfg_json = json.dumps(settings.model.to_dict(), sort_keys=True)
    stamp = workdir / "model_config.json"
    if (is_saved_model(model_dir) and saved_model_version(model_dir) == MODEL_VERSION
            and _same_training(stamp, settings.model)):  # an older-format model is retrained
        model = Part321.load(model_dir, device=settings.device)
        model.config = replace(model.config, inference=settings.model.inference)
        if model.foreground is None:  # saved before the foreground head existed: add it, keep the rest
            t0 = time.perf_counter()
            model.fit_foreground(load_training_data(root).images)
            model.meta.setdefault("train_seconds", {})["foreground"] = time.perf_counter() - t0
            model.save(model_dir)
            log(f"  fitted the foreground head of {model_dir} ({time.perf_counter() - t0:.0f} s)")
        return model, dict(model.meta.get("bench_train", {}))
    if (model_dir / "config.json").is_file() and not is_saved_model(model_dir):
        log(f"  {model_dir} holds an unfinished model (interrupted save); training it again")
    stamp.unlink(missing_ok=True)  # the folder changes now: a stale stamp must not vouch for it
    data = load_training_data(root)
    t0 = time.perf_counter()
    model = Part321(settings.model, device=settings.device).fit(data.template, data.meshes, data.images,
                                                                 workdir=workdir, progress=progress)
    seconds = time.perf_counter() - t0
    info = {"train_seconds": seconds, "stages": model.meta["train_seconds"], "num_images": len(data.images)}
    model.meta["bench_train"] = info
    model.save(model_dir)
    atomic_write_text(stamp, cfg_json)  # last: the model folder is finished
    log(f"  trained Part321 in {seconds:.0f} s ({len(data.images)} images, {len(data.meshes)} meshes)")
    return model, info


def _train_baseline(settings, root, model: Part321, progress, log, workdir: Path | None = None) -> Seg2DBaseline:
    """Train the 2D baseline, or load the one an earlier run saved in ``workdir`` with the same settings."""
    key = json.dumps([to_jsonable(settings.baseline), settings.model.correspondence.method], sort_keys=True)
    if workdir is not None:
        # baseline2d_config.json is written last: it vouches for the weights and the seconds
        path, stamp = workdir / "baseline2d.pt", workdir / "baseline2d_config.json"
        if path.is_file() and _stamp_matches(stamp, key):
            base = Seg2DBaseline.load(path)
            base.seconds = json.loads((workdir / "baseline2d_seconds.json").read_text())["seconds"]
            log(f"  reusing the 2D baseline in {path}")
            return base
        stamp.unlink(missing_ok=True)
    data = load_training_data(root)
    encoder = None if settings.model.correspondence.method == "geometric" else pretrained_encoder(
        settings.model.pretrain)
    corr = MeshCorrespondence(settings.model.correspondence, encoder)
    masks = pseudo_masks(data.template, data.meshes, data.images, corr)
    base = Seg2DBaseline(settings.baseline).fit([im.image for im in data.images], masks,
                                                data.template.part_names, progress=progress)
    log(f"  trained the 2D baseline in {base.seconds:.0f} s")
    if workdir is not None:
        base.save(workdir / "baseline2d.pt")
        atomic_write_json(workdir / "baseline2d_seconds.json", {"seconds": base.seconds})
        atomic_write_text(workdir / "baseline2d_config.json", key)  # last: vouches for the two above
    return base


@dataclass(frozen=True)
class _CategoryJob:
    """One category of :func:`run_bench` (picklable: pool and Ray workers receive it)."""

    settings: BenchSettings
    workdir: str
    category: str
    progress: bool


def _bench_category(job: _CategoryJob, log: Callable[[str], None] | None = None) -> dict:
    """Train or load, predict and (optionally) diagnose one category; its records go to
    ``workdir/records``. Returns {"timing", "diagnosis", "log"} (the log lines when ``log`` is None)."""
    settings, workdir, cat, progress = job.settings, Path(job.workdir), job.category, job.progress
    lines: list[str] = []
    say = log if log is not None else lines.append
    say(f"[{cat}]")
    root = ensure_embedded_dataset("images", cat, config=dataset_config(settings, cat), progress=progress)
    model, info = _train_or_load(settings, root, workdir / cat, progress, say)
    baseline = _train_baseline(settings, root, model, progress, say, workdir / cat) if settings.with_baseline else None
    eval_root = root if settings.split == "test" else ensure_embedded_dataset(
        "images", cat, config=validation_config(dataset_config(settings, cat)), progress=progress)
    samples, meshes = load_test_samples(eval_root, max_images=settings.test_images)
    t = predict_test_set(model, samples, meshes, workdir / "records", cat, settings.methods, baseline,
                         settings.n_points, use_camera_distance=settings.distance == "given")
    say(f"  {t['num_images']} test images, {t['seconds_per_image']:.2f} s/image (full model)")
    diag = (diagnose_test_set(model, samples, meshes, workdir / "diagnosis", cat, settings.n_points,
                              distance_given=settings.distance == "given") if settings.diagnose else [])
    timing = {**t, "train_seconds": info.get("train_seconds", math.nan), "train_stages": info.get("stages", {}),
              "baseline_train_seconds": baseline.seconds if baseline else math.nan}
    return {"timing": timing, "diagnosis": diag, "log": lines}


def _on_workers(executor: Executor | None, jobs: int) -> bool:
    """Whether the categories go to the executor's workers. One local worker or one category runs in
    this process instead: live log lines and progress bars, and errors keep their tracebacks."""
    return executor is not None and jobs > 1 and not (executor.backend == "local" and executor.workers <= 1)


def _bench_categories(jobs: list[_CategoryJob], executor: Executor | None, log: Callable[[str], None]) -> list[dict]:
    """:func:`_bench_category` of every job, in the jobs' order; on the executor's workers when
    :func:`_on_workers` says so (each category's log is printed when it finishes)."""
    if executor is None or not _on_workers(executor, len(jobs)):
        return [_bench_category(job, log) for job in jobs]
    out: list[dict | None] = [None] * len(jobs)
    for o in executor.map_unordered(_bench_category, [replace(j, progress=False) for j in jobs]):
        cat = jobs[o.index].category
        if o.error is not None:
            if o.details:
                log(o.details.rstrip())
            msg = f"bench part321, category {cat}: {o.error}"
            raise PartliftError(msg) if o.bad_input else RuntimeError(msg)
        for line in o.value["log"]:
            log(line)
        out[o.index] = o.value
    return [v for v in out if v is not None]


def run_bench(
    settings: BenchSettings,
    workdir: str | Path,
    progress: bool = True,
    log: Callable[[str], None] = print,
    executor: Executor | None = None,
) -> dict:
    """Train and evaluate every method on every category; returns the bench JSON (module docstring).

    ``executor``: categories run on its workers at once (a local process pool or Ray; the workdir
    and the data cache must be visible to every worker). Each category is seeded alone, so the
    numbers do not depend on it; the per-image seconds do (workers share the machine).
    """
    workdir = Path(workdir)
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    if settings.model.correspondence.method != "geometric":
        pretrained_encoder(settings.model.pretrain, progress=progress)
    pretrain_seconds = time.perf_counter() - t0
    records = workdir / "records"
    shutil.rmtree(records, ignore_errors=True)  # records of an earlier run would be scored again
    shutil.rmtree(workdir / "diagnosis", ignore_errors=True)
    jobs = [_CategoryJob(settings, str(workdir), cat, progress) for cat in settings.category_list()]
    done = _bench_categories(jobs, executor, log)
    timing: dict = {"per_category": {job.category: d["timing"] for job, d in zip(jobs, done, strict=True)}}
    diag_rows = [row for d in done for row in d["diagnosis"]]
    reports = score_methods(records, (*settings.methods, BASELINE) if settings.with_baseline else settings.methods)
    methods = summarize(reports)
    per = timing["per_category"].values()
    timing.update({
        "seconds_per_image": float(np.nanmean([p["seconds_per_image"] for p in per])),
        "train_seconds_per_category": float(np.nanmean([p["train_seconds"] for p in per])),
        "pretrain_seconds": pretrain_seconds,
        "total_seconds": time.perf_counter() - t_start,
        "workers": executor.workers if executor is not None and _on_workers(executor, len(jobs)) else 1,
    })
    diagnostics = ({"conditions": summarize_diagnosis(diag_rows, workdir / "diagnosis"), "images": diag_rows}
                   if settings.diagnose else None)
    return {
        "benchmark": "part321",
        "settings": to_jsonable(settings),
        "methods": methods,
        "timing": timing,
        "diagnostics": diagnostics,
        "notes": [
            "chamfer: squared, mean per direction, directions summed, x100, camera frame (unit-box objects)",
            "box_iou: exact IoU of min-volume oriented boxes fitted to part surface samples, camera frame",
            "seg2d_baseline: U-Net trained on the same images with template + pseudo masks; 2D only",
            "ablations share the full model's grid search and pose stage; they differ in the part stage",
        ],
    }


def format_bench(result: dict) -> str:
    """The printed tables of :func:`run_bench`."""
    m = result["methods"]
    t = result["timing"]
    out = ["Part321 vs ablations (Table 5) and the 2D baseline (Table 4 style):", format_methods_table(m), "",
           "Part321 per category (Table 1 style):", format_category_table(m, "part321"), "",
           f"timing: {t['seconds_per_image']:.2f} s/image (full model), "
           f"{t['train_seconds_per_category']:.0f} s training/category, pretraining {t['pretrain_seconds']:.0f} s, "
           f"total {t['total_seconds']:.0f} s"]
    if result.get("diagnostics"):
        out += ["", "Diagnosis (the same test images under controlled conditions):",
                format_diagnosis(result["diagnostics"]["conditions"])]
    return "\n".join(out)


# ----------------------------------------------------------------------------------- transfer
@dataclass(frozen=True)
class TransferSettings:
    """What ``partlift bench transfer`` runs."""

    categories: tuple[str, ...] = ()
    """Categories (empty = all Part321 categories)."""
    meshes: int = bounded(15, ge=1)
    """Target meshes per category (the embedded dataset's train + test shape seeds)."""
    methods: tuple[CorrespondenceMethod, ...] = ("pointnet", "geometric", "hybrid")
    """Correspondence methods."""
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    """PointNet++ pretraining (cached)."""

    def __post_init__(self) -> None:
        validate_config(self)


def run_transfer_bench(settings: TransferSettings = TransferSettings(), progress: bool = True,
                       log: Callable[[str], None] = print) -> dict:
    """Table 3: per category and method, mean part box IoU, correspondence error, label accuracy."""
    from partlift.shapes.registry import generate

    cats = tuple(settings.categories) or _all_categories()
    encoder = None
    if any(m != "geometric" for m in settings.methods):
        encoder = pretrained_encoder(settings.pretrain, progress=progress)
    base = ImageDatasetConfig()
    seeds = [base.shape_seed("train", i) for i in range(base.n_train_meshes)]
    seeds += [base.shape_seed("test", i) for i in range(base.n_test_meshes)]
    out: dict = {m: {"per_category": {}} for m in settings.methods}
    for cat in cats:
        template = generate(cat, base.shape_seed("template", 0))
        meshes = [generate(cat, s) for s in seeds[: settings.meshes]]
        for m in settings.methods:
            s = transfer_scores(MeshCorrespondence(CorrespondenceConfig(method=m), encoder), template, meshes)
            out[m]["per_category"][cat] = {"box_iou": s.box_iou, "corr_error": s.corr_error,
                                           "label_accuracy": s.label_accuracy, "per_part_box_iou": s.part_box_iou,
                                           "num_meshes": s.num_meshes, "seconds": s.seconds}
        log(f"[{cat}] " + "  ".join(f"{m}: IoU {out[m]['per_category'][cat]['box_iou'] * 100:.1f}" for m in
                                     settings.methods))
    for m in settings.methods:
        pc = out[m]["per_category"].values()
        out[m]["box_iou"] = float(np.mean([v["box_iou"] for v in pc]))
        out[m]["corr_error"] = float(np.mean([v["corr_error"] for v in pc]))
        out[m]["label_accuracy"] = float(np.mean([v["label_accuracy"] for v in pc]))
    return {"benchmark": "transfer", "settings": to_jsonable(settings), "methods": out,
            "notes": ["box_iou: mean over parts of the IoU of min-volume oriented boxes of transferred vs true "
                      "part vertices; corr_error: mean distance (unit-box units) between predicted and true "
                      "corresponding vertices of the template's vertices"]}


def format_transfer(result: dict) -> str:
    methods = list(result["methods"])
    cats = list(result["methods"][methods[0]]["per_category"])
    rows = [["category"] + [f"{m} IoU" for m in methods] + [f"{m} err" for m in methods]]
    for c in cats + ["mean"]:
        row = [c]
        for m in methods:
            v = result["methods"][m]["box_iou"] if c == "mean" else result["methods"][m]["per_category"][c]["box_iou"]
            row.append(f"{v * 100:.1f}")
        for m in methods:
            v = (result["methods"][m]["corr_error"] if c == "mean"
                 else result["methods"][m]["per_category"][c]["corr_error"])
            row.append(f"{v:.3f}")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
