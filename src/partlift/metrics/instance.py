"""Instance segmentation mAP50 on points: part-aware and part-agnostic (PartNet / PartSLIP++ protocol).

Ground truth of a shape: one instance per distinct ``instance_seg`` id >= 0; its label is the most
frequent ``semantic_seg`` value over its points (ties -> the smallest label). Instances whose label
is -1 are not instances to find: their points are removed from every predicted mask of that shape
before any IoU is computed ("gt other"), and they are not ground truth.

Predictions: per shape a list of :class:`InstancePrediction` (mask over the shape's points, part
label, confidence). Confidences are required and must be finite; they are never set to 1.
Predicted instances labelled -1 are "no part" and are dropped.

Matching (per evaluated class, all shapes of one category pooled)::

    order predictions by (-score, shape index, instance index) with a stable sort
    for each prediction: among the not-yet-matched ground-truth instances of the same shape
        (and, part-aware, of the same label) take the one with the largest IoU (first on ties);
        IoU > threshold (0.5, strict)  -> true positive, that instance becomes matched
        otherwise                       -> false positive

IoU(pred, gt) = |p & g| / |p | g| with p = pred mask minus the "gt other" points.

AP = 101-point interpolated average precision: with recall r_k = TP_k / n_gt and precision
p_k = TP_k / k after the k-th prediction, and (if ``origin_point``, as in PartNet's code) an extra
point (r, p) = (0, 1) prepended, AP = (1/101) sum_{i=0..100} max{p_k : r_k >= i/100} (0 if empty).
The comparison r_k >= i/100 is done exactly in integers (100 TP_k >= i n_gt).

- part-aware: one AP per (category, part) over the instances of that label; parts without ground
  truth are undefined (NaN, left out of means); parts with ground truth but no prediction score 0;
  category mAP = mean over its defined parts; overall = mean over categories.
- part-agnostic: labels are ignored in matching; one AP per category over all its instances with a
  label >= 0; overall = mean over categories (PartSTAD paper, Sec. 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from partlift.errors import LabelMismatchError
from partlift.metrics.tables import MetricTable


@dataclass(frozen=True)
class InstancePrediction:
    """One predicted instance. ``mask``: (N,) bool over the shape's points; ``label``: part index
    (-1 = no part, dropped); ``score``: finite confidence, higher = more confident."""

    mask: np.ndarray
    label: int
    score: float


def gt_instances(semantic: np.ndarray, instance: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground-truth instances of one shape.

    Args:
        semantic: (N,) int part label per point, -1 = no part.
        instance: (N,) int instance id per point, -1 = no instance.

    Returns:
        masks: (G, N) bool, one row per instance with a label >= 0, ordered by instance id.
        labels: (G,) int64 their labels.
        other: (N,) bool points of instances whose label is -1.
    """
    sem = np.asarray(semantic).astype(np.int64)
    ins = np.asarray(instance).astype(np.int64)
    if sem.shape != ins.shape or sem.ndim != 1:
        raise LabelMismatchError(f"semantic {sem.shape} and instance {ins.shape} must be equal-length 1-D arrays")
    masks, labels = [], []
    other = np.zeros(len(sem), dtype=bool)
    for iid in np.unique(ins[ins >= 0]):
        m = ins == iid
        votes = np.bincount(sem[m] + 1)
        label = int(np.argmax(votes)) - 1  # argmax takes the first maximum: the smallest label on ties
        if label < 0:
            other |= m
        else:
            masks.append(m)
            labels.append(label)
    masks_arr = np.stack(masks) if masks else np.zeros((0, len(sem)), dtype=bool)
    return masks_arr, np.asarray(labels, dtype=np.int64), other


def predictions_from_labels(
    instance_seg: np.ndarray, instance_label: np.ndarray, instance_score: np.ndarray
) -> list[InstancePrediction]:
    """Per-point instance ids + one label and score per id -> a list of predictions (one per id
    0..K-1, in id order; an id without points is an empty mask, i.e. a false positive)."""
    ins = np.asarray(instance_seg).astype(np.int64)
    lab = np.asarray(instance_label).astype(np.int64).reshape(-1)
    score = np.asarray(instance_score, dtype=np.float64).reshape(-1)
    if len(lab) != len(score):
        raise LabelMismatchError(f"{len(lab)} instance labels but {len(score)} instance scores")
    if ins.max(initial=-1) >= len(lab):
        raise LabelMismatchError(f"instance id {int(ins.max())} has no label/score ({len(lab)} given)")
    return [InstancePrediction(ins == k, int(lab[k]), float(score[k])) for k in range(len(lab))]


def average_precision_101(is_tp: np.ndarray, num_gt: int, origin_point: bool = True) -> float:
    """101-point interpolated AP (module docstring).

    Args:
        is_tp: (K,) bool, true positive flag of each prediction in ranking order.
        num_gt: number of ground-truth instances (> 0).
        origin_point: prepend (recall 0, precision 1), as PartNet's evaluation code does.
    """
    if num_gt <= 0:
        raise ValueError("average precision needs at least one ground-truth instance")
    tp_flags = np.asarray(is_tp, dtype=bool)
    if len(tp_flags) == 0:
        return 0.0
    tp = np.cumsum(tp_flags).astype(np.int64)
    prec = tp / np.arange(1, len(tp) + 1, dtype=np.float64)
    if origin_point:
        tp, prec = np.concatenate([[0], tp]), np.concatenate([[1.0], prec])
    envelope = np.maximum.accumulate(prec[::-1])[::-1]  # max precision at this or any later rank
    # first rank whose recall reaches i/100, i.e. 100 * tp >= i * num_gt (tp is non-decreasing)
    first = np.searchsorted(100 * tp, np.arange(101) * num_gt, side="left")
    p = np.where(first < len(tp), envelope[np.minimum(first, len(tp) - 1)], 0.0)
    return float(p.mean())


@dataclass(frozen=True)
class ShapeInstanceStats:
    """What matching needs from one shape (small; lets large sets stream).

    Attributes:
        ious: (P, G) float64 IoU of each kept prediction with each ground-truth instance.
        gt_labels: (G,) int64 labels of the ground-truth instances (all >= 0).
        pred_labels: (P,) int64 labels of the kept predictions (all >= 0; -1 ones are dropped).
        pred_scores: (P,) float64 their confidences.
    """

    ious: np.ndarray
    gt_labels: np.ndarray
    pred_labels: np.ndarray
    pred_scores: np.ndarray


def _check_predictions(labels: np.ndarray, scores: np.ndarray, num_parts: int, where: str) -> None:
    if not np.all(np.isfinite(scores)):
        bad = scores[~np.isfinite(scores)][:3]
        raise LabelMismatchError(f"{where}: predicted instance scores must be finite, got {bad}")
    if labels.size and (labels.min() < -1 or labels.max() >= num_parts):
        raise LabelMismatchError(
            f"{where}: predicted instance labels must lie in [-1, {num_parts - 1}], "
            f"found {int(labels.min())}..{int(labels.max())}"
        )


def shape_instance_stats(
    semantic: np.ndarray,
    instance: np.ndarray,
    predictions: Sequence[InstancePrediction],
    num_parts: int,
    where: str = "shape",
) -> ShapeInstanceStats:
    """Match-ready statistics of one shape from ground-truth labels and a list of predicted masks."""
    masks, gt_labels, other = gt_instances(semantic, instance)
    if gt_labels.size and gt_labels.max() >= num_parts:
        raise LabelMismatchError(f"{where} ground truth: label {int(gt_labels.max())} is not below {num_parts}")
    labels = np.asarray([int(p.label) for p in predictions], dtype=np.int64)
    scores = np.asarray([float(p.score) for p in predictions], dtype=np.float64)
    _check_predictions(labels, scores, num_parts, where)
    keep = [p for p in predictions if int(p.label) >= 0]
    n = masks.shape[1]
    if keep:
        pm = np.stack([np.asarray(p.mask, dtype=bool).reshape(-1) for p in keep])
        if pm.shape[1] != n:
            raise LabelMismatchError(f"{where}: predicted masks have {pm.shape[1]} points, ground truth {n}")
        pm &= ~other
        pf, gf = pm.astype(np.float64), masks.astype(np.float64)
        inter = pf @ gf.T
        ious = inter / (pf.sum(1)[:, None] + gf.sum(1)[None, :] - inter)  # union >= |g| > 0
    else:
        ious = np.zeros((0, len(gt_labels)))
    sel = labels >= 0
    return ShapeInstanceStats(ious.reshape(len(keep), len(gt_labels)), gt_labels, labels[sel], scores[sel])


def shape_instance_stats_from_labels(
    semantic: np.ndarray,
    instance: np.ndarray,
    pred_instance: np.ndarray,
    pred_label: np.ndarray,
    pred_score: np.ndarray,
    num_parts: int,
    where: str = "shape",
) -> ShapeInstanceStats:
    """Same as :func:`shape_instance_stats` for predictions given as per-point instance ids
    (-1 = none) plus one label and score per id (the PartNetE prediction file); O(N) memory."""
    sem = np.asarray(semantic).astype(np.int64)
    ins = np.asarray(instance).astype(np.int64)
    pin = np.asarray(pred_instance).astype(np.int64)
    lab = np.asarray(pred_label).astype(np.int64).reshape(-1)
    score = np.asarray(pred_score, dtype=np.float64).reshape(-1)
    if not (sem.shape == ins.shape == pin.shape) or sem.ndim != 1:
        raise LabelMismatchError(f"{where}: label arrays differ in length ({len(sem)}, {len(ins)}, {len(pin)})")
    if len(lab) != len(score) or pin.max(initial=-1) >= len(lab) or pin.min(initial=-1) < -1:
        raise LabelMismatchError(f"{where}: need one label and score per predicted instance id")
    _check_predictions(lab, score, num_parts, where)
    if sem.max(initial=-1) >= num_parts or sem.min(initial=-1) < -1:
        raise LabelMismatchError(f"{where} ground truth: labels must lie in [-1, {num_parts - 1}]")
    # ground-truth instances: label = most frequent semantic label (ties -> smallest)
    gt_ids = np.unique(ins[ins >= 0])
    g_index = np.full(int(ins.max(initial=-1)) + 2, -1, dtype=np.int64)  # +2: never empty
    g_index[gt_ids] = np.arange(len(gt_ids))
    gi = np.where(ins >= 0, g_index[np.maximum(ins, 0)], -1)
    votes = np.zeros((len(gt_ids), num_parts + 1), dtype=np.int64)
    np.add.at(votes, (gi[gi >= 0], sem[gi >= 0] + 1), 1)
    g_lab = np.argmax(votes, axis=1) - 1 if len(gt_ids) else np.zeros(0, dtype=np.int64)
    other_ids = np.flatnonzero(g_lab < 0)
    is_other = np.isin(gi, other_ids) & (gi >= 0)
    kept_g = np.flatnonzero(g_lab >= 0)
    remap = np.full(len(gt_ids) + 1, -1, dtype=np.int64)  # +1: never empty
    remap[kept_g] = np.arange(len(kept_g))
    g = np.where(gi >= 0, remap[np.maximum(gi, 0)], -1)  # -1 for no instance or "other"
    kept_p = np.flatnonzero(lab >= 0)
    premap = np.full(len(lab) + 1, -1, dtype=np.int64)  # +1: never empty
    premap[kept_p] = np.arange(len(kept_p))
    p = np.where(pin >= 0, premap[np.maximum(pin, 0)], -1)
    p = np.where(is_other, -1, p)  # "other" points are removed from every prediction
    P, G = len(kept_p), len(kept_g)
    p_size = np.bincount(p[p >= 0], minlength=P)[:P].astype(np.float64)
    g_size = np.bincount(g[g >= 0], minlength=G)[:G].astype(np.float64)
    both = (p >= 0) & (g >= 0)
    inter = np.bincount(p[both] * G + g[both], minlength=P * G)[: P * G].reshape(P, G).astype(np.float64)
    ious = inter / (p_size[:, None] + g_size[None, :] - inter) if P and G else np.zeros((P, G))
    return ShapeInstanceStats(ious, g_lab[kept_g].astype(np.int64), lab[kept_p], score[kept_p])


def _match(
    entries: list[tuple[float, int, int]],
    stats: Sequence[ShapeInstanceStats],
    gt_ok: list[np.ndarray],
    threshold: float,
) -> np.ndarray:
    """Greedy matching of ranked predictions; ``entries`` = (score, shape, pred index) in input order,
    ``gt_ok[s]`` = (G_s,) bool candidate ground truth of shape s. Returns (K,) bool TP flags in rank order."""
    order = np.argsort(-np.asarray([e[0] for e in entries], dtype=np.float64), kind="stable")
    used = [np.zeros(len(g), dtype=bool) for g in gt_ok]
    tp = np.zeros(len(entries), dtype=bool)
    for rank, k in enumerate(order):
        _, s, j = entries[k]
        cand = gt_ok[s] & ~used[s]
        if not cand.any():
            continue
        row = np.where(cand, stats[s].ious[j], -1.0)
        g = int(np.argmax(row))
        if row[g] > threshold:
            tp[rank] = True
            used[s][g] = True
    return tp


@dataclass(frozen=True)
class InstanceResult:
    """Both mAP50 variants. ``part_aware`` (named ``"map50_part_aware"``) has per-part APs;
    ``part_agnostic`` (``"map50_part_agnostic"``) has one AP per category. Values in [0, 1].
    ``num_gt``: category -> part -> number of ground-truth instances; ``num_pred`` likewise."""

    part_aware: MetricTable
    part_agnostic: MetricTable
    num_gt: dict[str, dict[str, int]]
    num_pred: dict[str, dict[str, int]]


def instance_map_from_stats(
    stats: Mapping[str, Sequence[ShapeInstanceStats]],
    part_names: Mapping[str, Sequence[str]],
    iou_threshold: float = 0.5,
    origin_point: bool = True,
) -> InstanceResult:
    """Part-aware and part-agnostic mAP from per-shape statistics (category -> shapes in order)."""
    aware: dict[str, dict[str, float]] = {}
    agnostic: dict[str, float] = {}
    num_gt: dict[str, dict[str, int]] = {}
    num_pred: dict[str, dict[str, int]] = {}
    for cat, shapes in stats.items():
        names = list(part_names[cat])
        shapes = list(shapes)
        aware[cat], num_gt[cat], num_pred[cat] = {}, {}, {}
        for c, name in enumerate(names):
            entries = [(float(sc), s, j) for s, st in enumerate(shapes)
                       for j, (lb, sc) in enumerate(zip(st.pred_labels, st.pred_scores, strict=True)) if lb == c]
            n_gt = int(sum(int((st.gt_labels == c).sum()) for st in shapes))
            num_gt[cat][name], num_pred[cat][name] = n_gt, len(entries)
            if n_gt == 0:
                aware[cat][name] = float("nan")
                continue
            tp = _match(entries, shapes, [st.gt_labels == c for st in shapes], iou_threshold)
            aware[cat][name] = average_precision_101(tp, n_gt, origin_point)
        n_all = int(sum(len(st.gt_labels) for st in shapes))
        if n_all == 0:
            agnostic[cat] = float("nan")
        else:
            entries = [(float(sc), s, j) for s, st in enumerate(shapes) for j, sc in enumerate(st.pred_scores)]
            tp = _match(entries, shapes, [np.ones(len(st.gt_labels), dtype=bool) for st in shapes], iou_threshold)
            agnostic[cat] = average_precision_101(tp, n_all, origin_point)
    return InstanceResult(
        MetricTable.from_parts("map50_part_aware", aware),
        MetricTable.from_categories("map50_part_agnostic", agnostic),
        num_gt,
        num_pred,
    )


def instance_map(
    ground_truth: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]],
    predictions: Mapping[str, Sequence[Sequence[InstancePrediction]]],
    part_names: Mapping[str, Sequence[str]],
    iou_threshold: float = 0.5,
    origin_point: bool = True,
    shape_ids: Mapping[str, Sequence[str]] | None = None,
) -> InstanceResult:
    """Part-aware and part-agnostic mAP at ``iou_threshold`` (module docstring).

    Args:
        ground_truth: category -> list over shapes of (semantic_seg (N,), instance_seg (N,)).
        predictions: category -> list over shapes (same order) of lists of InstancePrediction.
        part_names: category -> ordered part names.
        iou_threshold: a match needs IoU strictly greater than this.
        origin_point: see :func:`average_precision_101`.
        shape_ids: optional names for error messages.
    """
    stats: dict[str, list[ShapeInstanceStats]] = {}
    for cat, gts in ground_truth.items():
        if cat not in part_names:
            raise LabelMismatchError(f"category {cat!r} has no part-name list")
        preds = list(predictions.get(cat, []))
        if len(preds) != len(gts):
            raise LabelMismatchError(f"category {cat!r}: {len(gts)} ground-truth shapes but {len(preds)} predictions")
        sid = list(shape_ids[cat]) if shape_ids is not None else [str(i) for i in range(len(gts))]
        n = len(part_names[cat])
        stats[cat] = [shape_instance_stats(sem, ins, pl, n, f"{cat}/{s}")
                      for (sem, ins), pl, s in zip(gts, preds, sid, strict=True)]
    return instance_map_from_stats(stats, part_names, iou_threshold, origin_point)
