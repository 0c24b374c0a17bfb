"""Lamps, faucets and displays with PartNetE taxonomies: ``Lamp``, ``Faucet``, ``Display``.

Frames: +Y up; a desk lamp's arm and a faucet's spout reach towards +Z (front); a display's
screen faces +Z. A faucet's body / deck plate is unlabelled (-1). Units are metres.
"""

from __future__ import annotations

import numpy as np

from partlift.shapes import primitives as P
from partlift.shapes.builder import MATERIALS, ShapeBuilder, align_y, pose, rx
from partlift.shapes.registry import CategoryInfo, register

SHADE_COLORS = [(0.95, 0.92, 0.80), (0.85, 0.20, 0.15), (0.15, 0.15, 0.17), (0.20, 0.40, 0.60), (0.90, 0.90, 0.90)]


def _shade(kind, r_bottom, height, segments=48, t=0.004):
    """Lamp shade shell, open at the bottom (y = 0) and closed at the top (y = height).

    The profile runs from the inner top pole down the inner wall, round the bottom rim and up the
    outer wall to the outer top pole, so the shell is a closed surface with thickness ``t``.
    """
    if kind == "dome":
        a = np.linspace(0.12, np.pi / 2, 12)
        inner = np.stack([(r_bottom - t) * np.sin(a), (height - t) * np.cos(a)], 1)
        outer = np.stack([r_bottom * np.sin(a), height * np.cos(a)], 1)[::-1]
    else:
        r_top = r_bottom if kind == "drum" else 0.55 * r_bottom
        ys = np.linspace(0.0, height, 9)
        rs = np.linspace(r_bottom, r_top, 9)
        inner = np.stack([rs - t, np.minimum(ys, height - t)], 1)[::-1]
        outer = np.stack([rs, ys], 1)
    prof = np.concatenate([[[0.0, height - t]], inner, outer, [[0.0, height]]])
    return P.lathe(prof, segments)


def lamp(b: ShapeBuilder, rng: np.random.Generator) -> None:
    kind = str(rng.choice(["table", "floor", "desk_arm", "pendant"], p=[0.35, 0.2, 0.3, 0.15]))
    shade_kind = str(rng.choice(["cone", "drum", "dome"]))
    metal = MATERIALS["dark_metal"] if rng.random() < 0.5 else MATERIALS["chrome"]
    shade_col = np.asarray(SHADE_COLORS[rng.integers(len(SHADE_COLORS))])
    b.style.update(kind=kind, shade=shade_kind)
    bulb_col = MATERIALS["light"]
    if kind in ("table", "floor"):
        h = rng.uniform(0.35, 0.6) if kind == "table" else rng.uniform(1.3, 1.8)
        base_kind = (
            str(rng.choice(["disc", "square", "tripod"]))
            if kind == "floor"
            else str(rng.choice(["disc", "square", "vase"]))
        )
        b.style["base"] = base_kind
        br = rng.uniform(0.08, 0.14) if kind == "table" else rng.uniform(0.15, 0.22)
        top_of_base = 0.03
        if base_kind == "disc":
            b.add(P.disc(br, 0.03, 48, 6, bevel=0.008), "base", "base", color=metal, matrix=pose((0.0, 0.015, 0.0)))
        elif base_kind == "square":
            b.add(
                P.box((br * 1.6, 0.03, br * 1.6), (10, 1, 10), radius=0.006),
                "base",
                "base",
                color=metal,
                matrix=pose((0.0, 0.015, 0.0)),
            )
        elif base_kind == "vase":
            vh = h * rng.uniform(0.35, 0.5)
            t = np.linspace(0.0, 1.0, 10)
            r = br * (0.55 + 0.45 * np.sin(np.pi * (0.15 + 0.75 * t))) * (1 - 0.5 * t**3)
            prof = np.concatenate([[[0.0, 0.0]], np.stack([r, t * vh], 1), [[0.0, vh]]])
            b.add(P.lathe(prof, 40), "base", "base", color=shade_col * 0.7 + 0.2)
            top_of_base = vh
        else:
            for k in range(3):
                a = 2 * np.pi * k / 3
                foot = np.array([np.sin(a) * br, 0.0, np.cos(a) * br])
                b.add(P.tube((0.0, h * 0.3, 0.0), foot, 0.01, 8), "base", f"tripod_leg_{k}", color=metal)
            top_of_base = h * 0.3
        pole_top = h
        b.add(
            P.sweep(
                np.linspace([0.0, top_of_base - 0.01, 0.0], [0.0, pole_top, 0.0], 12),
                0.01 if kind == "table" else 0.012,
                12,
            ),
            "body",
            "pole",
            color=metal,
        )
        sr = rng.uniform(0.10, 0.18) if kind == "table" else rng.uniform(0.18, 0.26)
        sh = sr * rng.uniform(0.7, 1.1)
        shade_y = pole_top - sh * 0.35
        b.add(_shade(shade_kind, sr, sh), "shade", "shade", color=shade_col, matrix=pose((0.0, shade_y, 0.0)))
        b.add(P.sphere(0.03, 20, 10), "bulb", "bulb", color=bulb_col, matrix=pose((0.0, pole_top + 0.02, 0.0)))
    elif kind == "desk_arm":
        br = rng.uniform(0.07, 0.10)
        b.style["base"] = "disc"
        b.add(P.disc(br, 0.025, 28, 3, bevel=0.006), "base", "base", color=metal, matrix=pose((0.0, 0.0125, 0.0)))
        l1, l2 = rng.uniform(0.25, 0.40), rng.uniform(0.25, 0.40)
        a1 = np.deg2rad(rng.uniform(10, 35))  # lean of the lower arm towards +Z
        a2 = np.deg2rad(rng.uniform(40, 100))  # lean of the upper arm
        j0 = np.array([0.0, 0.03, -br * 0.5])
        j1 = j0 + l1 * np.array([0.0, np.cos(a1), np.sin(a1)])
        j2 = j1 + l2 * np.array([0.0, np.cos(a2), np.sin(a2)])
        for k, (p0, p1) in enumerate(((j0, j1), (j1, j2))):
            for sx in (1.0, -1.0):
                b.add(
                    P.tube(p0 + [sx * 0.012, 0, 0], p1 + [sx * 0.012, 0, 0], 0.006, 6),
                    "body",
                    f"arm_{k}_{'a' if sx > 0 else 'b'}",
                    color=metal,
                )
        for k, j in enumerate((j0, j1, j2)):
            b.add(
                P.cylinder(0.016, 0.04, 12),
                "body",
                f"joint_{k}",
                color=MATERIALS["plastic_black"],
                matrix=pose(j, align_y([1.0, 0.0, 0.0])),
            )
        tilt = rng.uniform(20, 60)
        sr = rng.uniform(0.06, 0.09)
        sh = sr * rng.uniform(0.9, 1.4)
        down = np.array([0.0, -np.cos(np.deg2rad(tilt)), np.sin(np.deg2rad(tilt))])  # shade axis (opening)
        rot = align_y(-down)
        opening = j2 + down * (sh * 0.9)
        b.add(
            _shade("cone" if shade_kind != "drum" else "drum", sr, sh),
            "shade",
            "shade",
            color=shade_col,
            matrix=pose(opening, rot),
        )
        b.add(P.sphere(0.025, 20, 10), "bulb", "bulb", color=bulb_col, matrix=pose(opening - down * sh * 0.35))
    else:
        n = int(rng.choice([1, 3, 5], p=[0.5, 0.3, 0.2]))
        b.style["pendants"] = n
        top = 1.0
        b.add(P.disc(0.07, 0.025, 24, 3, bevel=0.006), "base", "canopy", color=metal, matrix=pose((0.0, top, 0.0)))
        drop = rng.uniform(0.3, 0.6)
        sr = rng.uniform(0.10, 0.18) if n == 1 else rng.uniform(0.06, 0.09)
        sh = sr * rng.uniform(0.6, 1.0)
        spread = 0.0 if n == 1 else rng.uniform(0.18, 0.3)
        if n > 1:
            b.add(P.tube((0.0, top, 0.0), (0.0, top - drop * 0.5, 0.0), 0.008, 8), "body", "stem", color=metal)
        for k in range(n):
            a = 2 * np.pi * k / n
            c = np.array([np.sin(a) * spread, 0.0, np.cos(a) * spread])
            y_shade = top - drop - (0.05 * (k % 2) if n > 1 else 0.0)
            start = (0.0, top, 0.0) if n == 1 else (0.0, top - drop * 0.5, 0.0)
            b.add(
                P.sweep(
                    P.curve(np.array([start, c * 0.6 + [0, y_shade + sh + 0.1, 0], c + [0, y_shade + sh, 0]]), 10),
                    0.006,
                    6,
                ),
                "body",
                f"rod_{k}",
                color=metal,
            )
            reg = "shade" if n == 1 else f"shade#shade_{k}"
            b.add(_shade(shade_kind, sr, sh), reg, f"shade_{k}", color=shade_col, matrix=pose(c + [0, y_shade, 0]))
            regb = "bulb" if n == 1 else f"bulb#bulb_{k}"
            b.add(
                P.sphere(0.025, 20, 10), regb, f"bulb_{k}", color=bulb_col, matrix=pose(c + [0, y_shade + sh * 0.3, 0])
            )


register(
    CategoryInfo(
        name="Lamp",
        kind="partnete",
        super_category="fixture",
        part_names=("base", "body", "bulb", "shade"),
        styles={
            "kind": ("table", "floor", "desk_arm", "pendant"),
            "shade": ("cone", "drum", "dome"),
            "base": ("disc", "square", "vase", "tripod"),
            "pendants": (1, 3, 5),
        },
        description="table lamp (disc, square or vase base), floor lamp (disc, square or tripod base), "
        "two-segment desk arm lamp with a tilted shade, or pendant / chandelier with 1, 3 or 5 shades and "
        "bulbs (instances; the ceiling canopy is the base); cone, drum or dome shades",
        generator=lamp,
    )
)


# ------------------------------------------------------------------------------------------ faucet
def faucet(b: ShapeBuilder, rng: np.random.Generator) -> None:
    kind = str(rng.choice(["single_lever", "two_handle", "wall"], p=[0.45, 0.35, 0.2]))
    spout = str(rng.choice(["gooseneck", "straight", "curved"]))
    metal = MATERIALS["chrome"] if rng.random() < 0.7 else MATERIALS["dark_metal"]
    b.style.update(kind=kind, spout=spout)
    h = rng.uniform(0.15, 0.30)
    reach = rng.uniform(0.12, 0.22)
    sr = rng.uniform(0.010, 0.015)
    if kind != "wall":
        plate = str(rng.choice(["round", "long"])) if kind == "two_handle" else "round"
        b.style["plate"] = plate
        if plate == "long":
            b.add(
                P.box((0.26, 0.015, 0.07), (8, 1, 3), radius=0.006),
                "body",
                "deck_plate",
                color=metal,
                matrix=pose((0.0, 0.0075, 0.0)),
            )
        else:
            b.add(
                P.disc(0.035, 0.012, 32, 4, bevel=0.004),
                "body",
                "deck_plate",
                color=metal,
                matrix=pose((0.0, 0.006, 0.0)),
            )
        body_h = h * (0.45 if spout == "gooseneck" else 0.8)
        b.add(P.cylinder(0.022, body_h, 32, 10), "body", "column", color=metal, matrix=pose((0.0, body_h / 2, 0.0)))
        start = np.array([0.0, body_h * 0.85, 0.0])
        if spout == "gooseneck":
            ctrl = np.array(
                [
                    start,
                    start + [0, h * 0.8, 0.0],
                    start + [0, h * 1.0, reach * 0.5],
                    start + [0, h * 0.7, reach],
                    start + [0, h * 0.4, reach * 1.05],
                ]
            )
        elif spout == "straight":
            ctrl = np.array([start, start + [0, 0.0, reach * 0.5], start + [0, -0.01, reach]])
        else:
            ctrl = np.array(
                [
                    start,
                    start + [0, h * 0.2, reach * 0.4],
                    start + [0, h * 0.05, reach],
                    start + [0, -0.03, reach * 1.1],
                ]
            )
        b.add(P.sweep(P.curve(ctrl, 32), sr, 16), "spout", "spout", color=metal)
        if kind == "single_lever":
            top = np.array([0.0, body_h, 0.0])
            lever_len = rng.uniform(0.06, 0.11)
            lean = np.deg2rad(rng.uniform(10, 40))
            d = np.array([0.0, np.sin(lean), -np.cos(lean)])
            b.add(P.cylinder(0.018, 0.02, 24, 3), "switch", "lever_hub", color=metal, matrix=pose(top + [0, 0.01, 0]))
            b.add(
                P.box((0.016, 0.008, lever_len), (2, 1, 8), radius=0.003),
                "switch",
                "lever",
                color=metal,
                matrix=pose(top + [0, 0.025, 0] + d * lever_len / 2, rx(np.rad2deg(lean))),
            )
        else:
            knob = str(rng.choice(["cross", "lever", "round"]))
            b.style["knob"] = knob
            off = 0.09 if plate == "long" else 0.06
            for sx, side in ((1.0, "left"), (-1.0, "right")):
                at = np.array([sx * off, 0.0, 0.0])
                _knob(b, f"switch#switch_{side}", f"switch_{side}", at, knob, metal, up=np.array([0.0, 1.0, 0.0]))
    else:
        b.style["plate"] = "wall"
        b.add(
            P.box((0.18, 0.08, 0.02), (6, 3, 1), radius=0.006),
            "body",
            "wall_plate",
            color=metal,
            matrix=pose((0.0, h, -0.01)),
        )
        start = np.array([0.0, h, 0.0])
        ctrl = np.array(
            [start, start + [0, 0.0, reach * 0.6], start + [0, -0.02 if spout != "gooseneck" else 0.03, reach]]
        )
        if spout == "gooseneck":
            ctrl = np.concatenate([ctrl, [start + [0, -0.04, reach * 1.1]]])
        b.add(P.sweep(P.curve(ctrl, 32), sr, 16), "spout", "spout", color=metal)
        knob = str(rng.choice(["cross", "lever", "round"]))
        b.style["knob"] = knob
        for sx, side in ((1.0, "left"), (-1.0, "right")):
            _knob(
                b,
                f"switch#switch_{side}",
                f"switch_{side}",
                np.array([sx * 0.07, h, 0.0]),
                knob,
                metal,
                up=np.array([0.0, 0.0, 1.0]),
            )


def _knob(b, region, slot, at, kind, color, up):
    """A tap handle standing on ``at`` along ``up``: cross, lever or round knob."""
    rot = align_y(up)
    b.add(P.cylinder(0.014, 0.03, 14, 2), region, slot + "_stem", color=color, matrix=pose(at + up * 0.015, rot))
    tip = at + up * 0.035
    if kind == "round":
        b.add(P.sphere(0.02, 14, 8), region, slot + "_knob", color=color, matrix=pose(tip, rot))
    elif kind == "lever":
        # a deck lever sticks out forward (+Z) from the top of its stem
        b.add(
            P.box((0.012, 0.01, 0.06), (1, 1, 4), radius=0.003),
            region,
            slot + "_knob",
            color=color,
            matrix=pose(tip + 0.02 * np.array([0.0, 0.0, 1.0 if up[1] > 0.5 else 0.0]), rot),
        )
    else:
        for k in range(2):
            m = pose(
                tip,
                rot
                @ np.array(
                    [
                        [np.cos(k * np.pi / 2), 0, np.sin(k * np.pi / 2)],
                        [0, 1, 0],
                        [-np.sin(k * np.pi / 2), 0, np.cos(k * np.pi / 2)],
                    ]
                ),
            )
            b.add(P.box((0.05, 0.01, 0.01), (3, 1, 1), radius=0.003), region, f"{slot}_bar_{k}", color=color, matrix=m)


register(
    CategoryInfo(
        name="Faucet",
        kind="partnete",
        super_category="fixture",
        part_names=("spout", "switch"),
        unlabelled_regions=("body",),
        styles={
            "kind": ("single_lever", "two_handle", "wall"),
            "spout": ("gooseneck", "straight", "curved"),
            "knob": ("cross", "lever", "round"),
            "plate": ("round", "long", "wall"),
        },
        description="single-lever deck faucet, two-handle faucet (two switch instances on a round or long "
        "plate) or wall-mounted faucet; gooseneck, straight or curved spout; cross, lever or round knobs; "
        "height and reach; the column and plates are unlabelled",
        generator=faucet,
    )
)


# ----------------------------------------------------------------------------------------- display
def display(b: ShapeBuilder, rng: np.random.Generator) -> None:
    aspect = str(rng.choice(["16:9", "21:9", "4:3"], p=[0.6, 0.2, 0.2]))
    diag = rng.uniform(0.5, 0.85)
    ratio = {"16:9": 16 / 9, "21:9": 21 / 9, "4:3": 4 / 3}[aspect]
    sw = diag * ratio / np.hypot(ratio, 1)
    shh = sw / ratio
    curved = bool(aspect == "21:9" and rng.random() < 0.7)
    base_kind = str(rng.choice(["disc", "rect", "v_legs"]))
    support_kind = str(rng.choice(["column", "slanted", "arm"]))
    thick = rng.uniform(0.015, 0.05)
    bezel = rng.uniform(0.005, 0.02)
    tilt = rng.uniform(-5, 15)
    col = np.asarray([(0.12, 0.12, 0.13), (0.85, 0.85, 0.86), (0.55, 0.56, 0.58)][rng.integers(3)])
    b.style.update(aspect=aspect, curved=curved, base=base_kind, support=support_kind)
    # base
    if base_kind == "disc":
        b.add(
            P.disc(rng.uniform(0.09, 0.13), 0.015, 32, 4, bevel=0.004),
            "base",
            "base",
            color=col,
            matrix=pose((0.0, 0.0075, -0.02)),
        )
    elif base_kind == "rect":
        b.add(
            P.box((rng.uniform(0.2, 0.3), 0.015, rng.uniform(0.15, 0.2)), (6, 1, 4), radius=0.005),
            "base",
            "base",
            color=col,
            matrix=pose((0.0, 0.0075, -0.02)),
        )
    else:
        for k, sx in enumerate((1.0, -1.0)):
            b.add(
                P.box((0.03, 0.012, 0.22), (1, 1, 6), radius=0.004),
                f"base#base_{k}",
                f"base_{k}",
                color=col,
                matrix=pose(
                    (sx * 0.08, 0.006, -0.01),
                    rx(0)
                    @ np.array(
                        [[np.cos(sx * 0.5), 0, np.sin(sx * 0.5)], [0, 1, 0], [-np.sin(sx * 0.5), 0, np.cos(sx * 0.5)]]
                    ),
                ),
            )
    center_y = rng.uniform(0.08, 0.15) + shh / 2
    back_z = -thick / 2 - 0.03
    if support_kind == "column":
        b.add(
            P.box((0.05, center_y, 0.025), (2, 6, 1), radius=0.005),
            "support",
            "support",
            color=col,
            matrix=pose((0.0, center_y / 2, back_z)),
        )
    elif support_kind == "slanted":
        b.add(P.tube((0.0, 0.01, -0.08), (0.0, center_y, back_z), 0.02, 12), "support", "support", color=col)
    else:
        j = np.array([0.0, center_y * 0.6, -0.12])
        b.add(P.tube((0.0, 0.01, -0.05), j, 0.015, 10), "support", "support_lower", color=col)
        b.add(P.tube(j, (0.0, center_y, back_z), 0.015, 10), "support", "support_upper", color=col)
    # screen: a panel tilted back by `tilt` degrees about X, optionally curved about Y
    rot = rx(-tilt)
    if curved:
        radius = sw * 1.4
        angs = np.linspace(-sw / 2 / radius, sw / 2 / radius, 17)
        centers = np.stack([radius * np.sin(angs), np.zeros_like(angs), radius * (np.cos(angs) - 1)], 1)
        # loft along the screen width: sections in (z, y)
        pts = []
        for c, a in zip(centers, angs, strict=True):
            pts.append((c, a))
        from partlift.shapes.primitives import ring_mesh

        k = 16
        th = 2 * np.pi * np.arange(k) / k
        ux, uy = np.sign(np.cos(th)) * np.abs(np.cos(th)) ** 0.25, np.sign(np.sin(th)) * np.abs(np.sin(th)) ** 0.25
        rings = []
        for c, a in pts:
            normal = np.array([-np.sin(a), 0.0, np.cos(a)])
            rings.append(c + np.outer(ux * thick / 2, normal) + np.outer(uy * shh / 2, [0.0, 1.0, 0.0]))
        panel = ring_mesh(np.asarray(rings), centers[0], centers[-1])
    else:
        panel = P.box((sw, shh, thick), (24, 14, 1), radius=0.004, round_segments=1)
    b.add(panel, "screen", "panel", color=col, matrix=pose((0.0, center_y, 0.0), rot))
    glass = P.box((sw - 2 * bezel, shh - 2 * bezel, 0.002), (24, 14, 1))
    if curved:
        gv = glass.vertices.copy()
        radius = sw * 1.4
        a = gv[:, 0] / radius
        gv = np.stack([radius * np.sin(a), gv[:, 1], radius * (np.cos(a) - 1) + gv[:, 2] * np.cos(a)], 1)
        glass = P.Primitive(gv, glass.faces, glass.param)
    b.add(
        glass,
        "screen",
        "glass",
        color=MATERIALS["glass"] * 0.5,
        matrix=pose((0.0, center_y, 0.0) + rot @ np.array([0.0, 0.0, thick / 2 + 0.0005]), rot),
    )


register(
    CategoryInfo(
        name="Display",
        kind="partnete",
        super_category="household",
        part_names=("base", "screen", "support"),
        styles={
            "aspect": ("16:9", "21:9", "4:3"),
            "curved": (False, True),
            "base": ("disc", "rect", "v_legs"),
            "support": ("column", "slanted", "arm"),
        },
        description="16:9, 21:9 (often curved) or 4:3 panel, 0.5-0.85 m diagonal, bezel and thickness; disc, "
        "rectangular or V-leg base (two instances); straight column, slanted neck or two-segment arm; tilt",
        generator=display,
    )
)
