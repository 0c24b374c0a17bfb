"""``partlift eval part321``: pose accuracy, per-part Chamfer, 3D box IoU and 2D part mIoU.

Per image (one JSON record per image, docs/FORMATS.md): the pose error; for each ground-truth part
the Chamfer distance between predicted and ground-truth points and the IoU of their 3D boxes; the
2D part-mask intersection/union counts. Per category: pose Acc@pi/6, Acc@pi/18, median error;
per part mean Chamfer (images where both point sets are non-empty), mean box IoU (images whose
ground truth has the part; a missed part scores 0), 2D IoU (pixels summed over images); the category
value is the mean over its parts and the overall value the mean over categories (Part321 reports
means over parts and categories).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from partlift.errors import LabelMismatchError
from partlift.geometry.boxes import Box3D, aabb, oriented_box
from partlift.metrics.box3d import DEFAULT_MIN_SIZE, box_iou_3d
from partlift.metrics.chamfer import ChamferOptions, chamfer_distance
from partlift.metrics.eval_formats import Part321Part, Part321Record, read_part321_record
from partlift.metrics.eval_report import EvalReport
from partlift.metrics.image2d import part_mask_counts
from partlift.metrics.io import Problems, check_extra, check_root, discover_records, read_meta
from partlift.metrics.pose import pose_error, pose_tables
from partlift.metrics.tables import MetricTable, nanmean
from partlift.validation import bounded, validate_config


@dataclass(frozen=True)
class Part321EvalOptions:
    """Options of the Part321 evaluation (all recorded in the JSON output)."""

    chamfer: ChamferOptions = field(default_factory=ChamferOptions)
    """Chamfer conventions (default: squared, mean per direction, directions summed, x100)."""
    box_min_size: float = bounded(DEFAULT_MIN_SIZE, ge=0)
    """Sides of 3D boxes are raised to at least this before the volume IoU (flat parts)."""
    box_fit: Literal["oriented", "aabb"] = "oriented"
    """Box fitted to a part's points when its record has no box: "oriented" (min-volume) or "aabb"."""
    include_background: bool = False
    """Count the background as a class in the 2D mIoU."""
    allow_missing: bool = False
    """Score a missing prediction record (or a part missing from one) as empty instead of failing."""

    def __post_init__(self) -> None:
        validate_config(self)



def _part_box(part: Part321Part, fit: str) -> Box3D | None:
    if part.box is not None:
        return part.box
    if part.points is None or len(part.points) == 0:
        return None
    return oriented_box(part.points) if fit == "oriented" else aabb(part.points)


@dataclass
class _CategoryAccumulator:
    names: tuple[str, ...]
    pose_err: list[float] = field(default_factory=list)
    chamfer: dict[str, list[float]] = field(default_factory=dict)
    chamfer_missed: dict[str, int] = field(default_factory=dict)
    box_iou: dict[str, list[float]] = field(default_factory=dict)
    inter: np.ndarray | None = None
    union: np.ndarray | None = None
    image_miou: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        for n in self.names:
            self.chamfer[n], self.box_iou[n], self.chamfer_missed[n] = [], [], 0


def _class_names(names: tuple[str, ...], include_background: bool) -> list[str]:
    return [*names, "background"] if include_background else list(names)


def _validate_pair(
    gt: Part321Record, pred: Part321Record, names: tuple[str, ...], gt_file: Path, pred_file: Path,
    options: Part321EvalOptions, problems: Problems,
) -> bool:
    ok = True
    if not np.all(np.isfinite(gt.pose)):
        problems.add(gt_file, f"ground-truth pose {gt.pose.tolist()} is not finite")
        ok = False
    for rec, f in ((gt, gt_file), (pred, pred_file)):
        unknown = [p for p in rec.parts if p not in names]
        if unknown:
            problems.add(f, f"unknown part name(s) {unknown}; the category's parts are {list(names)}",
                         LabelMismatchError)
            ok = False
        if rec.part_names is not None and tuple(rec.part_names) != names:
            problems.add(f, f"part_names {list(rec.part_names)} differ from the category's {list(names)}",
                         LabelMismatchError)
            ok = False
    for name, part in gt.parts.items():
        if (part.points is None or len(part.points) == 0) and part.box is None:
            problems.add(gt_file, f"ground-truth part {name!r} has neither points nor a box")
            ok = False
    absent = [n for n in gt.parts if n not in pred.parts]
    if absent and not options.allow_missing:
        problems.add(pred_file, f"part(s) {absent} of the ground truth are not listed (write an empty entry for a "
                                "part that was not found, or use --allow-missing)", LabelMismatchError)
        ok = False
    if gt.mask is not None:
        if pred.mask is None and not options.allow_missing:
            problems.add(pred_file, "has no 'mask' but the ground truth has one (use --allow-missing to score it "
                                    "as all background)")
            ok = False
        elif pred.mask is not None and pred.mask.shape != gt.mask.shape:
            problems.add(pred_file, f"mask is {pred.mask.shape[0]}x{pred.mask.shape[1]} but the ground truth's "
                                    f"is {gt.mask.shape[0]}x{gt.mask.shape[1]}", LabelMismatchError)
            ok = False
    for rec, f in ((gt, gt_file), (pred, pred_file)):
        m = rec.mask
        if m is not None and m.size and (m.min() < -1 or m.max() >= len(names)):
            problems.add(f, f"mask labels {int(m.min())}..{int(m.max())} outside -1..{len(names) - 1}",
                         LabelMismatchError)
            ok = False
    return ok


def evaluate_part321(
    gt_dir: str | os.PathLike,
    pred_dir: str | os.PathLike,
    options: Part321EvalOptions = Part321EvalOptions(),
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Evaluate Part321-style per-image predictions against ground-truth records (module docstring).

    Part names of a category come from ``<gt root>/meta.json`` if present, else from the
    ``part_names`` of its ground-truth records (which must all agree). All input problems are
    collected and raised together, naming the files.
    """
    gt_root, pred_root = check_root(gt_dir, "ground-truth"), check_root(pred_dir, "prediction")
    problems = Problems()
    meta = read_meta(gt_root, problems)
    gt_index, pred_index = discover_records(gt_root), discover_records(pred_root)
    check_extra(gt_index, pred_index, pred_root, problems, "record")
    if not any(gt_index.values()):
        problems.add(gt_root, "no ground-truth records (<Category>/<image_id>.json) found")
    pred_known = {c: set(v) for c, v in pred_index.items()}
    acc: dict[str, _CategoryAccumulator] = {}
    missing: list[str] = []
    total, done = sum(len(v) for v in gt_index.values()), 0
    for cat, ids in gt_index.items():
        names: tuple[str, ...] | None = tuple(meta[cat]) if meta is not None and cat in meta else None
        if meta is not None and names is None:
            problems.add(gt_root / cat, f"unknown category {cat!r}: not in meta.json", LabelMismatchError)
        for iid in ids:
            done += 1
            if progress is not None:
                progress(done, total)
            gt_file, pred_file = gt_root / cat / f"{iid}.json", pred_root / cat / f"{iid}.json"
            n_before = len(problems)
            gt = pred = None
            with problems.capture(gt_file):
                gt = read_part321_record(gt_file)
            if iid in pred_known.get(cat, ()):
                with problems.capture(pred_file):
                    pred = read_part321_record(pred_file)
            elif options.allow_missing:
                missing.append(f"{cat}/{iid}")
            else:
                problems.add(pred_file, "missing prediction (use --allow-missing to score it as empty)")
            if gt is None or len(problems) > n_before:
                continue
            if names is None:
                if meta is not None:
                    continue
                if gt.part_names is None:
                    problems.add(gt_file, "ground-truth record has no part_names and there is no meta.json")
                    continue
                names = tuple(gt.part_names)
            if pred is None:  # allowed missing: no pose, no parts, no mask
                pred = Part321Record(np.full(3, np.nan), {}, None, None)
            if not _validate_pair(gt, pred, names, gt_file, pred_file, options, problems) or len(problems):
                continue
            a = acc.setdefault(cat, _CategoryAccumulator(names))
            with problems.capture(pred_file):
                _accumulate(a, gt, pred, options)
    problems.raise_if_any(f"the evaluation inputs (ground truth {gt_root}, predictions {pred_root})")
    return _report(acc, options, missing, {c: len(v) for c, v in gt_index.items()}, meta is not None)


def _accumulate(a: _CategoryAccumulator, gt: Part321Record, pred: Part321Record, options: Part321EvalOptions) -> None:
    a.pose_err.append(pose_error(pred.pose, gt.pose))
    empty = Part321Part()
    for name, gpart in gt.parts.items():
        ppart = pred.parts.get(name, empty)
        if gpart.points is not None and len(gpart.points):
            if ppart.points is not None and len(ppart.points):
                a.chamfer[name].append(chamfer_distance(ppart.points, gpart.points, options.chamfer))
            else:
                a.chamfer_missed[name] += 1
        gbox, pbox = _part_box(gpart, options.box_fit), _part_box(ppart, options.box_fit)
        assert gbox is not None  # _validate_pair refuses a ground-truth part without points or box
        a.box_iou[name].append(0.0 if pbox is None else box_iou_3d(pbox, gbox, options.box_min_size))
    if gt.mask is not None:
        pm = pred.mask if pred.mask is not None else np.full(gt.mask.shape, -1, dtype=np.int64)
        inter, union = part_mask_counts(pm, gt.mask, len(a.names), options.include_background)
        a.inter = inter if a.inter is None else a.inter + inter
        a.union = union if a.union is None else a.union + union
        a.image_miou.append(float(np.mean(inter[union > 0] / union[union > 0])) if (union > 0).any() else math.nan)


def _report(
    acc: dict[str, _CategoryAccumulator], options: Part321EvalOptions, missing: list[str],
    num_images: dict[str, int], from_meta: bool,
) -> EvalReport:
    pose = pose_tables({c: np.asarray(a.pose_err) for c, a in acc.items()})
    chamfer = MetricTable.from_parts(
        "chamfer", {c: {n: nanmean(v) for n, v in a.chamfer.items()} for c, a in acc.items()}, higher_is_better=False)
    box = MetricTable.from_parts(
        "box_iou_3d", {c: {n: nanmean(v) for n, v in a.box_iou.items()} for c, a in acc.items()})
    miou2d: dict[str, dict[str, float]] = {}
    for c, a in acc.items():
        cls = _class_names(a.names, options.include_background)
        if a.inter is None or a.union is None:
            miou2d[c] = dict.fromkeys(cls, math.nan)
        else:
            miou2d[c] = {n: (float(i / u) if u > 0 else math.nan)
                         for n, i, u in zip(cls, a.inter, a.union, strict=True)}
    m2d = MetricTable.from_parts("miou_2d", miou2d)
    m2d_img = MetricTable.from_categories("miou_2d_per_image", {c: nanmean(a.image_miou) for c, a in acc.items()})
    tables = [*pose, chamfer, box, m2d, m2d_img]
    scales = [100.0, 100.0, 1.0, 1.0, 100.0, 100.0, 100.0]
    missed = {c: {n: k for n, k in a.chamfer_missed.items() if k} for c, a in acc.items()}
    missed = {c: v for c, v in missed.items() if v}
    ch = options.chamfer
    notes = [f"chamfer: {'squared' if ch.squared else 'unsquared'} distances, mean per direction, directions "
             f"{'summed' if ch.reduction == 'sum' else 'averaged'}, x{ch.scale:g}; pose_median_deg in degrees"]
    if missing:
        notes.append(f"{len(missing)} image(s) had no prediction and were scored as empty: {', '.join(missing)}")
    if missed:
        n = sum(sum(v.values()) for v in missed.values())
        notes.append(f"{n} part prediction(s) had no points: left out of the Chamfer means (box IoU counts them "
                     f"as 0); per part in counts.chamfer_missed")
    opts = asdict(options)
    opts["part_names_source"] = "meta.json" if from_meta else "ground-truth records"
    counts = {"num_images": num_images, "missing_predictions": missing, "chamfer_missed": missed,
              "chamfer_evaluated": {c: {n: len(v) for n, v in a.chamfer.items()} for c, a in acc.items()}}
    return EvalReport("part321", opts, tables, scales, counts, notes, digits=2)
