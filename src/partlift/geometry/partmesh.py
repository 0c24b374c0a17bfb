"""`PartMesh`: a triangle mesh whose vertices carry part labels.

Label convention (docs/CONVENTIONS.md, "Labels"): ``labels[v]`` indexes ``part_names``;
``-1`` (:data:`UNLABELLED`) means the vertex belongs to no named part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from partlift.errors import InvalidGeometryError, LabelMismatchError

UNLABELLED = -1


def _first_bad_rows(mask: ArrayLike, limit: int = 5) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    more = f" (and {len(rows) - limit} more)" if len(rows) > limit else ""
    return f"{shown}{more}"


@dataclass(eq=False)
class PartMesh:
    """A triangle mesh with per-vertex part labels, validated on construction.

    Attributes:
        vertices: (V, 3) float32 coordinates in the object's canonical frame (docs/CONVENTIONS.md).
        faces: (F, 3) int64 vertex indices, counter-clockwise seen from outside (outward normals).
        labels: (V,) int64 index into ``part_names`` per vertex, -1 = unlabelled.
        part_names: ordered part names; label ``k`` means ``part_names[k]``.
        category: category name, e.g. ``"car"`` or ``"Chair"``.
        colors: optional (V, 3) float32 RGB in [0, 1].
        instances: optional (V,) int64 part-instance id per vertex, -1 = none (PartNetE convention).
        name: free-form identifier (shape id).
    """

    vertices: np.ndarray
    faces: np.ndarray
    labels: np.ndarray | None = None
    part_names: Sequence[str] = ()
    category: str = ""
    colors: np.ndarray | None = None
    instances: np.ndarray | None = None
    name: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        who = f"mesh {self.name!r}" if self.name else "mesh"
        v = np.asarray(self.vertices)
        f = np.asarray(self.faces)
        if v.ndim != 2 or v.shape[1] != 3:
            raise InvalidGeometryError(f"{who}: vertices must have shape (V, 3), got {v.shape}")
        if len(v) == 0:
            raise InvalidGeometryError(f"{who}: mesh is empty (0 vertices)")
        if f.ndim != 2 or f.shape[1] != 3:
            if f.size == 0:
                raise InvalidGeometryError(f"{who}: mesh has no faces (at least one triangle is required)")
            raise InvalidGeometryError(f"{who}: faces must have shape (F, 3), got {f.shape}")
        if len(f) == 0:
            raise InvalidGeometryError(f"{who}: mesh has no faces (at least one triangle is required)")
        if not np.issubdtype(f.dtype, np.integer):
            if not np.all(np.isfinite(f)) or not np.all(f == np.round(f)):
                raise InvalidGeometryError(f"{who}: face indices must be integers")
        bad = ~np.isfinite(v).all(axis=1)
        if bad.any():
            raise InvalidGeometryError(
                f"{who}: {int(bad.sum())} vertices have non-finite (NaN/Inf) coordinates, "
                f"first at vertex index {_first_bad_rows(bad)}"
            )
        f = f.astype(np.int64)
        out = ((f < 0) | (f >= len(v))).any(axis=1)
        if out.any():
            raise InvalidGeometryError(
                f"{who}: {int(out.sum())} faces reference vertex indices outside [0, {len(v) - 1}], "
                f"first at face index {_first_bad_rows(out)}"
            )
        self.vertices = np.ascontiguousarray(v, dtype=np.float32)
        self.faces = np.ascontiguousarray(f)
        self.part_names = tuple(str(p) for p in self.part_names)

        if self.labels is None:
            self.labels = np.full(len(v), UNLABELLED, dtype=np.int64)
        self.labels = self._per_vertex(self.labels, "labels")
        if len(self.labels) and self.labels.max(initial=-1) >= len(self.part_names):
            raise LabelMismatchError(
                f"{who}: label {int(self.labels.max())} has no part name "
                f"({len(self.part_names)} part names: {list(self.part_names)})"
            )
        if (self.labels < UNLABELLED).any():
            raise LabelMismatchError(f"{who}: labels below -1 found (-1 is the only negative label)")
        if self.instances is not None:
            self.instances = self._per_vertex(self.instances, "instances")
        if self.colors is not None:
            c = np.asarray(self.colors, dtype=np.float32)
            if c.shape != (len(v), 3):
                raise LabelMismatchError(f"{who}: colors must have shape ({len(v)}, 3), got {c.shape}")
            if not np.isfinite(c).all():
                raise InvalidGeometryError(f"{who}: colors contain NaN/Inf")
            self.colors = np.ascontiguousarray(c)

    def _per_vertex(self, arr: np.ndarray, what: str) -> np.ndarray:
        a = np.asarray(arr)
        if a.ndim != 1 or len(a) != len(self.vertices):
            raise LabelMismatchError(
                f"mesh {self.name!r}: {what} has length {a.shape[0] if a.ndim else a.shape} "
                f"but the mesh has {len(self.vertices)} vertices"
            )
        if a.size and not np.issubdtype(a.dtype, np.integer):
            if not np.all(a == np.round(a)):
                raise LabelMismatchError(f"mesh {self.name!r}: {what} must be integers")
        return np.ascontiguousarray(a, dtype=np.int64)

    # ------------------------------------------------------------------ derived quantities
    @property
    def num_parts(self) -> int:
        return len(self.part_names)

    def face_labels(self) -> np.ndarray:
        """(F,) int64 label per face: the majority label of its three vertices (ties -> first vertex)."""
        assert self.labels is not None  # set by __post_init__
        lab = self.labels[self.faces]
        a, b, c = lab[:, 0], lab[:, 1], lab[:, 2]
        return np.where((b == c) & (a != b), b, a)

    def face_instances(self) -> np.ndarray | None:
        """(F,) int64 instance id per face by the same majority rule, or None."""
        if self.instances is None:
            return None
        ins = self.instances[self.faces]
        a, b, c = ins[:, 0], ins[:, 1], ins[:, 2]
        return np.where((b == c) & (a != b), b, a)

    def face_normals(self) -> np.ndarray:
        """(F, 3) float32 unit normals (zero for degenerate faces)."""
        tri = self.vertices[self.faces].astype(np.float64)
        n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        norm = np.linalg.norm(n, axis=1, keepdims=True)
        return (n / np.where(norm > 0, norm, 1.0)).astype(np.float32)

    def face_areas(self) -> np.ndarray:
        """(F,) float64 triangle areas."""
        tri = self.vertices[self.faces].astype(np.float64)
        return 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)

    def vertex_normals(self) -> np.ndarray:
        """(V, 3) float32 area-weighted unit vertex normals."""
        tri = self.vertices[self.faces].astype(np.float64)
        n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # length = 2 * area
        acc = np.zeros((len(self.vertices), 3))
        for k in range(3):
            np.add.at(acc, self.faces[:, k], n)
        norm = np.linalg.norm(acc, axis=1, keepdims=True)
        return (acc / np.where(norm > 0, norm, 1.0)).astype(np.float32)

    def bounds(self) -> np.ndarray:
        """(2, 3) float32 [min corner, max corner]."""
        return np.stack([self.vertices.min(axis=0), self.vertices.max(axis=0)])

    def part_mask(self, part: int | str) -> np.ndarray:
        """(V,) bool mask of the vertices of one part, by index or name."""
        idx = self.part_names.index(part) if isinstance(part, str) else int(part)
        assert self.labels is not None  # set by __post_init__
        return self.labels == idx

    def copy(self, **changes: Any) -> PartMesh:
        """A deep copy, optionally with some fields replaced (re-validated)."""
        assert self.labels is not None  # set by __post_init__
        fields: dict[str, Any] = {
            "vertices": self.vertices.copy(),
            "faces": self.faces.copy(),
            "labels": self.labels.copy(),
            "part_names": tuple(self.part_names),
            "category": self.category,
            "colors": None if self.colors is None else self.colors.copy(),
            "instances": None if self.instances is None else self.instances.copy(),
            "name": self.name,
            "extras": dict(self.extras),
        }
        fields.update(changes)
        return PartMesh(**fields)

    def transformed(self, matrix: np.ndarray) -> PartMesh:
        """A copy with a (4, 4) similarity/affine transform applied to the vertices."""
        m = np.asarray(matrix, dtype=np.float64)
        v = self.vertices.astype(np.float64) @ m[:3, :3].T + m[:3, 3]
        faces = self.faces
        if np.linalg.det(m[:3, :3]) < 0:  # a reflection flips the winding; keep normals outward
            faces = faces[:, ::-1]
        return self.copy(vertices=v.astype(np.float32), faces=faces.copy())

    def submesh(self, face_mask: np.ndarray) -> PartMesh:
        """The mesh restricted to the selected faces, with unused vertices dropped."""
        faces = self.faces[np.asarray(face_mask, dtype=bool)]
        used, inverse = np.unique(faces, return_inverse=True)
        assert self.labels is not None  # set by __post_init__
        return self.copy(
            vertices=self.vertices[used],
            faces=inverse.reshape(-1, 3).astype(np.int64),
            labels=self.labels[used],
            colors=None if self.colors is None else self.colors[used],
            instances=None if self.instances is None else self.instances[used],
        )

    @staticmethod
    def concatenate(meshes: Sequence[PartMesh], name: str = "") -> PartMesh:
        """Join meshes sharing one ``part_names`` list into one mesh (no vertex welding)."""
        if not meshes:
            raise InvalidGeometryError("cannot concatenate an empty list of meshes")
        names = tuple(meshes[0].part_names)
        for m in meshes[1:]:
            if tuple(m.part_names) != names:
                raise LabelMismatchError(
                    f"cannot concatenate meshes with different part names: {names} vs {tuple(m.part_names)}"
                )
        offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
        has_col = all(m.colors is not None for m in meshes)
        has_ins = all(m.instances is not None for m in meshes)
        return PartMesh(
            vertices=np.concatenate([m.vertices for m in meshes]),
            faces=np.concatenate([m.faces + o for m, o in zip(meshes, offsets, strict=True)]),
            labels=np.concatenate([m.labels for m in meshes]),
            part_names=names,
            category=meshes[0].category,
            colors=np.concatenate([m.colors for m in meshes]) if has_col else None,
            instances=np.concatenate([m.instances for m in meshes]) if has_ins else None,
            name=name or meshes[0].name,
        )

    def __repr__(self) -> str:
        return (
            f"PartMesh(name={self.name!r}, category={self.category!r}, V={len(self.vertices)}, "
            f"F={len(self.faces)}, parts={list(self.part_names)})"
        )
