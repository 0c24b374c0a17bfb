"""Semantic part-segmentation mIoU, PartNetE protocol (PartSLIP / PartSLIP++ / PartSTAD).

For shape s and part c (labels index the category's part list; -1 = no part)::

    IoU(s, c) = |{pred = c} & {gt = c}| / |{pred = c} | {gt = c}|      defined only if gt of s contains c

- part IoU(c)      = mean of IoU(s, c) over the shapes whose ground truth contains c,
- category mIoU    = mean of the part IoUs of its parts (parts absent from every shape are undefined
  and left out),
- overall mIoU     = mean of the category mIoUs (categories present in the evaluation set).

Ground-truth -1 points are ordinary negatives (a prediction on them enlarges that part's union);
a predicted -1 is "no part". No point is ignored. Predicting a part that the shape's ground truth
lacks costs nothing for that shape (the protocol of the released evaluation code).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from partlift.errors import LabelMismatchError
from partlift.metrics.tables import MetricTable


def _check_labels(a: np.ndarray, num_parts: int, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 1:
        raise LabelMismatchError(f"{what}: labels must be 1-D, got shape {a.shape}")
    a = a.astype(np.int64)
    if a.size and (a.min() < -1 or a.max() >= num_parts):
        raise LabelMismatchError(
            f"{what}: labels must lie in [-1, {num_parts - 1}] ({num_parts} parts), "
            f"found {int(a.min())}..{int(a.max())}"
        )
    return a


def shape_part_ious(pred: np.ndarray, gt: np.ndarray, num_parts: int, where: str = "shape") -> np.ndarray:
    """Per-part IoU of one shape.

    Args:
        pred: (N,) int predicted part label per point, -1 = no part.
        gt: (N,) int ground-truth part label per point, -1 = no part.
        num_parts: number of parts of the category.
        where: name used in error messages.

    Returns:
        (num_parts,) float64 IoU, NaN for parts absent from ``gt``.
    """
    pred = _check_labels(pred, num_parts, f"{where} prediction")
    gt = _check_labels(gt, num_parts, f"{where} ground truth")
    if len(pred) != len(gt):
        raise LabelMismatchError(f"{where}: prediction has {len(pred)} points, ground truth {len(gt)}")
    k = num_parts + 1
    conf = np.bincount((gt + 1) * k + (pred + 1), minlength=k * k).reshape(k, k)[1:, 1:]
    inter = np.diag(conf).astype(np.float64)
    gt_count = np.bincount(gt + 1, minlength=k)[1:].astype(np.float64)
    pred_count = np.bincount(pred + 1, minlength=k)[1:].astype(np.float64)
    union = gt_count + pred_count - inter
    out = np.full(num_parts, np.nan)
    has = gt_count > 0
    out[has] = inter[has] / union[has]
    return out


@dataclass(frozen=True)
class SemanticResult:
    """Semantic mIoU at every level.

    Attributes:
        table: :class:`MetricTable` named ``"miou"`` (per part, per category, overall; in [0, 1]).
        per_shape: category -> (S, P) float64 IoU per shape and part (NaN where undefined), rows in
            the order of the inputs.
        shape_ids: category -> shape ids of the rows of ``per_shape``.
        part_counts: category -> (P,) int number of shapes whose ground truth contains each part.
    """

    table: MetricTable
    per_shape: dict[str, np.ndarray]
    shape_ids: dict[str, list[str]]
    part_counts: dict[str, np.ndarray]


def semantic_miou(
    predictions: Mapping[str, Sequence[np.ndarray]],
    ground_truth: Mapping[str, Sequence[np.ndarray]],
    part_names: Mapping[str, Sequence[str]],
    shape_ids: Mapping[str, Sequence[str]] | None = None,
) -> SemanticResult:
    """PartNetE semantic mIoU (module docstring).

    Args:
        predictions: category -> list of (N_s,) int predicted labels per shape.
        ground_truth: category -> list of (N_s,) int ground-truth labels, same order and counts.
        part_names: category -> ordered part names (label k = part_names[k]).
        shape_ids: optional category -> shape ids (for error messages and the per-shape table).
    """
    rows: dict[str, np.ndarray] = {}
    ids: dict[str, list[str]] = {}
    for cat in ground_truth:
        if cat not in part_names:
            raise LabelMismatchError(f"category {cat!r} has no part-name list")
        gts, preds = list(ground_truth[cat]), list(predictions.get(cat, []))
        if len(gts) != len(preds):
            raise LabelMismatchError(f"category {cat!r}: {len(gts)} ground-truth shapes but {len(preds)} predictions")
        n = len(part_names[cat])
        ids[cat] = list(shape_ids[cat]) if shape_ids is not None else [str(i) for i in range(len(gts))]
        r = [shape_part_ious(p, g, n, f"{cat}/{s}") for p, g, s in zip(preds, gts, ids[cat], strict=True)]
        rows[cat] = np.stack(r) if r else np.zeros((0, n))
    return semantic_miou_from_ious(rows, part_names, ids)


def semantic_miou_from_ious(
    per_shape: Mapping[str, np.ndarray],
    part_names: Mapping[str, Sequence[str]],
    shape_ids: Mapping[str, Sequence[str]] | None = None,
) -> SemanticResult:
    """Aggregate per-shape IoUs (category -> (S, P) from :func:`shape_part_ious`, NaN = undefined)
    into part, category and overall mIoU. Lets large sets be evaluated one shape at a time."""
    mats, ids, counts, per_part = {}, {}, {}, {}
    for cat, mat in per_shape.items():
        names = list(part_names[cat])
        mat = np.asarray(mat, dtype=np.float64).reshape(-1, len(names))
        defined = ~np.isnan(mat)
        n = defined.sum(axis=0)
        part_iou = np.where(n > 0, np.where(defined, mat, 0.0).sum(axis=0) / np.maximum(n, 1), np.nan)
        mats[cat], counts[cat] = mat, n
        ids[cat] = list(shape_ids[cat]) if shape_ids is not None else [str(i) for i in range(len(mat))]
        per_part[cat] = dict(zip(names, part_iou.tolist(), strict=True))
    return SemanticResult(MetricTable.from_parts("miou", per_part), mats, ids, counts)


def silhouette_iou(pred_mask: np.ndarray, true_mask: np.ndarray) -> float:
    """IoU of two (H, W) label maps' foregrounds (label >= 0, -1 = background); 1.0 when both are empty."""
    a, b = np.asarray(pred_mask) >= 0, np.asarray(true_mask) >= 0
    if a.shape != b.shape:
        raise ValueError(f"masks of different shapes {a.shape} and {b.shape}")
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)
