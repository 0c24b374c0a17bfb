"""Labelling superpoints from voting scores, and PartSLIP's instance merging (``src/bbox2seg.py``).

Semantic decision (PartSLIP ``bbox2seg`` / PartSTAD ``score2seg``): a superpoint whose best score
is below the null threshold stays unlabelled (-1); otherwise the small-part priority rule scans the
labels in reverse index order and takes the first small part (handle, button, ...) that passes the
threshold; otherwise the argmax.

Instances: superpoints of one label are merged (connected components) when they are adjacent in
3D, their per-proposal in-proposal ratios agree (ratio distance < 0.2) and their sizes differ by
less than 100x; a merged group is kept if in some view the 2D box of its visible points has
IoU > 0.5 with a proposal box of its label. Unlike PartSLIP, every instance gets a confidence: the
size-weighted mean of its superpoints' score (PartSLIP) or probability (PartSTAD) for its label.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from partlift.partstad.config import VotingConfig
from partlift.partstad.proposals.base import Proposals
from partlift.partstad.views import ShapeViews


def small_parts_from_shapes(part_names: Sequence[str], labels: Sequence[np.ndarray], listed: Sequence[str],
                            share: float, known_names: Collection[str]) -> tuple[str, ...]:
    """The parts that get small-part priority (docs/PARTSTAD.md, "Small parts").

    A name of the PartNetE vocabulary (``known_names``) is small when it is on PartSLIP's ``listed``
    names, as in PartSLIP. Any other name is small when its median share of the labelled points
    (``labels``: (N_s,) int arrays of the few-shot shapes, -1 = unlabelled) over the shapes that
    contain it is below ``share``.
    """
    out = []
    listed_set, known = set(listed), set(known_names)
    for k, name in enumerate(part_names):
        if name in known:
            if name in listed_set:
                out.append(name)
            continue
        shares = [float((lab == k).sum()) / max(int((lab >= 0).sum()), 1) for lab in map(np.asarray, labels)
                  if (lab == k).any()]
        if shares and float(np.median(shares)) < share:
            out.append(name)
    return tuple(out)


def small_part_mask(part_names: Sequence[str], small_parts: Sequence[str]) -> np.ndarray:
    """(C,) bool: label c is on the small-part priority list."""
    small = set(small_parts)
    return np.array([n in small for n in part_names], dtype=bool)


def decide_labels(scores: np.ndarray, valid: np.ndarray, threshold: float, small: np.ndarray) -> np.ndarray:
    """Superpoint labels from (K, C) scores (or label probabilities).

    Args:
        scores: (K, C) float.
        valid: (K,) bool; invalid superpoints get -1.
        threshold: null threshold (best score below it -> -1).
        small: (C,) bool small-part priority mask.
    Returns:
        (K,) int64 labels in [-1, C-1].
    """
    s = np.asarray(scores, dtype=np.float64)
    k, c = s.shape
    out = np.full(k, -1, dtype=np.int64)
    if k == 0 or c == 0:
        return out
    best = s.max(1)
    ok = np.asarray(valid, bool) & (best >= threshold)
    lab = s.argmax(1)
    cand = (s >= threshold) & np.asarray(small, bool)[None, :]
    has_small = cand.any(1)
    last_small = c - 1 - np.argmax(cand[:, ::-1], axis=1)  # reverse label order scan
    lab = np.where(has_small, last_small, lab)
    out[ok] = lab[ok]
    return out


def to_points(sp_values: np.ndarray, superpoints: np.ndarray) -> np.ndarray:
    """Broadcast per-superpoint values to the points: (K, ...) -> (N, ...)."""
    return np.asarray(sp_values)[np.asarray(superpoints, dtype=np.int64)]


@dataclass
class Instances:
    """Instance segmentation of one shape.

    Attributes:
        ids: (N,) int64 instance id per point, -1 = no instance.
        labels: (M,) int64 part label of each instance.
        scores: (M,) float64 confidence of each instance.
    """

    ids: np.ndarray
    labels: np.ndarray
    scores: np.ndarray

    @staticmethod
    def empty(num_points: int) -> Instances:
        return Instances(np.full(num_points, -1, np.int64), np.zeros(0, np.int64), np.zeros(0))

    def __len__(self) -> int:
        return len(self.labels)


def superpoint_boxes(
    points: np.ndarray, superpoints: np.ndarray, num_superpoints: int
) -> tuple[np.ndarray, np.ndarray]:
    """(K, 3) lower and upper corners of each superpoint's axis-aligned box."""
    p = np.asarray(points, dtype=np.float64)
    lo = np.full((num_superpoints, 3), np.inf)
    hi = np.full((num_superpoints, 3), -np.inf)
    np.minimum.at(lo, superpoints, p)
    np.maximum.at(hi, superpoints, p)
    return lo, hi


def superpoint_adjacency(
    points: np.ndarray, superpoints: np.ndarray, num_superpoints: int, threshold: float
) -> np.ndarray:
    """(K, K) bool: boxes overlap or are closer than ``threshold`` along every axis (PartSLIP
    ``calc_sp_connectivity``); the diagonal is True."""
    lo, hi = superpoint_boxes(points, superpoints, num_superpoints)
    gap = np.maximum(lo[:, None, :] - hi[None, :, :], lo[None, :, :] - hi[:, None, :])  # (K, K, 3)
    return gap.max(axis=2) < threshold


def ratio_distance(ri: np.ndarray, rk: np.ndarray) -> float:
    """PartSLIP's distance of two in-proposal ratio vectors (-1 = not visible): sum |ri - rk| /
    max(sum ri, sum rk) over the entries visible for both; 1 if none or both sums < 1e-3."""
    both = (ri != -1) & (rk != -1)
    if not both.any():
        return 1.0
    a, b = ri[both], rk[both]
    den = max(a.sum(), b.sum())
    if den < 1e-3:
        return 1.0
    return float(np.abs(a - b).sum() / den)


def _ratio_distances(r: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """All pairwise :func:`ratio_distance` of the rows of ``r`` (M, B) at once; with ``weights``
    (B,) every proposal's ratio counts with its weight (PartSTAD: its learned weight)."""
    m = len(r)
    if r.shape[1] == 0:
        return np.ones((m, m))
    vis = r != -1
    rv = np.where(vis, r, 0.0)
    if weights is not None:
        rv = rv * np.asarray(weights, np.float64)[None, :]
    both = vis[:, None, :] & vis[None, :, :]
    diff = (np.abs(rv[:, None, :] - rv[None, :, :]) * both).sum(2)
    si = (rv[:, None, :] * both).sum(2)
    sk = (rv[None, :, :] * both).sum(2)
    den = np.maximum(si, sk)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where((den >= 1e-3) & both.any(2), diff / den, 1.0)
    return d


def merge_instances(
    points: np.ndarray,
    superpoints: np.ndarray,
    sp_labels: np.ndarray,
    sp_conf: np.ndarray,
    ratios: np.ndarray,
    props: Proposals,
    views: ShapeViews,
    config: VotingConfig,
    ratio_mask: np.ndarray | None = None,
    ratio_weights: np.ndarray | None = None,
) -> Instances:
    """PartSLIP's instance merging with confidences.

    Args:
        points: (N, 3) coordinates (the same frame as the superpoints).
        superpoints: (N,) int64 superpoint ids.
        sp_labels: (K,) int64 superpoint labels (-1 = none).
        sp_conf: (K,) float confidence of each superpoint for its label.
        ratios: (K, P) in-proposal ratios (:func:`partlift.partstad.lifting.superpoint_ratios`).
        props: the proposals (labels, views, boxes for the final IoU filter).
        views: the views (screen coordinates and visibility for the filter).
        ratio_mask: (P,) bool proposals whose ratios are compared (PartSLIP: not whole-object).
        ratio_weights: (P,) non-negative weight of each proposal in the ratio distance (PartSTAD:
            the learned weights, so proposals the model discards do not split instances);
            None = all 1 (PartSLIP). The 1e-3 "both sums vanish" test then applies to weighted sums.
    Returns:
        :class:`Instances` numbered by label then by smallest superpoint id.
    """
    sp = np.asarray(superpoints, dtype=np.int64)
    n = len(sp)
    k_count = len(sp_labels)
    if k_count == 0 or not (sp_labels >= 0).any():
        return Instances.empty(n)
    adj = superpoint_adjacency(points, sp, k_count, config.adjacency_threshold)
    sizes = np.bincount(sp, minlength=k_count).astype(np.float64)
    rmask = np.ones(len(props), bool) if ratio_mask is None else np.asarray(ratio_mask, bool)
    ids = np.full(n, -1, dtype=np.int64)
    labels, scores = [], []
    for c in np.unique(sp_labels[sp_labels >= 0]):
        members = np.flatnonzero(sp_labels == c)
        cols = np.flatnonzero((props.label == c) & rmask)
        w = None if ratio_weights is None else np.asarray(ratio_weights, np.float64)[cols]
        d = _ratio_distances(ratios[np.ix_(members, cols)], w)
        sz = sizes[members]
        big, small = np.maximum(sz[:, None], sz[None, :]), np.maximum(np.minimum(sz[:, None], sz[None, :]), 1)
        size_ok = big / small < config.size_ratio
        link = adj[np.ix_(members, members)] & (d < config.ratio_distance) & size_ok
        ii, jj = np.nonzero(link)
        g = coo_matrix((np.ones(len(ii)), (ii, jj)), shape=(len(members), len(members)))
        _, comp = connected_components(g, directed=False)
        for q in np.unique(comp):
            group = members[comp == q]
            in_group = np.isin(sp, group)
            if not _matches_a_box(in_group, int(c), props, views, config.instance_iou):
                continue
            w = sizes[group]
            scores.append(float((np.asarray(sp_conf)[group] * w).sum() / w.sum()))
            labels.append(int(c))
            ids[in_group] = len(labels) - 1
    return Instances(ids, np.asarray(labels, np.int64), np.asarray(scores, np.float64))


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of one box ``a`` (4,) with boxes ``b`` (M, 4), all (x1, y1, x2, y2)."""
    ix = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    iy = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _matches_a_box(in_group: np.ndarray, label: int, props: Proposals, views: ShapeViews, iou: float) -> bool:
    for v in range(views.num_views):
        cand = np.flatnonzero((props.view == v) & (props.label == label))
        if len(cand) == 0:
            continue
        pts = np.flatnonzero(in_group & views.visible[v])
        if len(pts) == 0:
            continue
        # Pixel-edge box of the points' pixels (PartSLIP uses the raw coordinates, which gives a
        # zero-area box for a thin part seen edge-on).
        uv = np.floor(views.screen[v, pts])
        box = np.array([uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max() + 1, uv[:, 1].max() + 1])
        if (_box_iou(box, props.box[cand].astype(np.float64)) > iou).any():
            return True
    return False
