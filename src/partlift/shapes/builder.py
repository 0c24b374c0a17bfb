"""Assemble primitives into one labelled, normalised :class:`PartMesh`.

A generator calls :meth:`ShapeBuilder.add` once per primitive with

- a *region* name: the generator's own name for that piece of geometry. The category's
  ``region_map`` turns regions into part names (or ``None`` = unlabelled, label -1), so one
  generator can serve a Part321 and a PartNetE taxonomy. A ``#tag`` suffix (``"door_left#front"``)
  names an instance of the part: vertices with the same region string form one part instance.
  A region can also be given per vertex (a sequence of names), to cut one surface into parts.
- a *slot* name: the template sub-part the primitive fills (``"leg_front_left"``). Slots are the
  same across instances of a category whenever the sub-part exists, so they key the ground-truth
  correspondence: ``extras["part_instance_key"]`` is a stable hash of ``slot|region``.

The finished mesh is scaled into the unit box (axis-aligned bounding box centred at the origin,
longest side 1) in the canonical frame +Y up, +Z front, +X the object's left.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from partlift.geometry.normalize import normalize_unit_box
from partlift.geometry.partmesh import UNLABELLED, PartMesh
from partlift.geometry.transforms import rot_x, rot_y, rot_z
from partlift.shapes.primitives import Primitive

# (R, G, B) in [0, 1] for common materials; generators pick from these or sample their own.
_MATERIAL_RGB = {
    "tyre": (0.08, 0.08, 0.09),
    "rubber": (0.15, 0.15, 0.16),
    "metal": (0.62, 0.63, 0.66),
    "chrome": (0.82, 0.83, 0.86),
    "dark_metal": (0.30, 0.31, 0.33),
    "glass": (0.25, 0.35, 0.45),
    "light": (0.95, 0.93, 0.80),
    "wood": (0.55, 0.38, 0.22),
    "dark_wood": (0.36, 0.24, 0.14),
    "plastic_black": (0.12, 0.12, 0.13),
    "plastic_white": (0.90, 0.90, 0.88),
    "fabric": (0.35, 0.40, 0.55),
    "white": (0.93, 0.93, 0.93),
}
MATERIALS: dict[str, np.ndarray] = {k: np.asarray(v, dtype=np.float64) for k, v in _MATERIAL_RGB.items()}
for _v in MATERIALS.values():
    _v.flags.writeable = False


def slot_key(slot: str, region: str) -> int:
    """Stable non-negative int key of a (slot, region) pair (CRC-32, independent of run and order)."""
    return zlib.crc32(f"{slot}|{region}".encode()) & 0x7FFFFFFF


def pose(at=(0.0, 0.0, 0.0), rot: np.ndarray | None = None, scale=1.0) -> np.ndarray:
    """(4, 4) matrix ``x -> rot @ (scale * x) + at`` (``scale`` scalar or (3,) per local axis)."""
    m = np.eye(4)
    r = np.eye(3) if rot is None else np.asarray(rot, dtype=np.float64)
    m[:3, :3] = r @ np.diag(np.broadcast_to(np.asarray(scale, dtype=np.float64), (3,)))
    m[:3, 3] = at
    return m


def rx(deg: float) -> np.ndarray:
    return rot_x(np.deg2rad(deg))


def ry(deg: float) -> np.ndarray:
    return rot_y(np.deg2rad(deg))


def rz(deg: float) -> np.ndarray:
    return rot_z(np.deg2rad(deg))


def align_y(direction) -> np.ndarray:
    """(3, 3) rotation taking +Y onto ``direction`` (the shortest arc; X stays as close to X as possible)."""
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    y = np.array([0.0, 1.0, 0.0])
    c = float(np.dot(y, d))
    if c < -1 + 1e-12:
        return np.diag([1.0, -1.0, -1.0])
    v = np.cross(y, d)
    k = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + k + k @ k / (1.0 + c)


def segment_pose(p0, p1) -> np.ndarray:
    """(4, 4) placing a +Y-aligned primitive centred at the origin between ``p0`` and ``p1``.

    The primitive must have unit length along Y (scale it first) or be built with the segment's length.
    """
    a, b = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    return pose((a + b) / 2, align_y(b - a))


# Rotations taking a primitive's local +Y axis (lathes, cylinders) onto a world axis.
Y_TO_X = rz(-90.0)
Y_TO_Z = rx(90.0)
# Taking a loft's local +Z axis onto world +X (spans of left wings, axles).
Z_TO_X = ry(90.0)


class ShapeBuilder:
    """Collects labelled primitives for one generated shape.

    Args:
        category: category name stored on the mesh.
        part_names: the category's ordered part names (labels index this).
        region_map: region name -> part name, or None for unlabelled regions; regions missing from
            the map are taken to be part names themselves.
        seed: the generation seed (stored in ``extras``).
    """

    def __init__(self, category: str, part_names: Sequence[str], region_map: dict | None = None, seed: int = 0):
        self.category = category
        self.part_names = tuple(part_names)
        self.region_map = dict(region_map or {})
        self.seed = int(seed)
        self.style: dict = {}
        self._chunks: list[dict] = []
        self._slots: set[tuple[str, str]] = set()

    def part_of(self, region: str) -> str | None:
        """The part name a region string (optionally with a ``#tag``) maps to, or None."""
        base = region.split("#", 1)[0]
        part = self.region_map.get(base, base)
        if part is not None and part not in self.part_names:
            raise ValueError(
                f"{self.category}: region {region!r} maps to {part!r}, not one of the parts {self.part_names}"
            )
        return part

    def add(
        self,
        prim: Primitive,
        region: str | Sequence[str],
        slot: str,
        *,
        color=(0.6, 0.6, 0.6),
        matrix: np.ndarray | None = None,
    ) -> None:
        """Add a primitive, transformed by ``matrix`` (4, 4), as region(s) ``region`` of ``slot``.

        ``color`` is one RGB triple or a (V, 3) array.
        """
        v = np.asarray(prim.vertices, dtype=np.float64)
        f = np.asarray(prim.faces, dtype=np.int64)
        if matrix is not None:
            m = np.asarray(matrix, dtype=np.float64)
            v = v @ m[:3, :3].T + m[:3, 3]
            if np.linalg.det(m[:3, :3]) < 0:  # mirrored: keep the faces wound outward
                f = f[:, ::-1]
        regions = np.full(len(v), region, dtype=object) if isinstance(region, str) else np.asarray(region, object)
        if len(regions) != len(v):
            raise ValueError(f"{self.category}: {len(regions)} region names for {len(v)} vertices in slot {slot!r}")
        for reg in set(regions.tolist()):
            if (slot, reg) in self._slots:
                raise ValueError(f"{self.category}: slot {slot!r} region {reg!r} added twice")
            self._slots.add((slot, reg))
        col = np.broadcast_to(np.asarray(color, dtype=np.float64), (len(v), 3))
        self._chunks.append({"v": v, "f": f, "param": prim.param, "regions": regions, "slot": slot, "color": col})

    @property
    def num_vertices(self) -> int:
        return sum(len(c["v"]) for c in self._chunks)

    def finish(self, name: str = "") -> PartMesh:
        """Concatenate, label and normalise everything added so far into a PartMesh."""
        if not self._chunks:
            raise ValueError(f"{self.category}: nothing was added")
        offsets = np.cumsum([0] + [len(c["v"]) for c in self._chunks[:-1]])
        verts = np.concatenate([c["v"] for c in self._chunks])
        faces = np.concatenate([c["f"] + o for c, o in zip(self._chunks, offsets, strict=True)])
        regions = np.concatenate([c["regions"] for c in self._chunks])
        slots = np.concatenate([np.full(len(c["v"]), c["slot"], dtype=object) for c in self._chunks])

        region_names = tuple(sorted(set(regions.tolist())))
        region_idx = {r: i for i, r in enumerate(region_names)}
        labels = np.full(len(verts), UNLABELLED, dtype=np.int64)
        instances = np.full(len(verts), -1, dtype=np.int64)
        inst_ids: dict[str, int] = {}
        # instance ids in order of first appearance, so they are stable for a given style
        reg_of_vertex = np.array([region_idx[r] for r in regions], dtype=np.int64)
        for r in dict.fromkeys(regions.tolist()):
            part = self.part_of(r)
            if part is None:
                continue
            mask = reg_of_vertex == region_idx[r]
            labels[mask] = self.part_names.index(part)
            inst_ids.setdefault(r if "#" in r else part, len(inst_ids))
            instances[mask] = inst_ids[r if "#" in r else part]
        keys_of: dict[str, int] = {}
        keys = np.empty(len(verts), dtype=np.int64)
        pairs = [f"{s}|{r}" for s, r in zip(slots.tolist(), regions.tolist(), strict=True)]
        for i, pr in enumerate(pairs):
            k = keys_of.get(pr)
            if k is None:
                s, r = pr.split("|", 1)
                k = keys_of[pr] = slot_key(s, r)
            keys[i] = k
        mesh = PartMesh(
            vertices=verts.astype(np.float32),
            faces=faces,
            labels=labels,
            part_names=self.part_names,
            category=self.category,
            colors=np.clip(np.concatenate([c["color"] for c in self._chunks]), 0, 1).astype(np.float32),
            instances=instances,
            name=name or f"{self.category}_{self.seed:06d}",
        )
        mesh, _ = normalize_unit_box(mesh)
        mesh.extras = {
            "corr": np.concatenate([c["param"] for c in self._chunks]).astype(np.float32),
            "part_instance_key": keys,
            "part_keys": {v: k for k, v in keys_of.items()},
            "region": reg_of_vertex,
            "region_names": region_names,
            "style": dict(self.style),
            "seed": self.seed,
        }
        return mesh
