"""`PartPointCloud`: points with normals, colours, semantic labels and instance ids.

PartNetE conventions (docs/CONVENTIONS.md, "Labels"): ``labels`` index ``part_names`` and
-1 means "no part"; ``instances`` are 0-based instance ids and -1 means "no instance".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from partlift.errors import InvalidGeometryError, LabelMismatchError


@dataclass(eq=False)
class PartPointCloud:
    """A labelled point cloud, validated on construction.

    Attributes:
        points: (N, 3) float32 coordinates.
        normals: optional (N, 3) float32 unit normals.
        colors: optional (N, 3) float32 RGB in [0, 1].
        labels: (N,) int64 semantic label (index into ``part_names``), -1 = no part.
        instances: (N,) int64 instance id, -1 = no instance.
        part_names: ordered part names.
        category: category name.
        name: shape id.
    """

    points: np.ndarray
    normals: np.ndarray | None = None
    colors: np.ndarray | None = None
    labels: np.ndarray | None = None
    instances: np.ndarray | None = None
    part_names: Sequence[str] = ()
    category: str = ""
    name: str = ""

    def __post_init__(self) -> None:
        who = f"point cloud {self.name!r}" if self.name else "point cloud"
        p = np.asarray(self.points)
        if p.ndim != 2 or p.shape[1] != 3:
            raise InvalidGeometryError(f"{who}: points must have shape (N, 3), got {p.shape}")
        if len(p) == 0:
            raise InvalidGeometryError(f"{who}: point cloud is empty (0 points)")
        bad = ~np.isfinite(p).all(axis=1)
        if bad.any():
            first = np.flatnonzero(bad)[:5].tolist()
            raise InvalidGeometryError(
                f"{who}: {int(bad.sum())} points have non-finite (NaN/Inf) coordinates, first at {first}"
            )
        n = len(p)
        self.points = np.ascontiguousarray(p, dtype=np.float32)
        self.part_names = tuple(str(s) for s in self.part_names)
        for attr in ("normals", "colors"):
            a = getattr(self, attr)
            if a is not None:
                a = np.asarray(a, dtype=np.float32)
                if a.shape != (n, 3):
                    raise LabelMismatchError(f"{who}: {attr} must have shape ({n}, 3), got {a.shape}")
                if not np.isfinite(a).all():
                    raise InvalidGeometryError(f"{who}: {attr} contain NaN/Inf")
                setattr(self, attr, np.ascontiguousarray(a))
        for attr in ("labels", "instances"):
            a = getattr(self, attr)
            a = np.full(n, -1, dtype=np.int64) if a is None else np.asarray(a)
            if a.ndim != 1 or len(a) != n:
                raise LabelMismatchError(
                    f"{who}: {attr} has {a.shape[0] if a.ndim else 0} entries but there are {n} points"
                )
            setattr(self, attr, np.ascontiguousarray(a, dtype=np.int64))
        assert self.labels is not None and self.instances is not None
        if self.part_names and self.labels.max(initial=-1) >= len(self.part_names):
            raise LabelMismatchError(
                f"{who}: label {int(self.labels.max())} has no part name ({list(self.part_names)})"
            )

    def __len__(self) -> int:
        return len(self.points)

    def subset(self, index: np.ndarray) -> PartPointCloud:
        """The cloud restricted to ``index`` (bool mask or integer indices)."""

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[index]

        assert self.labels is not None and self.instances is not None  # set by __post_init__
        return PartPointCloud(
            points=self.points[index],
            normals=pick(self.normals),
            colors=pick(self.colors),
            labels=self.labels[index],
            instances=self.instances[index],
            part_names=self.part_names,
            category=self.category,
            name=self.name,
        )

    def __repr__(self) -> str:
        return f"PartPointCloud(name={self.name!r}, category={self.category!r}, N={len(self.points)})"
