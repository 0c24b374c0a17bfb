"""Pedal cycles (Part321 super-category "bicycle"): ``mountain_bike`` and ``tricycle``.

Frames are tubes between key points of a side-view geometry (seat-tube and head-tube angles,
wheelbase, bottom bracket); cranks, pedals and chainrings belong to ``frame`` (the table's
"frame(paddle)"), the seat post too, the stem to ``handlebar``. Units are metres.
"""

from __future__ import annotations

import numpy as np

from partlift.shapes import primitives as P
from partlift.shapes.builder import MATERIALS, Y_TO_X, ShapeBuilder, pose
from partlift.shapes.registry import CategoryInfo, register

FRAME_COLORS = [
    (0.75, 0.10, 0.10),
    (0.10, 0.35, 0.70),
    (0.15, 0.15, 0.16),
    (0.95, 0.75, 0.10),
    (0.20, 0.55, 0.30),
    (0.85, 0.85, 0.85),
    (0.55, 0.20, 0.60),
]


def spoked_wheel(b, region, slot, center, radius, tyre, spokes=16, hub_w=0.10):
    """Tyre torus, rim torus, hub and straight spokes, wheel axis along X."""
    c = np.asarray(center, dtype=np.float64)
    rot = Y_TO_X
    b.add(P.torus(radius - tyre, tyre, 40, 8), region, slot + "_tyre", color=MATERIALS["tyre"], matrix=pose(c, rot))
    b.add(
        P.torus(radius - 2.2 * tyre, 0.35 * tyre, 32, 5),
        region,
        slot + "_rim",
        color=MATERIALS["metal"],
        matrix=pose(c, rot),
    )
    b.add(P.cylinder(0.025, hub_w, 10), region, slot + "_hub", color=MATERIALS["metal"], matrix=pose(c, rot))
    for k in range(spokes):
        a = 2 * np.pi * (k + 0.5 * (k % 2)) / spokes
        side = hub_w / 2 * (1 if k % 2 else -1)
        p0 = c + [side, 0.025 * np.sin(a), 0.025 * np.cos(a)]
        p1 = c + [0.0, (radius - 2.2 * tyre) * np.sin(a), (radius - 2.2 * tyre) * np.cos(a)]
        b.add(P.tube(p0, p1, 0.0025, segments=4), region, f"{slot}_spoke_{k}", color=MATERIALS["chrome"])


def saddle(b, region, slot, at, length, width, color):
    """A bicycle saddle: a loft along Z, wide at the back and narrow at the nose."""
    u = np.linspace(0.0, 1.0, 8)
    w = width / 2 * (0.35 + 0.65 * np.cos(np.clip(u - 0.15, 0, 1) * np.pi / 2) ** 1.5)
    w[0] *= 0.8
    h = 0.025 + 0.01 * np.sin(np.pi * u)
    centers = np.stack([np.zeros_like(u), 0.01 * np.sin(np.pi * u) - 0.015 * u, (u - 0.5) * length], axis=1)
    radii = np.stack([w, h], axis=1)
    radii[[0, -1]] *= 0.7
    b.add(P.loft(centers, radii, power=3.0, segments=14), region, slot, color=color, matrix=pose(at))


def handlebar(b, at, width, rise, sweep, color):
    """Stem forward from ``at`` plus a flat or riser bar across X, with grips."""
    at = np.asarray(at, dtype=np.float64)
    clamp = at + [0.0, 0.04, 0.08]
    b.add(P.tube(at, clamp, 0.017, 8), "handlebar", "stem", color=MATERIALS["dark_metal"])
    half = width / 2
    ctrl = (
        np.array(
            [
                [-half, rise, -sweep],
                [-0.55 * half, rise * 0.9, -0.3 * sweep],
                [-0.15 * half, 0, 0],
                [0.15 * half, 0, 0],
                [0.55 * half, rise * 0.9, -0.3 * sweep],
                [half, rise, -sweep],
            ]
        )
        + clamp
    )
    b.add(P.sweep(P.curve(ctrl, 24), 0.012, 8), "handlebar", "bar", color=MATERIALS["dark_metal"])
    for sx, name in ((1.0, "grip_left"), (-1.0, "grip_right")):
        end = clamp + [sx * half, rise, -sweep]
        b.add(
            P.tube(end - [sx * 0.12, 0.0, 0.0], end + [sx * 0.01, 0.0, 0.0], 0.017, 8),
            "handlebar",
            name,
            color=MATERIALS["rubber"],
        )


def crankset(b, bb, crank, color, angle):
    """Chainring, two cranks and pedals around the bottom bracket ``bb`` (all ``frame``)."""
    bb = np.asarray(bb, dtype=np.float64)
    b.add(
        P.torus(0.09, 0.006, 28, 4),
        "frame",
        "chainring",
        color=MATERIALS["dark_metal"],
        matrix=pose(bb + [-0.05, 0, 0], Y_TO_X),
    )
    for sx, name in ((1.0, "left"), (-1.0, "right")):
        a = angle + (0 if sx > 0 else np.pi)
        end = bb + [sx * 0.07, crank * np.sin(a), crank * np.cos(a)]
        b.add(P.tube(bb + [sx * 0.04, 0, 0], end, 0.012, 6), "frame", f"crank_{name}", color=color)
        b.add(
            P.box((0.09, 0.02, 0.07), 1),
            "frame",
            f"pedal_{name}",
            color=MATERIALS["plastic_black"],
            matrix=pose(end + [sx * 0.05, 0, 0]),
        )


# ----------------------------------------------------------------------------------- mountain bike
def mountain_bike(b: ShapeBuilder, rng: np.random.Generator) -> None:
    wheel = str(rng.choice(["26", "27.5", "29"]))
    radius = {"26": 0.33, "27.5": 0.35, "29": 0.37}[wheel]
    tyre = rng.uniform(0.025, 0.032)
    suspension = str(rng.choice(["hardtail", "full"]))
    top_tube = str(rng.choice(["straight", "sloping"]))
    bar = str(rng.choice(["flat", "riser"]))
    color = np.asarray(FRAME_COLORS[rng.integers(len(FRAME_COLORS))])
    wb = rng.uniform(1.08, 1.22)
    b.style.update(wheel=wheel, suspension=suspension, top_tube=top_tube, bar=bar, wheelbase=wb)
    rear = np.array([0.0, radius, -wb / 2])
    front = np.array([0.0, radius, wb / 2])
    bb = np.array([0.0, radius - rng.uniform(0.02, 0.05), rear[2] + rng.uniform(0.43, 0.46)])
    sa = np.deg2rad(rng.uniform(72, 75))
    seat_len = rng.uniform(0.40, 0.50)
    seat_top = bb + seat_len * np.array([0.0, np.sin(sa), -np.cos(sa)])
    ha = np.deg2rad(rng.uniform(66, 70))
    head_dir = np.array([0.0, np.sin(ha), -np.cos(ha)])
    fork_len = rng.uniform(0.46, 0.52)
    head_bot = front + fork_len * head_dir
    head_top = head_bot + rng.uniform(0.10, 0.14) * head_dir
    tt_rear = seat_top - (0.0 if top_tube == "straight" else 0.12) * np.array([0.0, np.sin(sa), -np.cos(sa)])
    r = rng.uniform(0.018, 0.024)
    tubes = {
        "seat_tube": (bb, seat_top, r),
        "top_tube": (tt_rear, head_top - 0.02 * head_dir, r * 0.9),
        "down_tube": (bb, head_bot + 0.02 * head_dir, r * 1.25),
        "head_tube": (head_bot, head_top, r * 1.3),
    }
    for name, (p0, p1, rad) in tubes.items():
        b.add(P.tube(p0, p1, rad, 10), "frame", name, color=color)
    for sx, side in ((1.0, "left"), (-1.0, "right")):
        drop = rear + [sx * 0.065, 0, 0]
        b.add(P.tube(bb + [sx * 0.03, 0, 0], drop, 0.011, 8), "frame", f"chain_stay_{side}", color=color)
        if suspension == "hardtail":
            b.add(
                P.tube(seat_top - 0.05 * np.array([0, np.sin(sa), -np.cos(sa)]) + [sx * 0.02, 0, 0], drop, 0.009, 8),
                "frame",
                f"seat_stay_{side}",
                color=color,
            )
        else:
            pivot = bb + np.array([0.0, 0.18, -0.05])
            b.add(P.tube(pivot + [sx * 0.03, 0, 0], drop, 0.013, 8), "frame", f"seat_stay_{side}", color=color)
        fork_top = head_bot + [sx * 0.05, 0, 0] - 0.03 * head_dir
        fork_mid = front + [sx * 0.05, 0, 0] + 0.25 * head_dir
        b.add(P.tube(fork_top, fork_mid, 0.018, 8), "frame", f"fork_upper_{side}", color=MATERIALS["dark_metal"])
        b.add(
            P.tube(fork_mid + 0.03 * head_dir, front + [sx * 0.05, 0, 0], 0.012, 8),
            "frame",
            f"fork_lower_{side}",
            color=MATERIALS["metal"],
        )
    if suspension == "full":
        shock_a = bb + np.array([0.0, 0.18, -0.05])
        shock_b = 0.5 * (bb + head_bot) + np.array([0.0, 0.02, 0.0])
        b.add(P.tube(shock_a, shock_b, 0.022, 10), "frame", "shock", color=MATERIALS["dark_metal"])
    b.add(P.box((0.13, 0.03, 0.04), 1), "frame", "fork_crown", color=MATERIALS["dark_metal"], matrix=pose(head_bot))
    crankset(b, bb, 0.17, MATERIALS["dark_metal"], rng.uniform(0, 2 * np.pi))

    post_len = rng.uniform(0.12, 0.25)
    post_top = seat_top + post_len * np.array([0.0, np.sin(sa), -np.cos(sa)])
    b.add(P.tube(seat_top, post_top, 0.014, 8), "frame", "seat_post", color=MATERIALS["metal"])
    saddle(
        b,
        "saddle",
        "saddle",
        post_top + [0, 0.03, 0.02],
        rng.uniform(0.25, 0.29),
        rng.uniform(0.12, 0.15),
        MATERIALS["plastic_black"],
    )
    steer = head_top + rng.uniform(0.02, 0.06) * head_dir
    b.add(P.tube(head_top, steer, 0.016, 8), "handlebar", "steerer", color=MATERIALS["dark_metal"])
    handlebar(
        b,
        steer,
        rng.uniform(0.62, 0.78),
        0.0 if bar == "flat" else rng.uniform(0.03, 0.06),
        rng.uniform(0.01, 0.05),
        color,
    )
    spoked_wheel(b, "wheel_front", "wheel_front", front, radius, tyre)
    spoked_wheel(b, "wheel_back", "wheel_back", rear, radius, tyre)


register(
    CategoryInfo(
        name="mountain_bike",
        kind="part321",
        super_category="bicycle",
        part_names=("wheel_back", "wheel_front", "frame", "handlebar", "saddle"),
        styles={
            "wheel": ("26", "27.5", "29"),
            "suspension": ("hardtail", "full"),
            "top_tube": ("straight", "sloping"),
            "bar": ("flat", "riser"),
        },
        description="hardtail or full suspension (shock, low seat stays), straight or sloping top tube, flat "
        "or riser bar, wheel size, wheelbase, seat/head angles, seat-post height, bar width",
        generator=mountain_bike,
    )
)


# ------------------------------------------------------------------------------------- tricycle
def tricycle(b: ShapeBuilder, rng: np.random.Generator) -> None:
    kind = str(rng.choice(["kids", "adult"]))
    color = np.asarray(FRAME_COLORS[rng.integers(len(FRAME_COLORS))])
    if kind == "kids":
        rf, rb = rng.uniform(0.20, 0.26), rng.uniform(0.12, 0.16)
        cargo = str(rng.choice(["none", "basket"], p=[0.6, 0.4]))
        track, wb = rng.uniform(0.38, 0.48), rng.uniform(0.50, 0.62)
    else:
        rf = rb = rng.uniform(0.28, 0.34)
        cargo = str(rng.choice(["none", "basket", "box"], p=[0.2, 0.4, 0.4]))
        track, wb = rng.uniform(0.60, 0.75), rng.uniform(1.05, 1.25)
    b.style.update(kind=kind, cargo=cargo, track=track, wheelbase=wb)
    front = np.array([0.0, rf, wb / 2])
    rear_z = -wb / 2
    tyre = 0.02 if kind == "kids" else 0.025
    spokes = 8 if kind == "kids" else 16
    spoked_wheel(b, "wheel_front", "wheel_front", front, rf, tyre, spokes)
    for name, sx in (("wheel_back_left", 1.0), ("wheel_back_right", -1.0)):
        spoked_wheel(b, name, name, (sx * track / 2, rb, rear_z), rb, tyre, spokes, hub_w=0.06)
    b.add(P.tube((-track / 2, rb, rear_z), (track / 2, rb, rear_z), 0.015, 8), "frame", "axle", color=color)
    ha = np.deg2rad(rng.uniform(68, 78))
    head_dir = np.array([0.0, np.sin(ha), -np.cos(ha)])
    head_bot = front + (rf + 0.08) * head_dir
    head_top = head_bot + 0.12 * head_dir
    for sx, side in ((1.0, "left"), (-1.0, "right")):
        b.add(
            P.tube(head_bot + [sx * 0.04, 0, 0], front + [sx * 0.04, 0, 0], 0.012, 8),
            "frame",
            f"fork_{side}",
            color=color,
        )
    b.add(P.tube(head_bot, head_top, 0.022, 10), "frame", "head_tube", color=color)
    seat_h = rb + (0.25 if kind == "kids" else 0.45)
    seat_node = np.array([0.0, seat_h, rear_z + (0.10 if kind == "kids" else 0.25)])
    low = np.array([0.0, rb + 0.05, rear_z + 0.15])
    r = 0.02 if kind == "kids" else 0.022
    # step-through main tube: head tube down to a low point, back up to the seat
    spine = P.curve(np.array([head_bot, 0.5 * (head_bot + low) - [0, 0.05, 0], low]), 14)
    b.add(P.sweep(spine, r, 10), "frame", "main_tube", color=color)
    b.add(P.tube(low, seat_node, r, 10), "frame", "seat_tube", color=color)
    b.add(P.tube(low + [0, 0, -0.05], (0.0, rb, rear_z), r * 0.8, 8), "frame", "rear_stay", color=color)
    if kind == "kids":
        # pedals on the front hub
        for sx, side in ((1.0, "left"), (-1.0, "right")):
            a = rng.uniform(0, np.pi) + (0 if sx > 0 else np.pi)
            end = front + [sx * 0.07, 0.07 * np.sin(a), 0.07 * np.cos(a)]
            b.add(P.tube(front + [sx * 0.05, 0, 0], end, 0.01, 6), "frame", f"crank_{side}", color=color)
            b.add(
                P.box((0.07, 0.02, 0.05), 1),
                "frame",
                f"pedal_{side}",
                color=MATERIALS["plastic_black"],
                matrix=pose(end + [sx * 0.04, 0, 0]),
            )
    else:
        crankset(b, low + [0, -0.02, 0.12], 0.16, MATERIALS["dark_metal"], rng.uniform(0, 2 * np.pi))
    post_top = seat_node + [0.0, rng.uniform(0.05, 0.15), -0.02]
    b.add(P.tube(seat_node, post_top, 0.013, 8), "frame", "seat_post", color=MATERIALS["metal"])
    if kind == "adult" and rng.random() < 0.5:
        b.style["saddle"] = "wide"
        b.add(
            P.box((0.26, 0.06, 0.22), (2, 1, 2), radius=0.025),
            "saddle",
            "saddle",
            color=MATERIALS["plastic_black"],
            matrix=pose(post_top + [0, 0.03, 0]),
        )
    else:
        b.style["saddle"] = "racing"
        saddle(
            b,
            "saddle",
            "saddle",
            post_top + [0, 0.03, 0.02],
            0.22 if kind == "kids" else 0.27,
            0.12 if kind == "kids" else 0.17,
            MATERIALS["plastic_black"],
        )
    steer = head_top + 0.05 * head_dir
    b.add(P.tube(head_top, steer, 0.014, 8), "handlebar", "steerer", color=MATERIALS["metal"])
    handlebar(
        b,
        steer,
        rng.uniform(0.40, 0.48) if kind == "kids" else rng.uniform(0.55, 0.65),
        rng.uniform(0.04, 0.12),
        rng.uniform(0.06, 0.14),
        MATERIALS["chrome"],
    )
    if cargo != "none":
        bw = track * 0.85
        bd = rng.uniform(0.30, 0.42) if kind == "adult" else 0.22
        bh = rng.uniform(0.22, 0.35) if cargo == "box" else rng.uniform(0.15, 0.22)
        center = np.array([0.0, rb + 0.08 + bh / 2, rear_z - 0.05])
        if cargo == "box":
            b.add(
                P.box((bw, bh, bd), (3, 2, 2), radius=0.01),
                "cargo_box",
                "cargo_box",
                color=np.asarray((0.35, 0.25, 0.15)) if rng.random() < 0.5 else color,
                matrix=pose(center),
            )
        else:
            # wire basket: a floor panel plus rails
            b.add(
                P.box((bw, 0.015, bd), (3, 1, 2)),
                "cargo_box",
                "cargo_box",
                color=MATERIALS["metal"],
                matrix=pose(center - [0, bh / 2, 0]),
            )
            rim = [
                [bw / 2, bh / 2, bd / 2],
                [-bw / 2, bh / 2, bd / 2],
                [-bw / 2, bh / 2, -bd / 2],
                [bw / 2, bh / 2, -bd / 2],
            ]
            for k in range(4):
                p0, p1 = center + rim[k], center + rim[(k + 1) % 4]
                b.add(P.tube(p0, p1, 0.008, 6), "cargo_box", f"cargo_rail_{k}", color=MATERIALS["metal"])
                b.add(P.tube(p0, p0 - [0, bh, 0], 0.008, 6), "cargo_box", f"cargo_post_{k}", color=MATERIALS["metal"])


register(
    CategoryInfo(
        name="tricycle",
        kind="part321",
        super_category="bicycle",
        part_names=("wheel_front", "wheel_back_left", "wheel_back_right", "frame", "handlebar", "saddle", "cargo_box"),
        optional_parts=("cargo_box",),
        styles={"kind": ("kids", "adult"), "cargo": ("none", "basket", "box"), "saddle": ("racing", "wide")},
        description="kids' trike (big front wheel with pedals on the hub, small rear wheels) or adult trike "
        "(chain drive, equal wheels); no cargo, wire basket or solid box; saddle type, track, wheelbase",
        generator=tricycle,
    )
)
