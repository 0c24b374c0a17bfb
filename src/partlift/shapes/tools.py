"""Tools and street furniture (Part321 super-category "tool"): ``hammer``, ``hatchet``, ``umbrella``,
``park_bench``.

Canonical frames for objects without an obvious front (docs/SHAPES.md):
- hammer / hatchet: handle along +Y with the head on top; the striking face / cutting edge points
  to +Z (front), the claw / poll to -Z.
- umbrella: canopy up (+Y), handle down; a J-hook bends towards +Z.
- park bench: seat front edge at +Z, backrest at -Z, +X the sitter's left.
Units are metres.
"""

from __future__ import annotations

import numpy as np

from partlift.shapes import primitives as P
from partlift.shapes.builder import MATERIALS, Y_TO_Z, ShapeBuilder, pose
from partlift.shapes.registry import CategoryInfo, register

HANDLE_COLORS = [MATERIALS["wood"], MATERIALS["dark_wood"], (0.85, 0.35, 0.10), (0.15, 0.15, 0.16), (0.75, 0.62, 0.40)]


def _wood_handle(b, length, r_grip, r_neck, flare, color, segments=24, rings=40):
    """Lathe handle along +Y from y=0 (butt) to y=length, thick at the grip, thinner at the neck."""
    t = np.linspace(0.0, 1.0, rings)
    r = r_neck + (r_grip - r_neck) * np.clip(1.3 - 1.5 * t, 0, 1) ** 0.7
    r[0] *= 1.0 + flare  # butt swell
    prof = np.concatenate([[[0.0, 0.0]], np.stack([r, t * length], 1), [[0.0, length]]])
    prim = P.lathe(prof, segments)
    # oval cross-section: thinner across X
    b.add(P.Primitive(prim.vertices * [0.75, 1.0, 1.0], prim.faces, prim.param), "handle", "handle", color=color)


# ------------------------------------------------------------------------------------------ hammer
def hammer(b: ShapeBuilder, rng: np.random.Generator) -> None:
    kind = str(rng.choice(["claw", "ball_peen", "sledge", "mallet"]))
    length = {
        "claw": rng.uniform(0.30, 0.36),
        "ball_peen": rng.uniform(0.30, 0.38),
        "sledge": rng.uniform(0.40, 0.80),
        "mallet": rng.uniform(0.28, 0.35),
    }[kind]
    grip = str(rng.choice(["wood", "rubber"])) if kind != "mallet" else "wood"
    b.style.update(kind=kind, grip=grip, length=length)
    col = np.asarray(HANDLE_COLORS[rng.integers(len(HANDLE_COLORS))])
    _wood_handle(b, length, rng.uniform(0.014, 0.018), rng.uniform(0.010, 0.013), 0.15, col)
    if grip == "rubber":
        b.add(
            P.capsule(0.019, 0.38 * length, 24, 4),
            "handle",
            "grip",
            color=MATERIALS["rubber"],
            matrix=pose((0.0, 0.21 * length, 0.0), scale=(0.8, 1.0, 1.0)),
        )
    top = length
    steel = MATERIALS["dark_metal"]
    if kind == "claw":
        face_r = rng.uniform(0.014, 0.017)
        b.add(
            P.frustum(face_r * 0.9, face_r, 0.05, 24, 6),
            "head",
            "face",
            color=steel,
            matrix=pose((0.0, top - 0.01, 0.015), Y_TO_Z),
        )
        b.add(
            P.box((0.026, 0.034, 0.04), (3, 4, 4), radius=0.004),
            "head",
            "eye",
            color=steel,
            matrix=pose((0.0, top - 0.012, 0.0)),
        )
        curl = rng.uniform(0.01, 0.04)  # 0 = straight (rip) claw, larger = curved claw
        path = P.curve(
            np.array(
                [[0.0, top - 0.01, -0.015], [0.0, top - 0.005 - curl * 0.3, -0.05], [0.0, top - 0.01 - curl, -0.09]]
            ),
            20,
        )
        rad = np.linspace(0.012, 0.004, 20)
        b.add(P.sweep(path, rad, 16), "head", "claw", color=steel)
        b.style["claw_curl"] = curl
    elif kind == "ball_peen":
        b.add(
            P.cylinder(0.015, 0.05, 24, 6), "head", "face", color=steel, matrix=pose((0.0, top - 0.01, 0.025), Y_TO_Z)
        )
        b.add(
            P.cylinder(0.011, 0.035, 20, 4), "head", "neck", color=steel, matrix=pose((0.0, top - 0.01, -0.017), Y_TO_Z)
        )
        b.add(P.sphere(0.016, 20, 10), "head", "peen", color=steel, matrix=pose((0.0, top - 0.01, -0.04)))
    elif kind == "sledge":
        hw = rng.uniform(0.035, 0.05)
        hl = rng.uniform(0.12, 0.18)
        shape = str(rng.choice(["octagonal", "square"]))
        b.style["head_shape"] = shape
        if shape == "square":
            b.add(
                P.box((hw, hw, hl), (6, 6, 16), radius=0.004),
                "head",
                "block",
                color=steel,
                matrix=pose((0.0, top - hw / 2, 0.0)),
            )
        else:
            b.add(
                P.cylinder(hw * 0.55, hl, 8, 40),
                "head",
                "block",
                color=steel,
                matrix=pose(
                    (0.0, top - hw / 2, 0.0),
                    Y_TO_Z
                    @ np.array(
                        [
                            [np.cos(np.pi / 8), 0, np.sin(np.pi / 8)],
                            [0, 1, 0],
                            [-np.sin(np.pi / 8), 0, np.cos(np.pi / 8)],
                        ]
                    ),
                ),
            )
    else:
        hr = rng.uniform(0.03, 0.045)
        hl = rng.uniform(0.10, 0.14)
        b.style["head_shape"] = "barrel"
        yy = np.linspace(-hl / 2, hl / 2, 15)
        rr = hr * (1.0 - 0.08 * (2 * yy / hl) ** 4)
        prof = np.concatenate([[[0.0, -hl / 2]], np.stack([rr, yy], 1), [[0.0, hl / 2]]])
        b.add(
            P.lathe(prof, 40),
            "head",
            "block",
            color=MATERIALS["rubber"] if rng.random() < 0.5 else MATERIALS["wood"],
            matrix=pose((0.0, top + hr * 0.6, 0.0), Y_TO_Z),
        )


register(
    CategoryInfo(
        name="hammer",
        kind="part321",
        super_category="tool",
        part_names=("handle", "head"),
        styles={
            "kind": ("claw", "ball_peen", "sledge", "mallet"),
            "grip": ("wood", "rubber"),
            "head_shape": ("square", "octagonal", "barrel"),
        },
        description="claw (straight to curved claw), ball-peen, sledge (square or octagonal head) or mallet "
        "(barrel head); wooden or rubber-gripped handle, handle length and thickness",
        generator=hammer,
    )
)


# ----------------------------------------------------------------------------------------- hatchet
def hatchet(b: ShapeBuilder, rng: np.random.Generator) -> None:
    kind = str(rng.choice(["standard", "bearded", "double_bit"], p=[0.45, 0.35, 0.2]))
    length = rng.uniform(0.30, 0.45)
    bend = rng.uniform(0.0, 0.025)
    col = np.asarray(HANDLE_COLORS[rng.integers(len(HANDLE_COLORS))])
    b.style.update(kind=kind, length=length, handle_bend=bend)
    # curved handle: a swept tube, slightly S-shaped in the (z, y) plane
    t = np.linspace(0.0, 1.0, 40)
    path = np.stack([np.zeros_like(t), t * length, -bend * np.sin(np.pi * t) + 0.6 * bend * t**3], axis=1)
    rad = 0.015 - 0.004 * np.sin(np.pi * np.clip(t * 1.2, 0, 1))
    rad[0] = 0.017
    prim = P.sweep(path, rad, 20)
    b.add(P.Primitive(prim.vertices * [0.75, 1.0, 1.0], prim.faces, prim.param), "handle", "handle", color=col)
    top = path[-1]
    steel = MATERIALS["dark_metal"]
    b.add(
        P.box((0.028, 0.05, 0.045), (3, 5, 4), radius=0.004),
        "head",
        "eye",
        color=steel,
        matrix=pose(top + [0.0, -0.012, 0.0]),
    )

    def blade(sign, reach, drop, height, slot):
        u = np.linspace(0.0, 1.0, 16)
        z = sign * (0.02 + u * reach)
        h = height * (0.45 + 0.55 * u**1.5)
        yc = -drop * u**2 + (h - height * 0.45) * 0.15
        thick = 0.012 * (1 - u) + 0.0015
        centers = np.stack([np.zeros_like(u), yc, z], axis=1)
        prim_b = P.loft(centers, np.stack([thick, h / 2], axis=1), power=8.0, segments=24)
        b.add(prim_b, "head", slot, color=MATERIALS["metal"], matrix=pose(top + [0.0, -0.012, 0.0]))

    reach = rng.uniform(0.07, 0.11)
    height = rng.uniform(0.06, 0.09)
    if kind == "standard":
        blade(1.0, reach, rng.uniform(0.0, 0.01), height, "blade")
        b.add(
            P.box((0.026, 0.035, 0.03), (3, 4, 3), radius=0.003),
            "head",
            "poll",
            color=steel,
            matrix=pose(top + [0.0, -0.012, -0.035]),
        )
    elif kind == "bearded":
        blade(1.0, reach, rng.uniform(0.025, 0.045), height * 1.2, "blade")
        b.add(
            P.box((0.026, 0.035, 0.03), (3, 4, 3), radius=0.003),
            "head",
            "poll",
            color=steel,
            matrix=pose(top + [0.0, -0.012, -0.035]),
        )
    else:
        blade(1.0, reach * 0.9, 0.0, height, "blade")
        blade(-1.0, reach * 0.9, 0.0, height, "blade_back")


register(
    CategoryInfo(
        name="hatchet",
        kind="part321",
        super_category="tool",
        part_names=("handle", "head"),
        styles={"kind": ("standard", "bearded", "double_bit")},
        description="standard (blade + poll), bearded (drooping blade) or double-bit head; handle length and "
        "curvature, blade reach and height",
        generator=hatchet,
    )
)


# ---------------------------------------------------------------------------------------- umbrella
def _canopy(radius, depth, ribs, sag, thickness, closed, rings=14, per_rib=8):
    """Closed canopy shell: an outer surface from the apex to the rim and back underneath."""
    k = ribs * per_rib
    phi = 2 * np.pi * np.arange(k) / k
    scallop = 0.5 * (1 - np.cos(ribs * phi))  # 0 on the ribs, 1 between them
    t = np.linspace(0.0, 1.0, rings + 1)[1:]
    outer, inner = [], []
    for ti in t:
        if closed:
            rr = radius * (0.25 + 0.75 * ti**0.5) * (1 - 0.35 * scallop)
            y = np.full(k, -depth * ti)
        else:
            rr = radius * np.sin(np.pi / 2 * ti) * (1 - sag * ti**2 * scallop)
            y = depth * (np.cos(np.pi / 2 * ti) - 1) - 0.3 * sag * depth * ti**2 * scallop
        ring = np.stack([rr * np.cos(phi), y, rr * np.sin(phi)], axis=1)
        outer.append(ring)
        inner.append(ring * [0.985, 1, 0.985] - [0, thickness, 0])
    rings_all = np.concatenate([np.asarray(outer), np.asarray(inner)[::-1]])
    return P.ring_mesh(rings_all, np.array([0.0, 0.0, 0.0]), np.array([0.0, -thickness, 0.0]))


def umbrella(b: ShapeBuilder, rng: np.random.Generator) -> None:
    state = str(rng.choice(["open", "closed"], p=[0.75, 0.25]))
    ribs = int(rng.choice([6, 8, 10, 12]))
    handle = str(rng.choice(["hook", "straight"]))
    radius = rng.uniform(0.45, 0.70)
    shaft_len = rng.uniform(0.65, 0.95)
    b.style.update(state=state, ribs=ribs, handle=handle, radius=radius)
    col = np.asarray(
        [(0.10, 0.10, 0.12), (0.70, 0.10, 0.12), (0.15, 0.30, 0.65), (0.95, 0.80, 0.15), (0.20, 0.55, 0.35)][
            rng.integers(5)
        ]
    )
    top_y = shaft_len
    frame_col = MATERIALS["dark_metal"]
    if state == "open":
        depth = radius * rng.uniform(0.3, 0.5)
        b.add(
            _canopy(radius, depth, ribs, rng.uniform(0.05, 0.12), 0.006, False),
            "canopy",
            "canopy",
            color=col,
            matrix=pose((0.0, top_y, 0.0)),
        )
    else:
        depth = shaft_len * rng.uniform(0.55, 0.7)
        b.add(
            _canopy(0.05, depth, ribs, 0.0, 0.004, True), "canopy", "canopy", color=col, matrix=pose((0.0, top_y, 0.0))
        )
    b.add(
        P.sweep(np.linspace([0.0, 0.0, 0.0], [0.0, top_y + 0.06, 0.0], 24), 0.007, 10),
        "frame",
        "shaft",
        color=frame_col,
    )
    b.add(P.cone(0.008, 0.05, 8), "frame", "tip", color=frame_col, matrix=pose((0.0, top_y + 0.02, 0.0)))
    runner_y = top_y - (depth * 1.5 if state == "open" else depth * 0.95)
    b.add(P.cylinder(0.012, 0.05, 10), "frame", "runner", color=frame_col, matrix=pose((0.0, runner_y, 0.0)))
    for k in range(ribs):
        a = 2 * np.pi * k / ribs
        d = np.array([np.cos(a), 0.0, np.sin(a)])
        if state == "open":
            t = np.linspace(0.05, 1.0, 8)
            rr = radius * np.sin(np.pi / 2 * t) * 0.99
            y = top_y + depth * (np.cos(np.pi / 2 * t) - 1) - 0.012
        else:
            t = np.linspace(0.05, 1.0, 8)
            rr = 0.05 * (0.25 + 0.75 * t**0.5) * 0.55
            y = top_y - depth * t
        rib = np.stack([rr * d[0], y, rr * d[2]], axis=1)
        b.add(P.sweep(rib, 0.0025, 4), "frame", f"rib_{k}", color=frame_col)
        mid = rib[4]
        b.add(P.tube((0.0, runner_y, 0.0) + 0.012 * d, mid, 0.002, 4), "frame", f"stretcher_{k}", color=frame_col)
    if handle == "hook":
        hr = rng.uniform(0.045, 0.06)
        ang = np.linspace(0.0, np.pi * 1.1, 14)
        path = np.stack([np.zeros_like(ang), -hr * np.sin(ang) - 0.12, hr - hr * np.cos(ang)], axis=1)
        path = np.concatenate([[[0.0, 0.02, 0.0], [0.0, -0.06, 0.0]], path])
        b.add(P.sweep(path, 0.014, 10), "handle", "handle", color=MATERIALS["dark_wood"])
    else:
        b.add(
            P.lathe(
                np.array([[0.0, -0.13], [0.016, -0.13], [0.019, -0.1], [0.017, 0.0], [0.012, 0.02], [0.0, 0.02]]), 14
            ),
            "handle",
            "handle",
            color=MATERIALS["plastic_black"],
        )


register(
    CategoryInfo(
        name="umbrella",
        kind="part321",
        super_category="tool",
        part_names=("handle", "canopy", "frame"),
        styles={"state": ("open", "closed"), "ribs": (6, 8, 10, 12), "handle": ("hook", "straight")},
        description="open (dome with scalloped edge between ribs) or closed (folded) canopy; 6-12 ribs with "
        "stretchers; J-hook or straight handle; canopy radius, depth and sag, shaft length",
        generator=umbrella,
    )
)


# -------------------------------------------------------------------------------------- park bench
def park_bench(b: ShapeBuilder, rng: np.random.Generator) -> None:
    width = rng.uniform(1.2, 2.2)
    supports = 3 if width > 1.8 and rng.random() < 0.6 else 2
    legs = str(rng.choice(["cast_frame", "posts", "blocks"], p=[0.45, 0.35, 0.2]))
    seat_kind = str(rng.choice(["slats", "plank"], p=[0.75, 0.25]))
    back_kind = str(rng.choice(["horizontal_slats", "vertical_slats", "panel"], p=[0.5, 0.25, 0.25]))
    arms = bool(rng.random() < 0.6)
    seat_h = rng.uniform(0.40, 0.48)
    depth = rng.uniform(0.40, 0.55)
    back_h = rng.uniform(0.35, 0.55)
    recline = np.deg2rad(rng.uniform(5, 20))
    wood = np.asarray(
        [MATERIALS["wood"], MATERIALS["dark_wood"], (0.25, 0.40, 0.25), (0.70, 0.55, 0.35)][rng.integers(4)]
    )
    iron = MATERIALS["plastic_black"] if rng.random() < 0.6 else MATERIALS["dark_metal"]
    b.style.update(width=width, supports=supports, legs=legs, seat=seat_kind, back=back_kind, arms=arms)
    xs = np.linspace(width / 2 - 0.1, -(width / 2 - 0.1), supports)
    z_front, z_back = depth / 2, -depth / 2
    # seat
    if seat_kind == "slats":
        n = int(rng.integers(3, 6))
        gap = 0.015
        sw = (depth - (n - 1) * gap) / n
        for k in range(n):
            z = z_front - sw / 2 - k * (sw + gap)
            b.add(
                P.box((width, 0.035, sw), (16, 1, 1), radius=0.006, round_segments=1),
                "seat",
                f"seat_slat_{k}",
                color=wood,
                matrix=pose((0.0, seat_h, z)),
            )
    else:
        b.add(
            P.box((width, 0.05, depth), (24, 1, 6), radius=0.01, round_segments=1),
            "seat",
            "seat_plank",
            color=wood,
            matrix=pose((0.0, seat_h, 0.0)),
        )
    # backrest, leaning back from the rear of the seat
    up = np.array([0.0, np.cos(recline), -np.sin(recline)])
    back_base = np.array([0.0, seat_h + 0.06, z_back + 0.02])
    rot = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(recline), np.sin(recline)], [0.0, -np.sin(recline), np.cos(recline)]])
    if back_kind == "horizontal_slats":
        n = int(rng.integers(2, 5))
        bh = back_h / n * 0.75
        for k in range(n):
            c = back_base + up * (bh / 2 + k * back_h / n)
            b.add(
                P.box((width, bh, 0.03), (16, 2, 1), radius=0.005, round_segments=1),
                "backrest",
                f"back_slat_{k}",
                color=wood,
                matrix=pose(c, rot),
            )
    elif back_kind == "vertical_slats":
        n = int(width / 0.12)
        b.add(
            P.box((width, 0.04, 0.03), (16, 1, 1)),
            "backrest",
            "back_rail_top",
            color=wood,
            matrix=pose(back_base + up * back_h, rot),
        )
        for k in range(n):
            x = (k + 0.5) / n * width - width / 2
            b.add(
                P.box((0.06, back_h, 0.02), (1, 6, 1)),
                "backrest",
                f"back_slat_{k}",
                color=wood,
                matrix=pose(back_base + up * back_h / 2 + [x, 0, 0], rot),
            )
    else:
        b.add(
            P.box((width, back_h, 0.04), (24, 6, 1), radius=0.01, round_segments=1),
            "backrest",
            "back_panel",
            color=wood,
            matrix=pose(back_base + up * back_h / 2, rot),
        )
    # beams: under the seat, joining the supports
    b.add(
        P.box((width - 0.05, 0.05, 0.05), (16, 1, 1)),
        "beam",
        "beam_front",
        color=iron,
        matrix=pose((0.0, seat_h - 0.06, z_front - 0.08)),
    )
    if rng.random() < 0.6 or legs != "blocks":
        b.style["rear_beam"] = True
        b.add(
            P.box((width - 0.05, 0.05, 0.05), (16, 1, 1)),
            "beam",
            "beam_back",
            color=iron,
            matrix=pose((0.0, seat_h - 0.06, z_back + 0.08)),
        )
    # supports
    for i, x in enumerate(xs):
        reg = f"leg#leg_{i}"
        if legs == "cast_frame":
            # a Pi-shaped side frame in the (z, y) plane: splayed front and back legs joined under the seat
            top = seat_h - 0.02
            prof = np.array(
                [
                    [z_front + 0.04, 0.0],
                    [z_front, top],
                    [z_back, top],
                    [z_back - 0.04, 0.0],
                    [z_back + 0.03, 0.0],
                    [z_back + 0.06, top - 0.07],
                    [z_front - 0.06, top - 0.07],
                    [z_front - 0.03, 0.0],
                ]
            )
            prim = P.extrude(prof, 0.04, bevel=0.008)
            # polygon (z, y) plane -> world; extrusion -> world x
            m = np.eye(4)
            m[:3, :3] = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).T
            m[:3, 3] = (x, 0.0, 0.0)
            b.add(prim, reg, f"leg_{i}", color=iron, matrix=m)
            b.add(
                P.tube((x, seat_h - 0.05, z_back + 0.04), back_base + up * back_h * 0.9 + [x, 0, -0.02], 0.02, 8),
                "backrest",
                f"back_support_{i}",
                color=iron,
            )
        elif legs == "posts":
            for side, z in (("front", z_front - 0.05), ("back", z_back + 0.05)):
                b.add(
                    P.box((0.06, seat_h, 0.06), (2, 10, 2)),
                    reg,
                    f"leg_{i}_{side}",
                    color=iron,
                    matrix=pose((x, seat_h / 2, z)),
                )
            b.add(
                P.box((0.05, 0.05, depth - 0.1), (1, 1, 3)),
                "beam",
                f"beam_side_{i}",
                color=iron,
                matrix=pose((x, seat_h - 0.06, 0.0)),
            )
            b.add(
                P.box((0.05, back_h, 0.04), (1, 3, 1)),
                "backrest",
                f"back_support_{i}",
                color=iron,
                matrix=pose(back_base + up * back_h / 2 + [x, 0, -0.03], rot),
            )
        else:
            b.add(
                P.box((0.12, seat_h - 0.03, depth * 0.8), (1, 3, 3), radius=0.01, round_segments=1),
                reg,
                f"leg_{i}",
                color=np.asarray(MATERIALS["plastic_white"]) * 0.8,
                matrix=pose((x, (seat_h - 0.03) / 2, 0.0)),
            )
            b.add(
                P.box((0.05, back_h, 0.04), (1, 3, 1)),
                "backrest",
                f"back_support_{i}",
                color=iron,
                matrix=pose(back_base + up * back_h / 2 + [x, 0, -0.03], rot),
            )
    if arms:
        arm_kind = str(rng.choice(["scroll", "flat"]))
        b.style["arm"] = arm_kind
        for sx, side in ((1.0, "left"), (-1.0, "right")):
            x = sx * (width / 2 - 0.03)
            y = seat_h + rng.uniform(0.18, 0.24)
            if arm_kind == "flat":
                b.add(
                    P.box((0.05, 0.03, depth * 0.85), (1, 1, 3), radius=0.008, round_segments=1),
                    f"arm#arm_{side}",
                    f"arm_{side}_rest",
                    color=wood,
                    matrix=pose((x, y, 0.0)),
                )
                b.add(
                    P.tube((x, seat_h, z_front - 0.06), (x, y, z_front - 0.06), 0.015, 8),
                    f"arm#arm_{side}",
                    f"arm_{side}_post",
                    color=iron,
                )
            else:
                path = P.curve(
                    np.array(
                        [
                            [x, seat_h, z_front - 0.04],
                            [x, y - 0.02, z_front + 0.02],
                            [x, y, z_front - 0.15],
                            [x, y + 0.01, z_back + 0.05],
                        ]
                    ),
                    16,
                )
                b.add(P.sweep(path, 0.018, 8), f"arm#arm_{side}", f"arm_{side}_rest", color=iron)


register(
    CategoryInfo(
        name="park_bench",
        kind="part321",
        super_category="tool",
        part_names=("arm", "backrest", "beam", "seat", "leg"),
        optional_parts=("arm",),
        styles={
            "legs": ("cast_frame", "posts", "blocks"),
            "supports": (2, 3),
            "seat": ("slats", "plank"),
            "back": ("horizontal_slats", "vertical_slats", "panel"),
            "arms": (False, True),
            "arm": ("scroll", "flat"),
        },
        description="cast-iron side frames, square posts or blocks (2 or 3 supports, instance per support); "
        "slatted or plank seat; horizontal-slat, vertical-slat or panel backrest; with or without arms "
        "(scroll or flat); width, depth, seat height, recline",
        generator=park_bench,
    )
)
