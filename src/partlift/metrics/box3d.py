"""Exact IoU of oriented 3D boxes (:class:`partlift.geometry.boxes.Box3D`).

IoU(A, B) = vol(A & B) / (vol(A) + vol(B) - vol(A & B)).

The intersection of two boxes is a convex polyhedron. Each of its vertices lies on three face
planes, so it is one of: a corner of A inside B, a corner of B inside A, the crossing of an edge of
A with a face plane of B (inside B), or of an edge of B with a face plane of A (inside A). We collect
those candidates and take the volume of their convex hull (Qhull). When both boxes are axis-aligned
(rotations are signed permutations) the closed-form interval product is used instead.

Flat boxes: the IoU is volume based, so a zero-thickness box (a planar part) has no volume. Every
side is first raised to at least ``min_size`` (default 1e-3, in coordinate units; objects are
normalised to unit size), so two equal flat boxes score 1 and overlapping coplanar flat boxes score
about their area IoU. With ``min_size=0`` a zero union volume gives IoU 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from partlift.geometry.boxes import Box3D

DEFAULT_MIN_SIZE = 1e-3

# Corner index bits (x, y, z) = (i >> 2, i >> 1, i) & 1, as Box3D.corners(); an edge joins corners
# that differ in one bit.
_EDGES = np.array([(i, i | (1 << b)) for i in range(8) for b in range(3) if not i & (1 << b)])


def _sized(box: Box3D, min_size: float) -> Box3D:
    size = np.maximum(np.asarray(box.size, dtype=np.float64), min_size)
    return Box3D(np.asarray(box.center, dtype=np.float64), size, np.asarray(box.rotation, dtype=np.float64))


def is_axis_aligned(box: Box3D, tol: float = 1e-12) -> bool:
    """True if the box's rotation is a signed permutation matrix (its faces are axis-aligned)."""
    r = np.abs(np.asarray(box.rotation, dtype=np.float64))
    return bool(np.all((r < tol) | (np.abs(r - 1.0) < tol)) and np.all(np.isclose(r.sum(0), 1.0)))


def box_bounds(box: Box3D) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) (3,) world-axis bounds of the box (its AABB; exact for axis-aligned boxes)."""
    half = np.abs(np.asarray(box.rotation, dtype=np.float64)) @ (np.asarray(box.size, dtype=np.float64) / 2.0)
    c = np.asarray(box.center, dtype=np.float64)
    return c - half, c + half


def aabb_iou(lo_a: np.ndarray, hi_a: np.ndarray, lo_b: np.ndarray, hi_b: np.ndarray) -> np.ndarray:
    """IoU of axis-aligned boxes given by (..., 3) lower and upper corners (broadcasts).

    Returns (...) float64; 0 where the union volume is 0.
    """
    lo_a, hi_a, lo_b, hi_b = (np.asarray(x, dtype=np.float64) for x in (lo_a, hi_a, lo_b, hi_b))
    inter = np.prod(np.clip(np.minimum(hi_a, hi_b) - np.maximum(lo_a, lo_b), 0.0, None), axis=-1)
    union = np.prod(hi_a - lo_a, axis=-1) + np.prod(hi_b - lo_b, axis=-1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def _clip_candidates(a: Box3D, b: Box3D, tol: float) -> np.ndarray:
    """Corners of ``a`` inside ``b`` and crossings of ``a``'s edges with ``b``'s face planes inside ``b``."""
    ca = a.corners()
    rb = np.asarray(b.rotation)
    half_b = np.asarray(b.size) / 2.0
    # in b's local frame the faces are the planes x_k = +-half_b[k]
    local = (ca - b.center) @ rb
    p0, p1 = local[_EDGES[:, 0]], local[_EDGES[:, 1]]
    d = p1 - p0
    pts = [local]
    for k in range(3):
        for sign in (-1.0, 1.0):
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (sign * half_b[k] - p0[:, k]) / d[:, k]
            ok = np.isfinite(t) & (t >= 0.0) & (t <= 1.0)
            x = p0[ok] + t[ok, None] * d[ok]
            x[:, k] = sign * half_b[k]  # exactly on the plane
            pts.append(x)
    cand = np.concatenate(pts)
    inside = np.all(np.abs(cand) <= half_b + tol, axis=1)
    return cand[inside] @ rb.T + b.center


def _hull_volume(points: np.ndarray, scale: float) -> float:
    if len(points) < 4:
        return 0.0
    centred = points - points.mean(axis=0)
    sv = np.linalg.svd(centred, compute_uv=False)
    if sv[-1] <= 1e-12 * max(scale, 1e-300) * np.sqrt(len(points)):
        return 0.0  # flat or lower-dimensional intersection
    try:
        return float(ConvexHull(points).volume)
    except QhullError:
        return 0.0


def box_intersection_volume(a: Box3D, b: Box3D) -> float:
    """Exact volume of the intersection of two oriented boxes (no size clamping)."""
    if is_axis_aligned(a) and is_axis_aligned(b):
        (la, ha), (lb, hb) = box_bounds(a), box_bounds(b)
        return float(np.prod(np.clip(np.minimum(ha, hb) - np.maximum(la, lb), 0.0, None)))
    scale = float(max(np.max(a.size), np.max(b.size), 1e-300))
    tol = 1e-9 * scale
    # quick reject: disjoint bounding spheres
    if np.linalg.norm(np.asarray(a.center) - b.center) > (np.linalg.norm(a.size) + np.linalg.norm(b.size)) / 2 + tol:
        return 0.0
    pts = np.concatenate([_clip_candidates(a, b, tol), _clip_candidates(b, a, tol)])
    return _hull_volume(pts, scale)


def box_iou_3d(a: Box3D, b: Box3D, min_size: float = DEFAULT_MIN_SIZE) -> float:
    """Exact IoU of two oriented boxes after raising every side to at least ``min_size`` (module docstring)."""
    a, b = _sized(a, min_size), _sized(b, min_size)
    inter = box_intersection_volume(a, b)
    union = a.volume() + b.volume() - inter
    return float(inter / union) if union > 0 else 0.0


def part_box_ious(
    pred: Sequence[Box3D | None], gt: Sequence[Box3D | None], min_size: float = DEFAULT_MIN_SIZE
) -> np.ndarray:
    """(P,) float64 per-part IoU: NaN where the ground-truth box is None (part absent), 0 where only
    the prediction is None (part missed)."""
    if len(pred) != len(gt):
        raise ValueError(f"{len(pred)} predicted boxes but {len(gt)} ground-truth boxes")
    out = np.full(len(gt), np.nan)
    for k, (p, g) in enumerate(zip(pred, gt, strict=True)):
        if g is not None:
            out[k] = 0.0 if p is None else box_iou_3d(p, g, min_size)
    return out


def mean_part_box_iou(
    pred: Sequence[Box3D | None], gt: Sequence[Box3D | None], min_size: float = DEFAULT_MIN_SIZE
) -> float:
    """Mean of :func:`part_box_ious` over the parts present in the ground truth (NaN if none)."""
    v = part_box_ious(pred, gt, min_size)
    v = v[~np.isnan(v)]
    return float(v.mean()) if len(v) else float("nan")
