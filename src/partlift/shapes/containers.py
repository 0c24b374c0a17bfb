"""Containers with PartNetE taxonomies: ``Bottle`` (lid), ``Bucket`` (handle), ``KitchenPot`` (lid, handle).

Bodies are surfaces of revolution (optionally squared off into a squircle); open containers are
hollow shells (outer wall up, rim, inner wall down), so their inside is visible. Bodies are
unlabelled (-1), as in PartNetE. Frames: +Y up; a jug's handle and a saucepan's long handle point
to -Z (back), a bucket's bail spans the X axis. Units are metres.
"""

from __future__ import annotations

import numpy as np

from partlift.shapes import primitives as P
from partlift.shapes.builder import MATERIALS, ShapeBuilder, pose
from partlift.shapes.registry import CategoryInfo, register


def squircle(prim: P.Primitive, power: float) -> P.Primitive:
    """Warp a surface of revolution about +Y so its horizontal sections become superellipses."""
    v = prim.vertices.copy()
    r = np.hypot(v[:, 0], v[:, 2])
    ang = np.arctan2(v[:, 2], v[:, 0])
    c, s = np.cos(ang), np.sin(ang)
    k = (np.abs(c) ** power + np.abs(s) ** power) ** (-1.0 / power)
    v[:, 0], v[:, 2] = r * c * k, r * s * k
    return P.Primitive(v, prim.faces, prim.param)


def shell_profile(outer: np.ndarray, wall: float) -> np.ndarray:
    """Closed lathe profile of an open vessel from an outer profile (bottom centre -> rim).

    ``outer`` (P, 2) starts on the axis at the bottom and ends at the rim; the inner wall is the
    outer one moved inward by ``wall`` and ends on the axis at the inner bottom.
    """
    inner = outer[::-1].copy()
    inner[:, 0] = np.maximum(inner[:, 0] - wall, 0.0)
    inner[:-1, 1] = np.maximum(inner[:-1, 1], outer[0, 1] + wall)
    inner[-1] = [0.0, outer[0, 1] + wall]
    rim = [[outer[-1, 0] - wall / 2, outer[-1, 1] + wall / 2]]
    return np.concatenate([outer, rim, inner[:, :]])


# ------------------------------------------------------------------------------------------ bottle
def bottle(b: ShapeBuilder, rng: np.random.Generator) -> None:
    kind = str(rng.choice(["wine", "water", "jug", "flask", "sports"]))
    cap = {
        "wine": str(rng.choice(["cork", "capsule"])),
        "water": "screw",
        "jug": "screw",
        "flask": "screw",
        "sports": "flip",
    }[kind]
    glass = np.asarray(
        [(0.15, 0.35, 0.20), (0.55, 0.75, 0.85), (0.45, 0.25, 0.10), (0.85, 0.88, 0.90)][rng.integers(4)]
    )
    b.style.update(kind=kind, cap=cap)
    r = {
        "wine": rng.uniform(0.036, 0.042),
        "water": rng.uniform(0.030, 0.040),
        "jug": rng.uniform(0.07, 0.09),
        "flask": rng.uniform(0.04, 0.06),
        "sports": rng.uniform(0.034, 0.04),
    }[kind]
    h = {
        "wine": rng.uniform(0.28, 0.33),
        "water": rng.uniform(0.18, 0.26),
        "jug": rng.uniform(0.22, 0.28),
        "flask": rng.uniform(0.14, 0.2),
        "sports": rng.uniform(0.2, 0.25),
    }[kind]
    neck_r = {"wine": 0.014, "water": 0.013, "jug": 0.02, "flask": 0.012, "sports": r * 0.85}[kind]
    shoulder = {
        "wine": rng.uniform(0.55, 0.65),
        "water": rng.uniform(0.65, 0.8),
        "jug": rng.uniform(0.7, 0.8),
        "flask": rng.uniform(0.75, 0.85),
        "sports": 0.9,
    }[kind]
    t = np.linspace(0.0, 1.0, 36)
    rad = np.empty_like(t)
    body = t <= shoulder
    rad[body] = r
    if kind == "water":
        rad[body] *= 1.0 - 0.06 * (np.sin(t[body] * 40) > 0.3)  # grip ribs
    neck_start = shoulder + (1 - shoulder) * (0.45 if kind != "sports" else 0.3)
    sh = (t > shoulder) & (t < neck_start)
    u = (t[sh] - shoulder) / (neck_start - shoulder)
    rad[sh] = neck_r + (r - neck_r) * (0.5 + 0.5 * np.cos(np.pi * u))
    rad[t >= neck_start] = neck_r
    rad[0] *= 0.9
    prof = np.concatenate([[[0.0, 0.0]], np.stack([rad, t * h], 1), [[0.0, h]]])
    body_prim = P.lathe(prof, 44)
    if kind == "flask":
        body_prim = squircle(body_prim, 5.0)
        body_prim = P.Primitive(body_prim.vertices * [1.0, 1.0, 0.55], body_prim.faces, body_prim.param)
    b.add(body_prim, "body", "body", color=glass)
    if kind == "jug":
        ya, yb = h * 0.72, h * 0.35
        ctrl = np.array(
            [
                [0.0, ya, -r * 0.8],
                [0.0, ya + 0.01, -r - 0.03],
                [0.0, (ya + yb) / 2, -r - 0.045],
                [0.0, yb, -r - 0.02],
                [0.0, yb, -r * 0.9],
            ]
        )
        b.add(P.sweep(P.curve(ctrl, 20), 0.012, 10), "body", "jug_handle", color=glass)
    cap_col = np.asarray([(0.85, 0.1, 0.1), (0.1, 0.3, 0.7), (0.9, 0.9, 0.9), (0.1, 0.1, 0.1)][rng.integers(4)])
    if cap == "cork":
        b.add(
            P.cylinder(neck_r * 0.95, 0.03, 20, 3),
            "lid",
            "lid",
            color=MATERIALS["wood"],
            matrix=pose((0.0, h + 0.005, 0.0)),
        )
    elif cap == "capsule":
        b.add(P.cylinder(neck_r * 1.12, 0.05, 24, 4), "lid", "lid", color=cap_col, matrix=pose((0.0, h - 0.02, 0.0)))
    elif cap == "screw":
        ch = 0.018 if kind != "jug" else 0.025
        b.add(
            P.disc(neck_r * 1.25, ch, 28, 3, bevel=0.002),
            "lid",
            "lid",
            color=cap_col,
            matrix=pose((0.0, h - 0.002 + ch / 2, 0.0)),
        )
    else:
        b.add(
            P.frustum(neck_r * 1.05, neck_r * 0.6, 0.03, 28, 3),
            "lid",
            "lid",
            color=cap_col,
            matrix=pose((0.0, h - 0.005, 0.0)),
        )
        b.add(
            P.torus(0.012, 0.003, 16, 6),
            "lid",
            "lid_loop",
            color=cap_col,
            matrix=pose((0.0, h + 0.03, 0.0), np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])),
        )


register(
    CategoryInfo(
        name="Bottle",
        kind="partnete",
        super_category="container",
        part_names=("lid",),
        unlabelled_regions=("body",),
        styles={"kind": ("wine", "water", "jug", "flask", "sports"), "cap": ("cork", "capsule", "screw", "flip")},
        description="wine bottle (cork or capsule), ribbed water bottle, jug with a loop handle (unlabelled), "
        "flat squared flask, sports bottle with a flip cap; height, radius, shoulder position",
        generator=bottle,
    )
)


# ------------------------------------------------------------------------------------------ bucket
def bucket(b: ShapeBuilder, rng: np.random.Generator) -> None:
    shape = str(rng.choice(["round", "square"], p=[0.7, 0.3]))
    h = rng.uniform(0.22, 0.35)
    r_top = rng.uniform(0.13, 0.18)
    r_bot = r_top * rng.uniform(0.7, 0.9)
    grip = bool(rng.random() < 0.35)
    bail_angle = rng.uniform(0, 70) if rng.random() < 0.7 else 0.0  # 0 = standing up
    col = np.asarray(
        [(0.85, 0.15, 0.10), (0.15, 0.35, 0.75), (0.65, 0.66, 0.68), (0.95, 0.75, 0.1), (0.2, 0.55, 0.3)][
            rng.integers(5)
        ]
    )
    b.style.update(shape=shape, side_grip=grip, bail_angle=bail_angle)
    t = np.linspace(0.0, 1.0, 12)
    outer = np.concatenate([[[0.0, 0.0], [r_bot * 0.5, 0.0]], np.stack([r_bot + (r_top - r_bot) * t, t * h], 1)])
    outer[-2:, 0] += 0.006  # rolled rim
    prim = P.lathe(shell_profile(outer, 0.006), 40)
    if shape == "square":
        prim = squircle(prim, 5.0)
    b.add(prim, "body", "body", color=col)
    ear_y = h * 0.9
    ears = {}
    for sx, side in ((1.0, "left"), (-1.0, "right")):
        x = sx * (r_top + 0.006)
        ears[side] = np.array([x, ear_y, 0.0])
        b.add(
            P.box((0.01, 0.04, 0.03), (1, 2, 2), radius=0.003),
            "body",
            f"ear_{side}",
            color=col,
            matrix=pose((x - sx * 0.002, ear_y, 0.0)),
        )
    # bail: a semicircle over the top between the ears, swung about the X axis by bail_angle
    a = np.linspace(0.0, np.pi, 24)
    span = r_top + 0.012
    arc = np.stack([span * np.cos(a), span * 0.9 * np.sin(a), np.zeros_like(a)], 1)
    ang = np.deg2rad(bail_angle)
    rot = np.array([[1.0, 0, 0], [0, np.cos(ang), -np.sin(ang)], [0, np.sin(ang), np.cos(ang)]])
    arc = arc @ rot.T + [0.0, ear_y, 0.0]
    b.add(P.sweep(arc, 0.004, 8), "handle#bail", "bail", color=MATERIALS["metal"])
    b.add(
        P.capsule(0.012, 0.09, 14, 3),
        "handle#bail",
        "bail_grip",
        color=MATERIALS["plastic_black"],
        matrix=pose(arc[12], np.array([[0, 1.0, 0], [-1.0, 0, 0], [0, 0, 1.0]]) @ np.eye(3)),
    )
    if grip:
        ctrl = np.array(
            [
                [-0.05, 0.03, -r_bot - 0.002],
                [-0.04, 0.035, -r_bot - 0.025],
                [0.04, 0.035, -r_bot - 0.025],
                [0.05, 0.03, -r_bot - 0.002],
            ]
        )
        b.add(P.sweep(P.curve(ctrl, 14), 0.007, 8), "handle#side_grip", "side_grip", color=col)


register(
    CategoryInfo(
        name="Bucket",
        kind="partnete",
        super_category="container",
        part_names=("handle",),
        unlabelled_regions=("body",),
        styles={"shape": ("round", "square"), "side_grip": (False, True)},
        description="round or squared tapered pail (hollow, rolled rim, ears unlabelled); wire bail with a grip "
        "standing up or swung down 0-70 degrees; optional moulded bottom grip as a second handle instance",
        generator=bucket,
    )
)


# -------------------------------------------------------------------------------------- kitchen pot
def kitchen_pot(b: ShapeBuilder, rng: np.random.Generator) -> None:
    kind = str(rng.choice(["stockpot", "saucepan", "dutch_oven"]))
    has_lid = bool(rng.random() < 0.85)
    r = {
        "stockpot": rng.uniform(0.11, 0.15),
        "saucepan": rng.uniform(0.08, 0.11),
        "dutch_oven": rng.uniform(0.12, 0.15),
    }[kind]
    h = {
        "stockpot": r * rng.uniform(1.1, 1.6),
        "saucepan": r * rng.uniform(0.7, 1.0),
        "dutch_oven": r * rng.uniform(0.6, 0.8),
    }[kind]
    metal = np.asarray([MATERIALS["chrome"], (0.15, 0.15, 0.16), (0.75, 0.2, 0.12), (0.2, 0.3, 0.5)][rng.integers(4)])
    b.style.update(kind=kind, lid=has_lid)
    t = np.linspace(0.0, 1.0, 12)
    belly = 0.04 if kind == "dutch_oven" else 0.0
    outer = np.concatenate(
        [
            [[0.0, 0.0], [r * 0.6, 0.0], [r * 0.92, 0.004]],
            np.stack([r * (1.0 + belly * np.sin(np.pi * t)), 0.01 + t * (h - 0.01)], 1),
        ]
    )
    b.add(P.lathe(shell_profile(outer, 0.004), 44), "body", "body", color=metal)
    if has_lid:
        dome = r * rng.uniform(0.1, 0.3)
        a = np.linspace(0.0, np.pi / 2, 8)
        prof = np.concatenate(
            [[[0.0, 0.0]], np.stack([(r + 0.004) * np.cos(a), dome * np.sin(a)], 1)[:-1], [[0.0, dome]]]
        )
        b.add(P.lathe(prof, 44), "lid", "lid", color=metal, matrix=pose((0.0, h, 0.0)))
        knob = str(rng.choice(["knob", "loop"]))
        b.style["lid_knob"] = knob
        if knob == "knob":
            b.add(
                P.lathe(
                    np.array([[0.0, 0.0], [0.01, 0.0], [0.008, 0.015], [0.02, 0.025], [0.016, 0.035], [0.0, 0.036]]), 20
                ),
                "lid",
                "lid_knob",
                color=MATERIALS["plastic_black"],
                matrix=pose((0.0, h + dome - 0.002, 0.0)),
            )
        else:
            a2 = np.linspace(0.0, np.pi, 14)
            arc = np.stack([0.03 * np.cos(a2), 0.02 * np.sin(a2) + h + dome - 0.002, np.zeros_like(a2)], 1)
            b.add(P.sweep(arc, 0.005, 8), "lid", "lid_knob", color=metal)
    if kind == "saucepan":
        length = rng.uniform(0.15, 0.22)
        rise = rng.uniform(0.02, 0.06)
        ctrl = np.array(
            [[0.0, h * 0.8, -r + 0.01], [0.0, h * 0.85, -r - length * 0.4], [0.0, h * 0.8 + rise, -r - length]]
        )
        b.add(
            P.sweep(P.curve(ctrl, 20), np.linspace(0.012, 0.009, 20), 10),
            "handle#long",
            "handle_long",
            color=MATERIALS["plastic_black"] if rng.random() < 0.6 else metal,
        )
        if rng.random() < 0.3:
            b.style["helper_handle"] = True
            a2 = np.linspace(-np.pi / 2, np.pi / 2, 12)
            loop = np.stack([0.03 * np.sin(a2), np.full_like(a2, h * 0.8), r - 0.005 + 0.025 * np.cos(a2)], 1)
            b.add(P.sweep(loop, 0.005, 8), "handle#helper", "handle_helper", color=metal)
    else:
        for sx, side in ((1.0, "left"), (-1.0, "right")):
            if kind == "stockpot":
                a2 = np.linspace(-np.pi / 2, np.pi / 2, 14)
                loop = np.stack(
                    [sx * (r - 0.005 + 0.03 * np.cos(a2)), np.full_like(a2, h * 0.82), 0.04 * np.sin(a2)], 1
                )
                b.add(P.sweep(loop, 0.006, 8), f"handle#handle_{side}", f"handle_{side}", color=metal)
            else:
                b.add(
                    P.box((0.04, 0.012, 0.06), (2, 1, 3), radius=0.005),
                    f"handle#handle_{side}",
                    f"handle_{side}",
                    color=metal,
                    matrix=pose((sx * (r + 0.015), h * 0.85, 0.0)),
                )


register(
    CategoryInfo(
        name="KitchenPot",
        kind="partnete",
        super_category="container",
        part_names=("lid", "handle"),
        optional_parts=("lid",),
        unlabelled_regions=("body",),
        styles={
            "kind": ("stockpot", "saucepan", "dutch_oven"),
            "lid": (False, True),
            "lid_knob": ("knob", "loop"),
            "helper_handle": (False, True),
        },
        description="stockpot (two loop handles), saucepan (long handle, optional helper loop) or dutch oven "
        "(two tab handles; handles are separate instances); hollow body with proportions per type; lid "
        "(dome, knob or loop) present in most instances",
        generator=kitchen_pot,
    )
)
