"""Kettles and laptops, generated once and labelled with either taxonomy.

- ``kettle`` (Part321: spout, body, handle; the lid and base plate are ``body``) and ``Kettle``
  (PartNetE: lid, handle, spout; the body and base plate are unlabelled).
- ``laptop`` (Part321: keyboard, screen, body, touchpad; hinge -> body, camera -> screen) and
  ``Laptop`` (PartNetE: keyboard, screen, shaft, touchpad, camera; the base is unlabelled).

Frames: a kettle's spout points to +Z (front); a laptop's hinge is at the back (-Z) and the
open screen faces +Z. Units are metres.
"""

from __future__ import annotations

import numpy as np

from partlift.shapes import primitives as P
from partlift.shapes.builder import MATERIALS, Y_TO_X, ShapeBuilder, pose
from partlift.shapes.registry import CategoryInfo, register

KETTLE_PROFILES = ("round", "jug", "gooseneck", "conical")


def kettle_geometry(b: ShapeBuilder, rng: np.random.Generator) -> None:
    """Regions: body, lid, handle, spout, base (electric jugs only)."""
    kind = str(rng.choice(KETTLE_PROFILES))
    handle_kind = {
        "round": str(rng.choice(["top", "side"])),
        "jug": "side",
        "gooseneck": "side",
        "conical": str(rng.choice(["top", "side"])),
    }[kind]
    h = {
        "round": rng.uniform(0.14, 0.18),
        "jug": rng.uniform(0.20, 0.26),
        "gooseneck": rng.uniform(0.14, 0.18),
        "conical": rng.uniform(0.16, 0.22),
    }[kind]
    r = {
        "round": rng.uniform(0.10, 0.12),
        "jug": rng.uniform(0.07, 0.085),
        "gooseneck": rng.uniform(0.065, 0.08),
        "conical": rng.uniform(0.10, 0.12),
    }[kind]
    b.style.update(body=kind, handle=handle_kind, height=h, radius=r)
    metal = np.asarray(
        [MATERIALS["chrome"], (0.85, 0.15, 0.12), (0.12, 0.12, 0.13), (0.90, 0.90, 0.88), (0.20, 0.45, 0.60)][
            rng.integers(5)
        ]
    )
    t = np.linspace(0.0, 1.0, 24)
    if kind == "round":
        prof_r = r * (0.8 + 0.2 * np.sin(np.pi * np.clip(t * 1.4, 0, 1))) * (1 - 0.45 * np.clip(t - 0.55, 0, 1) / 0.45)
    elif kind == "jug":
        prof_r = r * (1.0 - 0.12 * t)
    elif kind == "gooseneck":
        prof_r = r * (1.0 - 0.05 * t) * (1 - 0.25 * np.clip(t - 0.8, 0, 1) / 0.2)
    else:
        prof_r = r * (1.0 - 0.6 * t)
    prof_r[0] *= 0.93
    top_r = prof_r[-1]
    prof = np.concatenate([[[0.0, 0.0]], np.stack([prof_r, t * h], 1), [[0.0, h]]])
    b.add(P.lathe(prof, 48), "body", "body", color=metal)
    if kind == "jug":
        base_h = 0.02
        b.add(
            P.cylinder(r * 1.12, base_h, 32, 1),
            "base",
            "base",
            color=MATERIALS["plastic_black"],
            matrix=pose((0.0, -base_h / 2, 0.0)),
        )
    # lid: a shallow dome with a knob
    lid_r = top_r * 0.95
    dome = rng.uniform(0.2, 0.5) * lid_r
    phi = np.linspace(0.0, np.pi / 2, 6)
    lid_prof = np.concatenate(
        [[[0.0, 0.0]], np.stack([lid_r * np.cos(phi), dome * np.sin(phi)], 1)[:-1], [[0.0, dome]]]
    )
    b.add(P.lathe(lid_prof, 28), "lid", "lid", color=metal, matrix=pose((0.0, h - 0.002, 0.0)))
    b.add(
        P.sphere(0.012, 10, 6),
        "lid",
        "knob",
        color=MATERIALS["plastic_black"],
        matrix=pose((0.0, h + dome + 0.006, 0.0)),
    )

    # spout: a tapering tube from inside the body outward / upward along +Z
    def r_at(y):
        return np.interp(y, t * h, prof_r)

    if kind == "gooseneck":
        y0 = 0.15 * h
        ctrl = np.array(
            [
                [0.0, y0, r_at(y0) - 0.02],
                [0.0, y0 + 0.01, r_at(y0) + 0.03],
                [0.0, h * 0.8, r_at(y0) + 0.07],
                [0.0, h * 1.05, r_at(y0) + 0.13],
                [0.0, h * 1.0, r_at(y0) + 0.16],
            ]
        )
        rad = np.linspace(0.012, 0.005, 20)
    elif kind == "jug":
        y0 = 0.85 * h
        ctrl = np.array(
            [[0.0, y0, r_at(y0) - 0.02], [0.0, y0 + 0.02, r_at(y0) + 0.01], [0.0, h + 0.01, r_at(y0) + 0.03]]
        )
        rad = np.linspace(0.022, 0.014, 20)
    else:
        y0 = 0.35 * h
        reach = rng.uniform(0.05, 0.09)
        ctrl = np.array(
            [
                [0.0, y0, r_at(y0) - 0.02],
                [0.0, y0 + 0.02, r_at(y0) + 0.02],
                [0.0, y0 + 0.5 * reach + 0.03, r_at(y0) + 0.6 * reach],
                [0.0, y0 + reach + 0.04, r_at(y0) + reach],
            ]
        )
        rad = np.linspace(0.018, 0.008, 20)
    b.add(P.sweep(P.curve(ctrl, 20), rad, 12), "spout", "spout", color=metal)
    # handle
    grip = MATERIALS["plastic_black"] if rng.random() < 0.7 else MATERIALS["wood"]
    if handle_kind == "side":
        ya, yb = 0.85 * h, 0.2 * h if kind != "round" else 0.35 * h
        out = rng.uniform(0.045, 0.07)
        ctrl = np.array(
            [
                [0.0, ya, -r_at(ya) + 0.01],
                [0.0, ya + 0.02, -r_at(ya) - out * 0.7],
                [0.0, 0.5 * (ya + yb), -max(r_at(ya), r_at(yb)) - out],
                [0.0, yb, -r_at(yb) - 0.3 * out],
                [0.0, yb, -r_at(yb) + 0.01],
            ]
        )
        b.add(P.sweep(P.curve(ctrl, 22), 0.011, 10), "handle", "handle", color=grip)
    else:
        arch = rng.uniform(0.06, 0.10)
        za = top_r * 0.8
        ctrl = np.array(
            [
                [0.0, h - 0.01, za],
                [0.0, h + arch * 0.8, za * 0.9],
                [0.0, h + arch, 0.0],
                [0.0, h + arch * 0.8, -za * 0.9],
                [0.0, h - 0.01, -za],
            ]
        )
        b.add(P.sweep(P.curve(ctrl, 22), 0.011, 10), "handle", "handle", color=grip)


KETTLE_STYLES = {"body": KETTLE_PROFILES, "handle": ("side", "top")}
register(
    CategoryInfo(
        name="kettle",
        kind="part321",
        super_category="tool",
        part_names=("spout", "body", "handle"),
        styles=KETTLE_STYLES,
        description="round stove-top, electric jug (base plate, lip spout), gooseneck (long thin spout) or "
        "conical body; side or top handle; height, radius, lid dome, spout reach",
        region_map={"lid": "body", "base": "body"},
        generator=kettle_geometry,
    )
)
register(
    CategoryInfo(
        name="Kettle",
        kind="partnete",
        super_category="household",
        part_names=("lid", "handle", "spout"),
        unlabelled_regions=("body", "base"),
        styles=KETTLE_STYLES,
        description="as Part321 'kettle'; the body (and an electric jug's base plate) is unlabelled (-1)",
        region_map={"body": None, "base": None},
        generator=kettle_geometry,
    )
)


# ------------------------------------------------------------------------------------------ laptop
def laptop_geometry(b: ShapeBuilder, rng: np.random.Generator) -> None:
    """Regions: base, keyboard, touchpad, lid, display, camera (optional), hinge."""
    size = str(rng.choice(["13in", "15in", "17in"]))
    w = {"13in": rng.uniform(0.29, 0.31), "15in": rng.uniform(0.34, 0.36), "17in": rng.uniform(0.39, 0.41)}[size]
    d = w * rng.uniform(0.66, 0.72)
    t_base = rng.uniform(0.012, 0.022)
    t_lid = rng.uniform(0.005, 0.009)
    angle = rng.uniform(95, 135)
    keys = str(rng.choice(["keys", "flat"], p=[0.7, 0.3]))
    numpad = bool(size != "13in" and keys == "keys" and rng.random() < 0.6)
    hinge_kind = str(rng.choice(["bar", "pair"]))
    camera = bool(rng.random() < 0.8)
    bezel = rng.uniform(0.006, 0.02)
    shell = np.asarray(
        [(0.75, 0.76, 0.78), (0.15, 0.15, 0.17), (0.55, 0.56, 0.60), (0.85, 0.85, 0.86)][rng.integers(4)]
    )
    b.style.update(size=size, keys=keys, numpad=numpad, hinge=hinge_kind, camera=camera, open_angle=angle)
    b.add(
        P.box((w, t_base, d), (10, 1, 8), radius=0.003, round_segments=1),
        "base",
        "base",
        color=shell,
        matrix=pose((0.0, t_base / 2, 0.0)),
    )
    # keyboard: rows of keys (or one flat plate) on the rear part of the deck
    kb_w = w * (0.86 if numpad else 0.78)
    kb_d = d * 0.40
    kb_z = -d / 2 + 0.02 + kb_d / 2
    top = t_base
    if keys == "keys":
        cols = 18 if numpad else 14
        pitch_x, pitch_z = kb_w / cols, kb_d / 6
        for row in range(6):
            for col in range(cols):
                x = (col + 0.5) * pitch_x - kb_w / 2
                z = kb_z + kb_d / 2 - (row + 0.5) * pitch_z
                b.add(
                    P.box((pitch_x * 0.82, 0.002, pitch_z * 0.8), 1),
                    "keyboard",
                    f"key_{row}_{col}",
                    color=MATERIALS["plastic_black"],
                    matrix=pose((x, top + 0.001, z)),
                )
    else:
        b.add(
            P.box((kb_w, 0.0015, kb_d), (14, 1, 6)),
            "keyboard",
            "keyboard_plate",
            color=MATERIALS["plastic_black"],
            matrix=pose((0.0, top + 0.0007, kb_z)),
        )
    tp_w, tp_d = w * rng.uniform(0.25, 0.4), d * rng.uniform(0.22, 0.3)
    tp_z = kb_z + kb_d / 2 + 0.012 + tp_d / 2
    tp_z = min(tp_z, d / 2 - 0.008 - tp_d / 2)
    b.add(
        P.box((tp_w, 0.001, tp_d), (4, 1, 3)),
        "touchpad",
        "touchpad",
        color=shell * 0.85,
        matrix=pose((0.0, top + 0.0005, tp_z)),
    )
    # lid hinged at the back top edge, opened by `angle` degrees from closed
    hinge = np.array([0.0, t_base, -d / 2])
    a = np.deg2rad(angle)
    up = np.array([0.0, np.sin(a), np.cos(a)])  # along the lid, away from the hinge (mostly +Y)
    normal = np.array([0.0, np.cos(a), -np.sin(a)]) * -1  # towards the user (+Z side)
    rot = np.stack([[1.0, 0.0, 0.0], up, np.cross([1.0, 0.0, 0.0], up)], axis=1)
    if np.dot(rot[:, 2], normal) < 0:
        rot[:, 2] *= -1
        rot[:, 0] *= -1
    lid_c = hinge + up * d / 2 - normal * t_lid / 2
    b.add(
        P.box((w, d, t_lid), (10, 8, 1), radius=0.003, round_segments=1),
        "lid",
        "lid",
        color=shell,
        matrix=pose(lid_c, rot),
    )
    disp_c = hinge + up * (d / 2 + bezel * 0.3) + normal * 0.0006
    b.add(
        P.box((w - 2 * bezel, d - 2.6 * bezel, 0.0012), (10, 8, 1)),
        "display",
        "display",
        color=MATERIALS["glass"] * np.array([0.5, 0.5, 0.6]),
        matrix=pose(disp_c, rot),
    )
    if camera:
        cam_c = hinge + up * (d - bezel * 0.6) + normal * 0.0005
        b.add(
            P.cylinder(min(0.0025, bezel * 0.3), 0.0015, 10),
            "camera",
            "camera",
            color=MATERIALS["plastic_black"],
            matrix=pose(cam_c, rot @ np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])),
        )
    hr = t_base * 0.45
    if hinge_kind == "bar":
        b.add(
            P.cylinder(hr, w * 0.7, 14, 4),
            "hinge",
            "hinge_bar",
            color=MATERIALS["dark_metal"],
            matrix=pose(hinge + [0, 0, -0.001], Y_TO_X),
        )
    else:
        for k, sx in enumerate((1.0, -1.0)):
            b.add(
                P.cylinder(hr, w * 0.12, 14, 2),
                f"hinge#hinge_{k}",
                f"hinge_{k}",
                color=MATERIALS["dark_metal"],
                matrix=pose(hinge + [sx * w * 0.33, 0, -0.001], Y_TO_X),
            )


LAPTOP_STYLES = {
    "size": ("13in", "15in", "17in"),
    "keys": ("keys", "flat"),
    "numpad": (False, True),
    "hinge": ("bar", "pair"),
    "camera": (False, True),
}
register(
    CategoryInfo(
        name="laptop",
        kind="part321",
        super_category="tool",
        part_names=("keyboard", "screen", "body", "touchpad"),
        styles=LAPTOP_STYLES,
        description="13/15/17-inch proportions, individual keys (with or without numpad) or a flat keyboard, "
        "opening angle 95-135 degrees, bar or paired hinges, bezel width, touchpad size, thickness",
        region_map={"base": "body", "hinge": "body", "lid": "screen", "display": "screen", "camera": "screen"},
        generator=laptop_geometry,
    )
)
register(
    CategoryInfo(
        name="Laptop",
        kind="partnete",
        super_category="household",
        part_names=("keyboard", "screen", "shaft", "touchpad", "camera"),
        optional_parts=("camera",),
        unlabelled_regions=("base",),
        styles=LAPTOP_STYLES,
        description="as Part321 'laptop'; hinges are 'shaft' (one bar or two instances), the webcam is "
        "'camera' (absent in some styles), the base is unlabelled (-1)",
        region_map={"base": None, "hinge": "shaft", "lid": "screen", "display": "screen"},
        generator=laptop_geometry,
    )
)
