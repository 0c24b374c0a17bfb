"""The per-item work of ``partlift segment`` (PartSTAD) and ``partlift detect`` (Part321).

Each method has a job (its settings, frozen), a loader that rebuilds the model from a
:class:`~partlift.experiments.batch.ModelFiles` in a worker (once per worker) and an item function
that reads one input, predicts and writes that input's files. The same functions serve a single
input in the command's own process and batches on any executor. Pictures are drawn by the
function the command passes in the job (``save_views``, ``save_figure``): this layer does not draw.

Output files per item (docs/FORMATS.md, "Batch outputs"):

- segment: ``<out>/<folder>/<stem>_parts.ply``, ``<stem>_parts.json``, ``<stem>_views.png`` and
  ``label.npy``, the PartNetE prediction ``partlift eval partstad`` reads;
- detect: ``<out>/<folder>/<stem>_part321.json`` and ``.png``; for an image of a
  ``partlift make-dataset images`` folder also ``<out>/eval/gt/<category>/<stem>.json`` (its ground
  truth) and ``<out>/eval/part321/<category>/<stem>.json`` (the prediction), the records
  ``partlift eval part321`` reads.
"""

from __future__ import annotations

import functools
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from partlift.errors import LabelMismatchError, PartliftError, ReadError
from partlift.experiments.batch import (
    BatchItem,
    BatchManifest,
    BatchReport,
    ModelFiles,
    expand_inputs,
    hash_outputs,
    run_batch,
)
from partlift.experiments.executors import ExecutorConfig, Shared, make_executor
from partlift.outputs import refuse_input_overwrite

if TYPE_CHECKING:
    from partlift.datasets.loaders import ImageDataset
    from partlift.geometry.partmesh import PartMesh
    from partlift.part321.model import Part321, Part321Prediction
    from partlift.partstad.model import PartSTAD
    from partlift.render.camera import Camera

PARTSTAD_MODEL_FILES = ("config.json", "model.json", "weights.pt", "proposer")
"""What ``PartSTAD.load`` reads (a training cache beside them is not part of the model)."""
PART321_MODEL_FILES = ("config.json", "meta.json", "neural_mesh.pt", "feature_net.pt")
"""What ``Part321.load`` reads (checkpoints of an interrupted training are not part of the model)."""


def _load_from_files(files: ModelFiles, load: Callable[[Path], Any]) -> Any:
    """``load`` run on a private copy of the model files (deleted once loaded)."""
    with tempfile.TemporaryDirectory(prefix="partlift-model-") as tmp:
        return load(files.write_to(Path(tmp) / "model"))


# ============================================================================================ segment
@dataclass(frozen=True)
class SegmentJob:
    """Settings of ``partlift segment`` (every field but ``save_views`` changes the outputs).

    Attributes:
        out: the output folder.
        model_path: the model folder as the user named it (recorded in each result JSON).
        num_points: points sampled from a mesh input.
        seed: seed of that sampling.
        save_views: writes the views mosaic PNG: ``save_views(path, images, legend)`` with legend
            [(part name, (r, g, b))]; None = no picture.
    """

    out: str
    model_path: str
    num_points: int
    seed: int
    save_views: Callable[[Path, list[np.ndarray], list[tuple[str, tuple[int, ...]]]], None] | None = None
    device: str = "cpu"
    """Torch device the model runs on in every worker (``--device``)."""


@dataclass(frozen=True)
class SegmentPayload:
    model: ModelFiles
    job: SegmentJob


def load_segmenter(payload: SegmentPayload) -> tuple[PartSTAD, SegmentJob]:
    """Worker state of a segment batch: the PartSTAD model rebuilt from its files, and the job."""
    from partlift.partstad.model import PartSTAD

    return _load_from_files(payload.model, lambda p: PartSTAD.load(p, device=payload.job.device)), payload.job


def segment_item(state: tuple[PartSTAD, SegmentJob], item: BatchItem) -> dict[str, Any]:
    """Segment one input; write its PLY, JSON, views PNG and PartNetE ``label.npy``.

    Returns ``{"files": {path relative to out: sha256}, "summary": {...}}``.
    """
    from partlift.geometry.io import load_points_or_mesh, write_labelled_ply
    from partlift.geometry.normalize import unit_sphere_normalization
    from partlift.metrics.eval_formats import save_partnete_prediction
    from partlift.partstad.views import render_views
    from partlift.render.shading import label_colors

    model, job = state
    path = Path(item.path)
    if item.category is not None and item.category != model.category:
        raise LabelMismatchError(f"{path}: a {item.category} shape, but the model was trained for category "
                                 f"{model.category!r}")
    pts, col, kind = load_points_or_mesh(path, job.num_points, job.seed)
    t0 = time.perf_counter()
    pred = model.predict(pts, col)
    seconds = time.perf_counter() - t0
    out = Path(job.out)
    folder = out / item.folder
    stem = item.stem
    files = [folder / f"{stem}_parts.ply", folder / f"{stem}_parts.json", folder / "label.npy"]
    views_png = folder / f"{stem}_views.png"
    refuse_input_overwrite(files + [views_png], [path, job.model_path])
    folder.mkdir(parents=True, exist_ok=True)
    colors = label_colors(pred.semantic, model.num_parts)
    finite = np.isfinite(pts).all(1)
    write_labelled_ply(files[0], np.where(finite[:, None], pts, 0.0), colors, pred.semantic, pred.instances.ids)
    ins = pred.instances
    report = {
        "model": job.model_path, "input": str(path), "input_kind": kind, "category": model.category,
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
    files[1].write_text(json.dumps(report))
    save_partnete_prediction(folder, pred.semantic, ins.ids, ins.labels, ins.scores, model.part_names)
    if job.save_views is not None:
        keep = np.flatnonzero(finite)
        norm = unit_sphere_normalization(pts[keep])
        views = render_views(norm.apply(pts[keep]), colors[keep], model.config.views)
        swatches = np.round(label_colors(np.arange(-1, model.num_parts), model.num_parts) * 255).astype(int)
        legend = [(name, tuple(int(c) for c in swatches[k + 1])) for k, name in enumerate(model.part_names)]
        job.save_views(views_png, list(views.image), legend + [("unlabelled", tuple(int(c) for c in swatches[0]))])
        files.append(views_png)
    summary = {"input_kind": kind, "part_point_counts": report["part_point_counts"],
               "unlabelled_points": report["unlabelled_points"], "instances": len(ins), "seconds": seconds}
    return {"files": hash_outputs(out, files), "summary": summary}


# ============================================================================================ detect
@dataclass(frozen=True)
class DetectJob:
    """Settings of ``partlift detect`` (every field but ``save_figure`` changes the outputs).

    Attributes:
        out: the output folder.
        model_path: the model folder as the user named it.
        steps: part-stage steps (None = the model's).
        camera: intrinsics for images without an annotation (``--camera``), or None (the model's).
        camera_path: the file ``camera`` came from (never overwritten).
        n_points: surface points per part in the evaluation records.
        save_figure: writes the overlay PNG: ``save_figure(path, image, prediction)``; None = no picture.
    """

    out: str
    model_path: str
    steps: int | None = None
    camera: Camera | None = None
    camera_path: str | None = None
    n_points: int = 4096
    save_figure: Callable[[Path, np.ndarray, Part321Prediction], None] | None = None
    device: str = "cpu"
    use_camera_distance: bool = False
    """The object's distance is known: the camera's (``--camera`` or the dataset annotation's), kept fixed."""
    """Torch device the model runs on in every worker (``--device``)."""


@dataclass(frozen=True)
class DetectPayload:
    model: ModelFiles
    job: DetectJob


def load_detector(payload: DetectPayload) -> tuple[Part321, DetectJob]:
    """Worker state of a detect batch: the Part321 model rebuilt from its files, and the job."""
    from partlift.part321.model import Part321

    return _load_from_files(payload.model, lambda p: Part321.load(p, device=payload.job.device)), payload.job


def read_image(path: str | Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB, or a one-line ReadError naming the file."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except Exception as exc:  # PIL raises many types for damaged files
        raise ReadError(f"cannot read image {path}: {exc}") from exc


@functools.lru_cache(maxsize=8)
def _image_split(root: str, split: str) -> tuple[ImageDataset, dict[tuple[str, int], int]]:
    from partlift.datasets.loaders import ImageDataset

    ds = ImageDataset(root, split, with_gt=True)
    return ds, {(sid, int(ann.stem)): i for i, (sid, ann) in enumerate(ds.items)}


def _dataset_ground_truth(item: BatchItem) -> tuple[Any, PartMesh | None]:
    """The dataset sample of an item (camera, pose, mask) and its labelled mesh (None if unlabelled)."""
    assert item.dataset is not None
    ds, index = _image_split(item.dataset, item.split)
    i = index.get((item.shape_id, item.view))
    if i is None:
        raise ReadError(f"{item.path}: no annotation {item.split}/{item.shape_id}/annotation/{item.view:03d}.json "
                        f"in the dataset {item.dataset}")
    try:
        sample = ds[i]
        mesh = ds.mesh(item.shape_id)
    except (KeyError, ValueError) as exc:
        raise ReadError(f"{item.path}: damaged annotation in {item.dataset}: {exc}") from exc
    labelled = mesh if sample.mask is not None and mesh.labels is not None and bool(np.any(mesh.labels >= 0)) else None
    return sample, labelled


def detect_item(state: tuple[Part321, DetectJob], item: BatchItem) -> dict[str, Any]:
    """Recognise the parts in one image; write its JSON and overlay PNG, and for a dataset image the
    ground-truth and prediction records of ``partlift eval part321``.

    Returns ``{"files": {path relative to out: sha256}, "summary": {...}}``.
    """
    from partlift.datasets.generation import write_json_atomic
    from partlift.experiments.part321_scoring import ground_truth_record, prediction_record
    from partlift.geometry.io import save_part_mesh, write_label_png
    from partlift.geometry.partmesh import PartMesh

    model, job = state
    image = read_image(item.path)
    sample = mesh = None
    camera = job.camera
    if item.dataset is not None:
        sample, mesh = _dataset_ground_truth(item)
        camera = sample.camera
    cfg = model.config.inference if job.steps is None else replace(model.config.inference, part_steps=job.steps)
    if job.use_camera_distance and camera is None:
        raise PartliftError(f"{item.path}: --use-camera-distance needs --camera (or a dataset image, which has one)")
    pred = model.predict(image, camera, config=cfg, use_camera_distance=job.use_camera_distance)
    if isinstance(pred, dict):  # only with variants=
        raise TypeError("Part321.predict returned variants")
    out = Path(job.out)
    prefix = out / item.folder / f"{item.stem}_part321"
    parts_png = out / item.folder / f"{item.stem}_parts.png"
    parts_mesh = out / item.folder / f"{item.stem}_parts.ply"
    category = item.category or model.meta.get("category") or "object"
    record = out / "eval" / "part321" / category / f"{item.stem}.json"
    files = [prefix.with_suffix(".json"), parts_png, parts_mesh, parts_mesh.with_suffix(".labels.json"), record]
    refuse_input_overwrite(files + [prefix.with_suffix(".png")],
                           [item.path] + ([job.camera_path] if job.camera_path else []))
    start = pred.result.hypotheses[0]["start"][3] if pred.result.hypotheses else pred.distance
    result = {"model": job.model_path, "image": str(item.path), "category": model.meta.get("category"),
              "distance_init": {"source": "camera" if job.use_camera_distance else "estimated",
                                "value": float(start)},
              "outputs": {"part_mask": parts_png.name, "parts_mesh": parts_mesh.name,
                          "eval_record": str(record.relative_to(out))},
              **pred.to_dict()}
    write_json_atomic(files[0], result)
    write_label_png(parts_png, pred.mask)
    save_part_mesh(PartMesh(pred.vertices, pred.faces, pred.labels, pred.part_names), parts_mesh)
    prediction_record(pred, record, job.n_points)
    files += _mask_beside(record)
    if job.save_figure is not None:
        files.append(prefix.with_suffix(".png"))
        job.save_figure(files[-1], image, pred)
    if sample is not None and mesh is not None and item.category:
        gt = out / "eval" / "gt" / item.category / f"{item.stem}.json"
        ground_truth_record(sample, mesh, gt, job.n_points)
        files += [gt, *_mask_beside(gt)]
    summary = {"azimuth": pred.azimuth, "elevation": pred.elevation, "theta": pred.theta,
               "distance": pred.distance, "seconds": pred.seconds["total"], "distance_init": result["distance_init"],
               "flip_margin": pred.result.flip_margin}
    return {"files": hash_outputs(out, files), "summary": summary}


def _mask_beside(record: Path) -> list[Path]:
    """The ``<stem>_mask.png`` an eval record may have written beside itself."""
    mask = record.with_name(f"{record.stem}_mask.png")
    return [mask] if mask.is_file() else []


# ============================================================================================ a batch
def run_model_batch(
    job: SegmentJob | DetectJob,
    inputs: Sequence[str],
    category: str | None,
    settings: dict[str, Any],
    executor: ExecutorConfig,
    redo: bool = False,
    progress: bool = True,
) -> tuple[BatchReport, list[str]]:
    """Run ``segment`` or ``detect`` (by the type of ``job``) on every input into the claimed folder ``job.out``.

    Args:
        job: the method's settings; ``job.model_path`` has been loaded once by the caller (so a bad
            model fails before anything runs) and ``category`` is its category.
        inputs: command-line files, folders and glob patterns (:func:`expand_inputs`).
        category: the model's category: shapes or dataset images of other categories are left out
            (with a note); inputs without a category are all taken.
        settings: the settings that change the outputs, for the manifest's fingerprint.
        executor: backend, workers, cluster address.
        redo: replace a batch made with another model or other settings (else it is refused).
        progress: show a progress bar.

    Returns:
        The report (``summary.json``) and notes to print. Raises ReadError if no input is usable.
    """
    segment = isinstance(job, SegmentJob)
    out = Path(job.out)
    found = expand_inputs(inputs, "points" if segment else "images", out)
    notes = list(found.notes)
    others = sorted({it.category for it in found.items if it.category not in (None, category)}, key=str)
    items = [it for it in found.items if it.category in (None, category)]
    if others:
        n = len(found.items) - len(items)
        notes.append(f"note: left out {n} inputs of other categories ({', '.join(map(str, others))}); the model is "
                     f"for {category}")
    if not items and not found.problems:
        raise ReadError(f"no {category} inputs in {', '.join(inputs)} (found only {', '.join(map(str, others))})")
    files = ModelFiles.read(job.model_path, PARTSTAD_MODEL_FILES if segment else PART321_MODEL_FILES)
    model = {"path": job.model_path, "fingerprint": files.fingerprint(), "files": files.hashes()}
    manifest = BatchManifest(out, "segment" if segment else "detect", model, settings, redo=redo)
    if manifest.removed:
        notes.append(f"--redo: removed {len(manifest.removed)} files of the earlier batch")
    shared: Shared[Any, Any]
    if isinstance(job, SegmentJob):
        fn: Callable[..., dict[str, Any]] = segment_item
        shared = Shared(load_segmenter, SegmentPayload(files, job))
    else:
        fn = detect_item
        shared = Shared(load_detector, DetectPayload(files, job))
    with make_executor(executor) as ex:
        report = run_batch(ex, fn, items, manifest, shared, found.problems, progress)
    return report, notes
