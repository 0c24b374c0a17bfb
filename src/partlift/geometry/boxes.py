"""Oriented and axis-aligned 3D boxes, per part."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from partlift.errors import InvalidGeometryError

# Corner sign pattern; corner i = center + rotation @ (signs[i] * size / 2).
_CORNER_SIGNS = np.array(
    [[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64
)


@dataclass(frozen=True)
class Box3D:
    """An oriented 3D box.

    Attributes:
        center: (3,) float64 centre.
        size: (3,) float64 full side lengths along the box axes (>= 0, may be 0 for flat parts).
        rotation: (3, 3) float64 proper rotation whose columns are the box axes in world coordinates.
    """

    center: np.ndarray
    size: np.ndarray
    rotation: np.ndarray

    def corners(self) -> np.ndarray:
        """(8, 3) float64 corners; index bits (x, y, z) = (i >> 2, i >> 1, i) & 1 choose -/+ half-size."""
        return self.center + (_CORNER_SIGNS * (np.asarray(self.size) / 2.0)) @ np.asarray(self.rotation).T

    def volume(self) -> float:
        return float(np.prod(self.size))

    def contains(self, points: np.ndarray, eps: float = 1e-9) -> np.ndarray:
        """(N,) bool: points inside or on the box."""
        local = (np.asarray(points, dtype=np.float64) - self.center) @ self.rotation
        return (np.abs(local) <= np.asarray(self.size) / 2.0 + eps).all(axis=1)

    def to_dict(self) -> dict:
        return {
            "center": np.asarray(self.center).tolist(),
            "size": np.asarray(self.size).tolist(),
            "rotation": np.asarray(self.rotation).tolist(),
        }

    @staticmethod
    def from_dict(d: dict) -> Box3D:
        return Box3D(np.asarray(d["center"], float), np.asarray(d["size"], float), np.asarray(d["rotation"], float))

    def transformed(self, rotation: np.ndarray, translation: np.ndarray, scale: float = 1.0) -> Box3D:
        """The box under x -> scale * rotation @ x + translation."""
        r = np.asarray(rotation, dtype=np.float64)
        return Box3D(scale * r @ self.center + translation, scale * np.asarray(self.size), r @ self.rotation)


def _points(points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3 or len(p) == 0:
        raise InvalidGeometryError(f"a box needs (N>0, 3) points, got shape {p.shape}")
    if not np.isfinite(p).all():
        raise InvalidGeometryError("cannot fit a box to points containing NaN/Inf")
    return p


def aabb(points: np.ndarray) -> Box3D:
    """Axis-aligned bounding box of (N, 3) points."""
    p = _points(points)
    lo, hi = p.min(axis=0), p.max(axis=0)
    return Box3D((lo + hi) / 2.0, hi - lo, np.eye(3))


def oriented_box(points: np.ndarray, method: str = "min_volume") -> Box3D:
    """Oriented bounding box of (N, 3) points.

    ``method="min_volume"`` uses trimesh's minimum-volume box of the convex hull (falls back to PCA
    when the hull is degenerate: fewer than 4 points, or coplanar / collinear points).
    ``method="pca"`` aligns the box with the principal axes. Axes are sorted by decreasing size
    and the rotation is made proper (det = +1).
    """
    p = _points(points)
    rot = None
    if method == "min_volume" and len(p) >= 4:
        try:
            import trimesh

            to_origin, extents = trimesh.bounds.oriented_bounds(p)
            inv = np.linalg.inv(to_origin)
            rot, center, size = inv[:3, :3], inv[:3, 3], np.asarray(extents, dtype=np.float64)
        except Exception:  # qhull fails on flat/degenerate sets; PCA handles them
            rot = None
    elif method not in ("min_volume", "pca"):
        raise ValueError(f"unknown method {method!r}; use 'min_volume' or 'pca'")
    if rot is None:
        centered = p - p.mean(axis=0)
        _, _, vt = np.linalg.svd(centered, full_matrices=True)
        rot = vt.T
        local = centered @ rot
        lo, hi = local.min(axis=0), local.max(axis=0)
        center = p.mean(axis=0) + rot @ ((lo + hi) / 2.0)
        size = hi - lo
    order = np.argsort(-size, kind="stable")
    rot, size = rot[:, order], size[order]
    if np.linalg.det(rot) < 0:
        rot[:, 2] = -rot[:, 2]
    return Box3D(np.asarray(center, dtype=np.float64), size, rot)


def part_boxes(points: np.ndarray, labels: np.ndarray, num_parts: int, oriented: bool = True) -> list:
    """One box per part label 0..num_parts-1 (None where a part has no points).

    Args:
        points: (N, 3) vertices or samples.
        labels: (N,) int part label per point, -1 ignored.
        num_parts: number of part names.
        oriented: oriented (min-volume) boxes if True, else axis-aligned.
    """
    p = np.asarray(points)
    lab = np.asarray(labels)
    out: list[Box3D | None] = []
    for k in range(num_parts):
        sel = p[lab == k]
        out.append(None if len(sel) == 0 else (oriented_box(sel) if oriented else aabb(sel)))
    return out
