"""Normalisation of meshes and point clouds.

Two conventions from the papers' code:
- unit sphere (PartSLIP / PartSTAD): subtract the mean of the points, divide by the max norm;
- unit box (3D-DST): centre the axis-aligned bounding box at the origin, scale so its
  longest side is 1.

Both return the transform so results can be mapped back: ``normalised = (x - offset) * scale``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, Union, cast

import numpy as np

from partlift.errors import InvalidGeometryError

if TYPE_CHECKING:
    from partlift.geometry.partmesh import PartMesh
    from partlift.geometry.pointcloud import PartPointCloud

Shape = Union["PartMesh", "PartPointCloud", np.ndarray]
ShapeT = TypeVar("ShapeT", bound=Shape)


@dataclass(frozen=True)
class Normalization:
    """``normalised = (original - offset) * scale``.

    Attributes:
        offset: (3,) float64 translation subtracted first.
        scale: positive float multiplier applied after the offset.
    """

    offset: np.ndarray
    scale: float

    def apply(self, points: np.ndarray) -> np.ndarray:
        return ((np.asarray(points, dtype=np.float64) - self.offset) * self.scale).astype(np.float32)

    def invert(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64) / self.scale + self.offset).astype(np.float32)

    def matrix(self) -> np.ndarray:
        """(4, 4) float64 homogeneous matrix of :meth:`apply`."""
        m = np.eye(4)
        m[:3, :3] *= self.scale
        m[:3, 3] = -self.offset * self.scale
        return m


def _check(points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3 or len(p) == 0:
        raise InvalidGeometryError(f"cannot normalise points of shape {p.shape}; need (N>0, 3)")
    if not np.isfinite(p).all():
        raise InvalidGeometryError("cannot normalise points containing NaN/Inf")
    return p


def unit_sphere_normalization(points: np.ndarray) -> Normalization:
    """PartSLIP's normalisation: centre at the mean, max distance to the centre = 1."""
    p = _check(points)
    offset = p.mean(axis=0)
    radius = np.linalg.norm(p - offset, axis=1).max()
    if radius <= 0:
        raise InvalidGeometryError("cannot normalise: all points coincide")
    return Normalization(offset=offset, scale=float(1.0 / radius))


def unit_box_normalization(points: np.ndarray) -> Normalization:
    """3D-DST's normalisation: bounding box centred at the origin, longest side = 1."""
    p = _check(points)
    lo, hi = p.min(axis=0), p.max(axis=0)
    extent = (hi - lo).max()
    if extent <= 0:
        raise InvalidGeometryError("cannot normalise: all points coincide")
    return Normalization(offset=(lo + hi) / 2.0, scale=float(1.0 / extent))


def _points(obj: Shape) -> np.ndarray:
    if hasattr(obj, "vertices"):
        return obj.vertices
    return np.asarray(getattr(obj, "points", obj))


def _apply(obj: Shape, norm: Normalization) -> Shape:
    from partlift.geometry.partmesh import PartMesh
    from partlift.geometry.pointcloud import PartPointCloud

    if isinstance(obj, PartMesh):
        return obj.copy(vertices=norm.apply(obj.vertices))
    if isinstance(obj, PartPointCloud):
        out = obj.subset(np.arange(len(obj)))
        out.points = norm.apply(obj.points)
        return out
    return norm.apply(obj)


def normalize_unit_sphere(obj: ShapeT) -> tuple[ShapeT, Normalization]:
    """Return ``(normalised, Normalization)`` for a PartMesh, PartPointCloud or (N, 3) array."""
    norm = unit_sphere_normalization(_points(obj))
    return cast(ShapeT, _apply(obj, norm)), norm  # _apply returns the kind it is given


def normalize_unit_box(obj: ShapeT) -> tuple[ShapeT, Normalization]:
    """Return ``(normalised, Normalization)`` for a PartMesh, PartPointCloud or (N, 3) array."""
    norm = unit_box_normalization(_points(obj))
    return cast(ShapeT, _apply(obj, norm)), norm  # _apply returns the kind it is given
