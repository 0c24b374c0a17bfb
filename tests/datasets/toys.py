"""Small hand-made part-labelled meshes for the dataset tests (independent of partlift.shapes)."""

from __future__ import annotations

import numpy as np
import trimesh

from partlift.geometry.normalize import normalize_unit_box
from partlift.geometry.partmesh import PartMesh

TOY_CAR_PARTS = ("body", "door", "wheel", "light")


def _piece(tm: trimesh.Trimesh, label: int, instance: int, region: str):
    return np.asarray(tm.vertices), np.asarray(tm.faces), label, instance, region


def toy_car(seed: int = 0) -> PartMesh:
    """A box car (+Z front, +Y up): body, two doors, four wheels, two head lights; unit box.

    ``extras`` carries ``region`` / ``region_names`` like the procedural generators.
    """
    rng = np.random.default_rng(seed)
    length, height, width = 1.0 + 0.2 * rng.random(), 0.35 + 0.1 * rng.random(), 0.5 + 0.1 * rng.random()
    pieces = []
    body = trimesh.creation.box((width, height, length))
    body.apply_translation((0, height / 2 + 0.12, 0))
    pieces.append(_piece(body, 0, 0, "body"))
    for k, side in enumerate((1, -1)):
        door = trimesh.creation.box((0.02, height * 0.6, length * 0.35))
        door.apply_translation((side * (width / 2 + 0.01), height / 2 + 0.12, 0.0))
        pieces.append(_piece(door, 1, 1 + k, f"door#{k}"))
    for k, (sx, sz) in enumerate(((1, 1), (-1, 1), (1, -1), (-1, -1))):
        wheel = trimesh.creation.cylinder(radius=0.12, height=0.08, sections=20)
        wheel.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, (0, 1, 0)))
        wheel.apply_translation((sx * (width / 2 + 0.04), 0.12, sz * length * 0.32))
        pieces.append(_piece(wheel, 2, 3 + k, f"wheel#{k}"))
    for k, sx in enumerate((1, -1)):
        light = trimesh.creation.icosphere(subdivisions=1, radius=0.05)
        light.apply_translation((sx * width * 0.3, height * 0.7 + 0.12, length / 2))
        pieces.append(_piece(light, 3, 7 + k, f"light#{k}"))
    verts, faces, labels, inst, regions = [], [], [], [], []
    off = 0
    names = sorted({p[4] for p in pieces})
    for v, f, lab, ins, reg in pieces:
        verts.append(v)
        faces.append(f + off)
        off += len(v)
        labels.append(np.full(len(v), lab))
        inst.append(np.full(len(v), ins))
        regions.append(np.full(len(v), names.index(reg)))
    mesh = PartMesh(
        np.concatenate(verts), np.concatenate(faces), np.concatenate(labels), TOY_CAR_PARTS, "car",
        instances=np.concatenate(inst), name=f"toycar_{seed:06d}",
    )
    mesh, _ = normalize_unit_box(mesh)
    mesh.extras = {"region": np.concatenate(regions), "region_names": tuple(names)}
    return mesh


def toy_chair(seed: int = 0) -> PartMesh:
    """A box chair in PartNetE's Chair taxonomy (arm, back, leg, seat, wheel); no arms, no wheels."""
    rng = np.random.default_rng(seed)
    parts = ("arm", "back", "leg", "seat", "wheel")
    pieces = []
    seat_h = 0.45 + 0.05 * rng.random()
    seat = trimesh.creation.box((0.5, 0.06, 0.5))
    seat.apply_translation((0, seat_h, 0))
    pieces.append((seat, 3, 0))
    back = trimesh.creation.box((0.5, 0.5, 0.05))
    back.apply_translation((0, seat_h + 0.28, -0.225))
    pieces.append((back, 1, 1))
    for k, (sx, sz) in enumerate(((1, 1), (-1, 1), (1, -1), (-1, -1))):
        leg = trimesh.creation.box((0.05, seat_h, 0.05))
        leg.apply_translation((sx * 0.22, seat_h / 2, sz * 0.22))
        pieces.append((leg, 2, 2 + k))
    v = np.concatenate([p[0].vertices for p in pieces])
    offs = np.cumsum([0] + [len(p[0].vertices) for p in pieces[:-1]])
    f = np.concatenate([p[0].faces + o for p, o in zip(pieces, offs, strict=True)])
    lab = np.concatenate([np.full(len(p[0].vertices), p[1]) for p in pieces])
    ins = np.concatenate([np.full(len(p[0].vertices), p[2]) for p in pieces])
    mesh = PartMesh(v, f, lab, parts, "Chair", instances=ins, name=f"toychair_{seed:06d}")
    return normalize_unit_box(mesh)[0]


def flaky_toy_car(seed: int = 0) -> PartMesh:
    """:func:`toy_car`, but raises for the seed named in $PARTLIFT_TEST_FAIL_SEED (simulated crash)."""
    import os

    if os.environ.get("PARTLIFT_TEST_FAIL_SEED") == str(seed):
        raise RuntimeError(f"simulated crash on seed {seed}")
    return toy_car(seed)
