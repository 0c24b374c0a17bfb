"""Lifting 2D proposals onto superpoints: sparse incidence and the (weighted) voting scores.

PartSLIP's score (Eq. 1) and PartSTAD's weighted score (Eq. 5) are the same computation with
weights 1 or W(b):

    s_kc = sum_v sum_{p in P_k, V_v(p)} max_{b in B_cv} w_b I_b(p)  /  sum_v sum_{p in P_k} V_v(p)

Instead of the public code's dense (points x labels x proposals) tensor, the proposal -> point
incidence is kept sparse: every entry (b, p) maps to the key (view of b, p, label of b); the max is
a segment-max over entries of one key, and the keys are summed into their (superpoint, label)
cell. Only views in which superpoint k has at least ``min_visible`` visible points count, for both
the numerator and the denominator (PartSLIP: 1, PartSTAD's training code: 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from partlift.partstad.proposals.base import Proposals
from partlift.partstad.views import ShapeViews


@dataclass
class Incidence:
    """Sparse proposal -> point membership: proposal b holds points ``points[ptr[b]:ptr[b+1]]``.

    Attributes:
        ptr: (P+1,) int64 offsets.
        points: (nnz,) int64 point indices (visible in the proposal's view and inside it).
    """

    ptr: np.ndarray
    points: np.ndarray

    @property
    def num_proposals(self) -> int:
        return len(self.ptr) - 1

    def proposal_of_entry(self) -> np.ndarray:
        """(nnz,) int64 proposal index of each entry."""
        return np.repeat(np.arange(self.num_proposals), np.diff(self.ptr))

    def members(self, b: int) -> np.ndarray:
        return self.points[self.ptr[b] : self.ptr[b + 1]]


def proposal_incidence(props: Proposals, views: ShapeViews, use_masks: bool = True) -> Incidence:
    """Visible points of each proposal's view that fall in its mask (``use_masks``) or strictly
    inside its box (PartSLIP: ``x1 < u < x2 and y1 < v < y2``)."""
    chunks: list[np.ndarray] = [np.zeros(0, np.int64)] * len(props)
    for v in np.unique(props.view):
        bs = np.flatnonzero(props.view == v)
        pts = np.flatnonzero(views.visible[v])
        if len(pts) == 0:
            continue
        if use_masks:
            rows, cols = views.pixel_of(int(v), pts)
            inside = props.masks[bs][:, rows, cols]
        else:
            uv = views.screen[v, pts]
            bx = props.box[bs]
            inside = (
                (uv[None, :, 0] > bx[:, 0:1]) & (uv[None, :, 0] < bx[:, 2:3])
                & (uv[None, :, 1] > bx[:, 1:2]) & (uv[None, :, 1] < bx[:, 3:4])
            )
        for j, b in enumerate(bs):
            chunks[b] = pts[inside[j]]
    counts = np.array([len(c) for c in chunks], dtype=np.int64)
    ptr = np.zeros(len(props) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(counts)
    points = np.concatenate(chunks) if len(chunks) else np.zeros(0, np.int64)
    return Incidence(ptr, points.astype(np.int64))


def not_whole_object(props: Proposals, views: ShapeViews, ratio: float = 0.98) -> np.ndarray:
    """(P,) bool: the proposal's box holds fewer than ``ratio`` of ALL projected points of its view
    (PartSLIP drops "whole object" boxes)."""
    keep = np.ones(len(props), dtype=bool)
    n = views.screen.shape[1]
    if n == 0:
        return keep
    for b in range(len(props)):
        uv = views.screen[props.view[b]]
        x1, y1, x2, y2 = props.box[b]
        inside = (uv[:, 0] > x1) & (uv[:, 0] < x2) & (uv[:, 1] > y1) & (uv[:, 1] < y2)
        keep[b] = inside.mean() < ratio
    return keep


def superpoint_view_counts(views: ShapeViews, superpoints: np.ndarray, num_superpoints: int) -> np.ndarray:
    """(K, V) int64 number of visible points of each superpoint in each view."""
    v_count = views.num_views
    vv, pp = np.nonzero(views.visible)
    flat = np.bincount(superpoints[pp] * v_count + vv, minlength=num_superpoints * v_count)
    return flat.reshape(num_superpoints, v_count).astype(np.int64)


@dataclass
class LiftGraph:
    """Static structure of the voting scores of one shape (everything except the weights).

    Attributes:
        num_superpoints, num_labels: K and C.
        entry_prop: (E,) int64 proposal of each counted (proposal, point) entry.
        entry_key: (E,) int64 index of the entry's (view, point, label) key.
        key_cell: (U,) int64 flat (superpoint * C + label) cell of each key.
        denom: (K,) float64 visible point-view incidences of each superpoint over counted views.
        valid: (K,) bool superpoint covered by at least one proposal (else it stays unlabelled).
        sp_size: (K,) int64 points per superpoint.
    """

    num_superpoints: int
    num_labels: int
    entry_prop: np.ndarray
    entry_key: np.ndarray
    key_cell: np.ndarray
    denom: np.ndarray
    valid: np.ndarray
    sp_size: np.ndarray

    @property
    def num_keys(self) -> int:
        return len(self.key_cell)


def build_lift_graph(
    incidence: Incidence,
    props: Proposals,
    views: ShapeViews,
    superpoints: np.ndarray,
    num_labels: int,
    min_visible: int = 1,
    proposal_mask: np.ndarray | None = None,
) -> LiftGraph:
    """Precompute the sparse voting structure.

    Args:
        incidence: from :func:`proposal_incidence`.
        superpoints: (N,) int64 superpoint id per point.
        num_labels: C, the number of part labels.
        min_visible: a view counts for superpoint k only if it sees >= this many of k's points.
        proposal_mask: (P,) bool proposals to use (e.g. :func:`not_whole_object`); default all.
    """
    sp = np.asarray(superpoints, dtype=np.int64)
    k_count = int(sp.max()) + 1 if len(sp) else 0
    counts = superpoint_view_counts(views, sp, k_count)
    counted = counts >= max(1, min_visible)
    denom = (counts * counted).sum(1).astype(np.float64)
    sp_size = np.bincount(sp, minlength=k_count).astype(np.int64)
    n = len(sp)
    ent_prop = incidence.proposal_of_entry()
    ent_pt = incidence.points
    keep = np.ones(len(ent_pt), dtype=bool)
    if proposal_mask is not None:
        keep &= np.asarray(proposal_mask, bool)[ent_prop]
    ent_view = props.view[ent_prop]
    keep &= counted[sp[ent_pt], ent_view]
    ent_prop, ent_pt, ent_view = ent_prop[keep], ent_pt[keep], ent_view[keep]
    ent_label = props.label[ent_prop]
    raw_key = (ent_view * n + ent_pt) * num_labels + ent_label
    uniq, entry_key = np.unique(raw_key, return_inverse=True)
    key_pt = (uniq // num_labels) % max(n, 1)
    key_label = uniq % num_labels
    key_cell = sp[key_pt] * num_labels + key_label
    valid = np.zeros(k_count, dtype=bool)
    valid[sp[key_pt]] = True
    valid &= denom > 0
    return LiftGraph(
        k_count, int(num_labels), ent_prop.astype(np.int64), entry_key.reshape(-1).astype(np.int64),
        key_cell.astype(np.int64), denom, valid, sp_size,
    )


def superpoint_scores(graph: LiftGraph, weights: torch.Tensor | np.ndarray | None = None) -> torch.Tensor:
    """Scores s_kc of Eq. 1 (``weights`` None = all 1) or Eq. 5 (``weights`` (P,) >= 0).

    Differentiable in ``weights`` (the segment-max passes the gradient to the maximal entry).
    Returns (K, C) float tensor; rows of superpoints with no counted view are 0.
    """
    k, c = graph.num_superpoints, graph.num_labels
    if weights is None:
        we = torch.ones(len(graph.entry_prop), dtype=torch.float64)
    else:
        w = torch.as_tensor(weights)
        we = w[torch.from_numpy(graph.entry_prop).to(w.device)]
    dtype, dev = we.dtype, we.device  # the graph follows the weights' device

    def index(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).to(dev)

    key_max = torch.zeros(graph.num_keys, dtype=dtype, device=dev).scatter_reduce(
        0, index(graph.entry_key), we, reduce="amax", include_self=False
    )
    cells = torch.zeros(k * c, dtype=dtype, device=dev).index_add(0, index(graph.key_cell), key_max)
    denom = index(np.maximum(graph.denom, 1.0)).to(dtype)
    return cells.view(k, c) / denom[:, None]


def point_votes(incidence: Incidence, props: Proposals, views: ShapeViews, num_labels: int) -> np.ndarray:
    """(N, C) float64 per-point label votes: for every view that sees the point, the best score of a
    proposal of that label holding it (0 if none), averaged over those views (Eq. 1 for a single
    point, with the proposals' scores as weights). Points no view sees get 0."""
    n = views.visible.shape[1]
    out = np.zeros(n * num_labels, dtype=np.float64)
    ent_prop = incidence.proposal_of_entry()
    if len(ent_prop):
        pt = incidence.points
        key = (props.view[ent_prop].astype(np.int64) * n + pt) * num_labels + props.label[ent_prop]
        order = np.argsort(key, kind="stable")
        key, score = key[order], props.score[ent_prop][order].astype(np.float64)
        start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        best = np.maximum.reduceat(score, start)
        cell = key[start] % (n * num_labels)  # (point, label), the view dropped
        np.add.at(out, cell, best)
    seen = views.visible.sum(0).astype(np.float64)
    return out.reshape(n, num_labels) / np.maximum(seen, 1.0)[:, None]


def superpoint_ratios(
    incidence: Incidence, props: Proposals, views: ShapeViews, superpoints: np.ndarray, num_superpoints: int
) -> np.ndarray:
    """(K, P) float64 fraction of superpoint k's visible points of view v_b that lie in proposal b;
    -1 where k has no visible point in that view (PartSLIP's per-box ratios)."""
    sp = np.asarray(superpoints, dtype=np.int64)
    counts = superpoint_view_counts(views, sp, num_superpoints)
    p = len(props)
    inside: np.ndarray = np.zeros(num_superpoints * p, dtype=np.float64)
    ent_prop = incidence.proposal_of_entry()
    np.add.at(inside, sp[incidence.points] * p + ent_prop, 1.0)
    inside = inside.reshape(num_superpoints, p)
    vis = counts[:, props.view].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(vis > 0, inside / np.maximum(vis, 1), -1.0)
    return ratio
