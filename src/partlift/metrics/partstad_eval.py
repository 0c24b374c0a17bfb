"""``partlift eval partstad``: semantic mIoU and instance mAP50 over a PartNetE-layout directory pair.

Ground truth and predictions are read one shape at a time (a PartNetE test split has ~1,900 shapes
of ~10^5 points each); only per-shape IoUs and matching statistics are kept.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from partlift.errors import LabelMismatchError
from partlift.metrics.eval_formats import PartneteLabels, read_partnete_label_file
from partlift.metrics.eval_report import EvalReport
from partlift.metrics.instance import ShapeInstanceStats, instance_map_from_stats, shape_instance_stats_from_labels
from partlift.metrics.io import Problems, check_extra, check_root, discover_partnete, read_meta
from partlift.metrics.partnete_meta import PARTNETE_PARTS
from partlift.metrics.segmentation import semantic_miou_from_ious, shape_part_ious
from partlift.validation import bounded, validate_config


@dataclass(frozen=True)
class PartstadEvalOptions:
    """Options of the PartNetE evaluation (all recorded in the JSON output)."""

    semantic: bool = True
    """Compute semantic mIoU."""
    instance: bool = True
    """Compute part-aware and part-agnostic mAP (needs ``instance_seg`` in ground truth and predictions)."""
    iou_threshold: float = bounded(0.5, ge=0, le=1)
    """Instance match threshold; a match needs IoU strictly greater."""
    ap_origin_point: bool = True
    """Prepend (recall 0, precision 1) to the PR curve, as PartNet's AP code does."""
    allow_missing: bool = False
    """Score a shape without a prediction file as empty (all -1, no instances) instead of failing."""

    def __post_init__(self) -> None:
        validate_config(self)


def _check_range(a: np.ndarray, n: int, what: str, where: Path, problems: Problems) -> bool:
    if a.size and (a.min() < -1 or a.max() >= n):
        problems.add(where, f"{what} has labels {int(a.min())}..{int(a.max())} but the category has {n} parts "
                            f"(valid: -1..{n - 1})", LabelMismatchError)
        return False
    return True


def _check_names(lab: PartneteLabels, names: tuple[str, ...], where: Path, problems: Problems) -> bool:
    if lab.part_names is not None and tuple(lab.part_names) != tuple(names):
        unknown = [s for s in lab.part_names if s not in names]
        problems.add(where, f"part_names {list(lab.part_names)} differ from the category's {list(names)}"
                            + (f" (unknown names: {unknown})" if unknown else ""), LabelMismatchError)
        return False
    return True


def evaluate_partstad(
    gt_dir: str | os.PathLike,
    pred_dir: str | os.PathLike,
    options: PartstadEvalOptions = PartstadEvalOptions(),
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Evaluate predictions against PartNetE ground truth (layouts in docs/FORMATS.md).

    Every problem in the inputs (missing prediction, point-count mismatch, unknown category or part
    name, labels out of range, missing instance fields) is collected and raised together as one
    ReadError / LabelMismatchError listing the files. ``progress(done, total)`` is called per shape.
    """
    gt_root, pred_root = check_root(gt_dir, "ground-truth"), check_root(pred_dir, "prediction")
    problems = Problems()
    inputs = _discover_inputs(gt_root, pred_root, problems)
    scores = _score_shapes(inputs, options, problems, progress)
    problems.raise_if_any(f"the evaluation inputs (ground truth {gt_root}, predictions {pred_root})")
    return _report(inputs, scores, options)


@dataclass
class _Inputs:
    """The shapes to evaluate: ``gt_index`` / ``pred_index`` map a category to its shape ids;
    ``table`` maps a category to its part names (``meta`` when the ground truth has a meta.json)."""

    gt_root: Path
    pred_root: Path
    meta: dict[str, tuple[str, ...]] | None
    table: dict[str, tuple[str, ...]]
    gt_index: dict[str, list[str]]
    pred_index: dict[str, list[str]]


@dataclass
class _Scores:
    """Per category of the known categories: each scored shape's (P,) part IoUs and instance
    matching statistics, in ground-truth order; ``missing`` lists the "<category>/<shape>" scored
    as empty."""

    ious: dict[str, list[np.ndarray]]
    stats: dict[str, list[ShapeInstanceStats]]
    missing: list[str] = field(default_factory=list)


def _discover_inputs(gt_root: Path, pred_root: Path, problems: Problems) -> _Inputs:
    """List the shapes of both folders and the part names of each category; records a bad meta.json,
    prediction shapes without ground truth, an empty ground truth and unknown categories."""
    meta = read_meta(gt_root, problems)
    table = meta if meta is not None else PARTNETE_PARTS
    gt_index, pred_index = discover_partnete(gt_root), discover_partnete(pred_root)
    check_extra(gt_index, pred_index, pred_root, problems, "shape")
    if not any(gt_index.values()):
        problems.add(gt_root, "no ground-truth shapes (<Category>/<shape_id>/label.npy) found")
    for cat in gt_index:
        if cat not in table:
            src = "meta.json" if meta is not None else "the built-in PartNetE table"
            problems.add(gt_root / cat, f"unknown category {cat!r}: not in {src}", LabelMismatchError)
    return _Inputs(gt_root, pred_root, meta, table, gt_index, pred_index)


def _score_shapes(
    inputs: _Inputs, options: PartstadEvalOptions, problems: Problems, progress: Callable[[int, int], None] | None,
) -> _Scores:
    """Read, check and score every ground-truth shape in order. Once any problem is recorded, the
    remaining shapes are still read and checked (to list every problem) but no longer scored."""
    table, pred_known = inputs.table, {c: set(v) for c, v in inputs.pred_index.items()}
    ious: dict[str, list[np.ndarray]] = {c: [] for c in inputs.gt_index if c in table}
    scores = _Scores(ious, {c: [] for c in ious})
    total, done = sum(len(v) for v in inputs.gt_index.values()), 0
    for cat, shape_ids in inputs.gt_index.items():
        names = tuple(table.get(cat, ()))
        for sid in shape_ids:
            done += 1
            if progress is not None:
                progress(done, total)
            gt_file = inputs.gt_root / cat / sid / "label.npy"
            pred_file = inputs.pred_root / cat / sid / "label.npy"
            n_before = len(problems)
            gt, pred, absent = _read_shape(gt_file, pred_file, sid in pred_known.get(cat, ()), options, problems)
            if absent:
                scores.missing.append(f"{cat}/{sid}")
            if gt is None or cat not in table or len(problems) > n_before:
                continue
            if pred is None:  # allowed missing: empty prediction
                pred = _empty_prediction(len(gt.semantic))
            if not _check_shape(gt, pred, names, gt_file, pred_file, options, problems) or len(problems):
                continue
            with problems.capture(pred_file):
                _score_shape(gt, pred, len(names), f"{cat}/{sid}", options, scores.ious[cat], scores.stats[cat])
    return scores


def _read_shape(
    gt_file: Path, pred_file: Path, listed: bool, options: PartstadEvalOptions, problems: Problems,
) -> tuple[PartneteLabels | None, PartneteLabels | None, bool]:
    """Read one shape's ground truth and prediction (``listed``: the prediction folder has the shape).

    Returns (ground truth, prediction, absent): either label set is None when it is unreadable or
    (prediction) absent; ``absent`` is True for a missing prediction that ``allow_missing`` lets
    through. Read errors and a disallowed missing prediction are recorded in ``problems``.
    """
    gt = pred = None
    with problems.capture(gt_file):
        gt = read_partnete_label_file(gt_file, prediction=False)
    if listed and pred_file.exists():
        with problems.capture(pred_file):
            pred = read_partnete_label_file(pred_file, prediction=True)
    elif options.allow_missing:
        return gt, None, True
    else:
        problems.add(pred_file, "missing prediction (use --allow-missing to score it as empty)")
    return gt, pred, False


def _empty_prediction(n: int) -> PartneteLabels:
    """A prediction of ``n`` points with no part (-1) and no instance."""
    return PartneteLabels(np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.zeros(0, np.int64), np.zeros(0))


def _check_shape(
    gt: PartneteLabels, pred: PartneteLabels, names: tuple[str, ...], gt_file: Path, pred_file: Path,
    options: PartstadEvalOptions, problems: Problems,
) -> bool:
    """Whether one shape's labels can be scored against its category's ``names``: part names, point
    counts, label ranges and (for mAP) instance fields. Every failed check is recorded."""
    ok = _check_names(gt, names, gt_file, problems) & _check_names(pred, names, pred_file, problems)
    if len(pred.semantic) != len(gt.semantic):
        problems.add(pred_file, f"has {len(pred.semantic)} points but the ground truth {gt_file} has "
                                f"{len(gt.semantic)}", LabelMismatchError)
        return False
    ok &= _check_range(gt.semantic, len(names), "semantic_seg", gt_file, problems)
    ok &= _check_range(pred.semantic, len(names), "semantic_seg", pred_file, problems)
    if options.instance:
        if gt.instance is None:
            problems.add(gt_file, "has no instance_seg (needed for mAP; use --no-instance to skip it)")
            ok = False
        if pred.instance is None:
            problems.add(pred_file, "has no instance_seg/instance_label/instance_score "
                                    "(needed for mAP; use --no-instance to skip it)")
            ok = False
        else:
            assert pred.instance_label is not None  # read together with instance_seg
            if not _check_range(pred.instance_label, len(names), "instance_label", pred_file, problems):
                ok = False
    return ok


def _score_shape(
    gt: PartneteLabels, pred: PartneteLabels, n_parts: int, key: str, options: PartstadEvalOptions,
    ious: list[np.ndarray], stats: list[ShapeInstanceStats],
) -> None:
    """Append one shape's (n_parts,) per-part IoUs to ``ious`` and its instance matching statistics
    to ``stats`` (each only if its metric is asked for); ``key`` names the shape in errors."""
    if options.semantic:
        ious.append(shape_part_ious(pred.semantic, gt.semantic, n_parts, key))
    if options.instance:
        # _check_shape made sure both have instance_seg, the prediction its labels and scores
        assert gt.instance is not None and pred.instance is not None
        assert pred.instance_label is not None and pred.instance_score is not None
        stats.append(shape_instance_stats_from_labels(
            gt.semantic, gt.instance, pred.instance, pred.instance_label, pred.instance_score, n_parts, key))


def _report(inputs: _Inputs, scores: _Scores, options: PartstadEvalOptions) -> EvalReport:
    """Aggregate the per-shape scores into the mIoU and mAP tables (percent), counts and notes."""
    rows, gt_index, missing = scores.ious, inputs.gt_index, scores.missing
    part_names = {c: tuple(inputs.table[c]) for c in rows}
    tables, scales = [], []
    if options.semantic:
        sem = semantic_miou_from_ious({c: np.asarray(r).reshape(-1, len(part_names[c])) for c, r in rows.items()},
                                      part_names, {c: gt_index[c] for c in rows})
        tables.append(sem.table)
        scales.append(100.0)
    counts: dict = {"num_shapes": {c: len(gt_index[c]) for c in rows}, "missing_predictions": missing}
    if options.instance:
        ins = instance_map_from_stats(scores.stats, part_names, options.iou_threshold, options.ap_origin_point)
        tables += [ins.part_aware, ins.part_agnostic]
        scales += [100.0, 100.0]
        counts["num_gt_instances"] = ins.num_gt
        counts["num_pred_instances"] = ins.num_pred
    notes = []
    if missing:
        notes.append(f"{len(missing)} shape(s) had no prediction and were scored as empty: {', '.join(missing)}")
    for t in tables:
        undefined = [f"{c}/{p}" for c, parts in t.per_part.items() for p, v in parts.items() if np.isnan(v)]
        if undefined:
            notes.append(f"{t.name}: parts without ground truth, left out of the means: {', '.join(undefined)}")
    opts = asdict(options)
    opts["part_names_source"] = "meta.json" if inputs.meta is not None else "builtin:PartNetE"
    return EvalReport("partnete", opts, tables, scales, counts, notes)
