"""Aircraft (Part321 super-category "airplane"): ``airliner`` and ``warplane``.

Lifting surfaces are lofts of lens-shaped sections along their span; fuselages and nacelles are
lofts / lathes along +Z (nose at +Z). Units are metres before normalisation.

Left/right naming with variable engine counts: every engine whose centre has x > 0 is
``engine_left`` (x < 0: ``engine_right``); with four engines each side has two instances
(``#inner`` / ``#outer``). Main-gear bogies with 2 or 4 wheels are one instance per side.
"""

from __future__ import annotations

import numpy as np

from partlift.shapes import primitives as P
from partlift.shapes.builder import MATERIALS, Y_TO_X, Y_TO_Z, ShapeBuilder, pose
from partlift.shapes.registry import CategoryInfo, register

# local (x = chord forward, y = thickness, z = span) -> world, for the three surface orientations
LEFT_SPAN = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).T  # columns = images of x, y, z
RIGHT_SPAN = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]).T
UP_SPAN = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).T


def surface(span, chord_root, taper, sweep_deg, thickness, dihedral_deg=0.0, sections=7, segments=16):
    """Lifting surface in its local frame: leading edge at x = 0 at the root, span along +z."""
    s = np.linspace(0.0, 1.0, sections)
    chord = chord_root * (1.0 - (1.0 - taper) * s)
    le = -s * span * np.tan(np.deg2rad(sweep_deg))
    centers = np.stack([le - chord / 2, s * span * np.tan(np.deg2rad(dihedral_deg)), s * span], axis=1)
    radii = np.stack([chord / 2, thickness * chord / 2], axis=1)
    radii[-1] *= 0.7  # rounded tip
    return P.loft(centers, radii, power=2.0, segments=segments)


def surface_point(span, chord_root, taper, sweep_deg, frac_span, frac_chord, dihedral_deg=0.0):
    """Local (x, y, z) of a point on a surface's mean plane (frac_chord 0 = leading edge)."""
    chord = chord_root * (1.0 - (1.0 - taper) * frac_span)
    le = -frac_span * span * np.tan(np.deg2rad(sweep_deg))
    return np.array([le - frac_chord * chord, frac_span * span * np.tan(np.deg2rad(dihedral_deg)), frac_span * span])


def _place(local_to_world, root):
    m = np.eye(4)
    m[:3, :3] = local_to_world
    m[:3, 3] = root
    return m


def fuselage(
    length, radius, nose=0.14, tail=0.30, upsweep=0.6, tail_radius=0.12, rings=26, segments=20, height_ratio=1.06
):
    """Fuselage loft along +Z from -length/2 (tail) to +length/2 (nose, a pole)."""
    u = np.linspace(0.0, 1.0, rings)
    r = np.ones(rings)
    t = u < tail
    r[t] = tail_radius + (1 - tail_radius) * np.sin(np.pi / 2 * u[t] / tail) ** 1.2
    n = u > 1 - nose
    r[n] = np.sqrt(np.clip(1 - ((u[n] - (1 - nose)) / nose) ** 2, 0, 1)) ** 0.9
    r[-1] = 0.0
    y = upsweep * radius * np.clip(1 - u / tail, 0.0, 1.0) ** 1.5
    y[n] -= 0.25 * radius * ((u[n] - (1 - nose)) / nose) ** 2
    centers = np.stack([np.zeros(rings), y, (u - 0.5) * length], axis=1)
    return P.loft(centers, np.stack([r * radius, r * radius * height_ratio], axis=1), segments=segments)


def nacelle(radius, length, segments=14):
    """Engine nacelle along +Z: intake (flat cap) at z = length/2, exhaust cone at the back."""
    prof = np.array(
        [[0.0, -0.62], [0.45, -0.55], [0.80, -0.42], [0.95, -0.2], [1.0, 0.15], [0.98, 0.42], [0.92, 0.5]]
    ) * [radius, length]
    return P.lathe(prof, segments)


def gear(b, region, slot, at, strut, wheel_r, n_wheels, axis_gap, color=MATERIALS["tyre"]):
    """A landing-gear leg from ``at`` down by ``strut`` with 1, 2 or 4 wheels."""
    at = np.asarray(at, dtype=np.float64)
    foot = at - [0.0, strut, 0.0]
    b.add(P.tube(at, foot, wheel_r * 0.18, segments=6), region, slot + "_strut", color=MATERIALS["metal"])
    offsets = {
        1: [(0.0, 0.0)],
        2: [(-axis_gap, 0.0), (axis_gap, 0.0)],
        4: [
            (-axis_gap, -1.1 * wheel_r),
            (axis_gap, -1.1 * wheel_r),
            (-axis_gap, 1.1 * wheel_r),
            (axis_gap, 1.1 * wheel_r),
        ],
    }[n_wheels]
    for k, (dx, dz) in enumerate(offsets):
        b.add(
            P.disc_wheel(wheel_r, 0.6 * wheel_r, segments=14),
            region,
            f"{slot}_{k}",
            color=color,
            matrix=pose(foot + [dx, 0.0, dz], Y_TO_X),
        )


# ------------------------------------------------------------------------------------- airliner
AIRLINER_PARTS = (
    "engine_left",
    "engine_right",
    "fuselage",
    "wing_left",
    "wing_right",
    "vertical_stabilizer",
    "wheel_front",
    "wheel_back_left",
    "wheel_back_right",
    "horizontal_stabilizer_left",
    "horizontal_stabilizer_right",
)


def airliner(b: ShapeBuilder, rng: np.random.Generator) -> None:
    layout = str(rng.choice(["twin_wing", "quad_wing", "twin_tail"], p=[0.5, 0.25, 0.25]))
    length = rng.uniform(30, 70) if layout != "twin_tail" else rng.uniform(28, 45)
    rf = length * rng.uniform(0.045, 0.06)
    sweep = rng.uniform(20, 37)
    span = length * rng.uniform(0.42, 0.55)  # one wing
    chord = length * rng.uniform(0.14, 0.19)
    taper = rng.uniform(0.22, 0.35)
    dihedral = rng.uniform(3, 7)
    wing_z = length * rng.uniform(0.02, 0.08)
    t_tail = layout == "twin_tail"
    b.style.update(
        layout=layout,
        engines=4 if layout == "quad_wing" else 2,
        tail="T" if t_tail else "low",
        sweep=sweep,
        length=length,
    )
    b.add(fuselage(length, rf, upsweep=rng.uniform(0.4, 0.8)), "fuselage", "fuselage", color=MATERIALS["white"])

    root_y = -0.45 * rf
    for name, m in (("wing_left", LEFT_SPAN), ("wing_right", RIGHT_SPAN)):
        b.add(
            surface(span, chord, taper, sweep, 0.12, dihedral),
            name,
            name,
            color=MATERIALS["metal"],
            matrix=_place(m, (0.0, root_y, wing_z)),
        )

    # engines
    rn = rf * (rng.uniform(0.38, 0.5) if layout != "quad_wing" else rng.uniform(0.3, 0.38))
    ln = rn * rng.uniform(3.0, 3.8)
    if layout == "twin_tail":
        spots = [(0.0, rf + rn * 0.9, 0.32 * rf, -0.30 * length)]
    else:
        fracs = [0.34] if layout == "twin_wing" else [0.28, 0.58]
        spots = []
        for f in fracs:
            p = surface_point(span, chord, taper, sweep, f, 0.0, dihedral)
            spots.append((f, p[2], root_y + p[1] - 1.05 * rn, wing_z + p[0] + 0.25 * ln))
    for name, sx in (("engine_left", 1.0), ("engine_right", -1.0)):
        for k, (_, ex, ey, ez) in enumerate(spots):
            reg = name if len(spots) == 1 else f"{name}#{('inner', 'outer')[k]}_{name}"
            at = (sx * ex, ey, ez)
            b.add(nacelle(rn, ln), reg, f"{name}_{k}", color=MATERIALS["metal"], matrix=pose(at, Y_TO_Z))
            if layout == "twin_tail":
                pylon = P.box((rf * 0.9, rn * 0.25, ln * 0.4), 1)
                b.add(
                    pylon,
                    reg,
                    f"{name}_pylon_{k}",
                    color=MATERIALS["metal"],
                    matrix=pose((sx * (ex - 0.5 * rn - 0.3 * rf), ey, ez)),
                )
            else:
                pylon = P.box((rn * 0.22, rn * 0.9, ln * 0.5), 1)
                b.add(
                    pylon,
                    reg,
                    f"{name}_pylon_{k}",
                    color=MATERIALS["metal"],
                    matrix=pose((sx * ex, ey + 0.9 * rn, ez + 0.05 * ln)),
                )

    # tail
    v_span = length * rng.uniform(0.13, 0.17)
    v_chord = length * rng.uniform(0.12, 0.16)
    v_taper, v_sweep = rng.uniform(0.3, 0.45), rng.uniform(30, 45)
    v_root = (0.0, 0.55 * rf, -0.5 * length + 0.02 * length + v_chord * 1.05)
    b.add(
        surface(v_span, v_chord, v_taper, v_sweep, 0.11),
        "vertical_stabilizer",
        "vertical_stabilizer",
        color=MATERIALS["white"],
        matrix=_place(UP_SPAN, v_root),
    )
    h_span = length * rng.uniform(0.14, 0.19)
    h_chord = length * rng.uniform(0.08, 0.11)
    if t_tail:
        tip = surface_point(v_span, v_chord, v_taper, v_sweep, 0.97, 0.2)
        h_root = (0.0, v_root[1] + v_span * 0.97, v_root[2] + tip[0] + 0.35 * h_chord)
    else:
        h_root = (0.0, 0.25 * rf, -0.5 * length + 0.03 * length + h_chord * 1.2)
    for name, m in (("horizontal_stabilizer_left", LEFT_SPAN), ("horizontal_stabilizer_right", RIGHT_SPAN)):
        b.add(
            surface(h_span, h_chord, 0.4, sweep + 5, 0.10, 6.0 if not t_tail else -2.0),
            name,
            name,
            color=MATERIALS["white"],
            matrix=_place(m, h_root),
        )

    # landing gear (down), main gear behind the wing root mid-chord
    wr = rf * 0.22
    bogie = 4 if (length > 50 and rng.random() < 0.7) else 2
    b.style["main_gear_wheels"] = bogie
    gear(b, "wheel_front", "wheel_front", (0.0, -0.8 * rf, 0.36 * length), 0.45 * rf, wr * 0.8, 2, 0.45 * wr)
    # main gear behind the wing root's mid-chord and behind the middle of the whole length (a T-tail can
    # reach past the fuselage), so "back" wheels stay at z < 0 after centring
    tail_z = min(
        -0.5 * length,
        v_root[2] + surface_point(v_span, v_chord, v_taper, v_sweep, 1.0, 1.0)[0],
        h_root[2] + surface_point(h_span, h_chord, 0.4, sweep + 5, 1.0, 1.0)[0],
    )
    main_z = min(wing_z - 0.75 * chord, 0.5 * (0.5 * length + tail_z) - 0.04 * length)
    for name, sx in (("wheel_back_left", 1.0), ("wheel_back_right", -1.0)):
        gear(b, name, name, (sx * 0.9 * rf, root_y - 0.2 * rf, main_z), 0.6 * rf, wr, bogie, 0.55 * wr)


register(
    CategoryInfo(
        name="airliner",
        kind="part321",
        super_category="airplane",
        part_names=AIRLINER_PARTS,
        styles={"layout": ("twin_wing", "quad_wing", "twin_tail"), "tail": ("low", "T"), "main_gear_wheels": (2, 4)},
        description="2 or 4 wing-mounted engines or 2 rear-fuselage engines with a T-tail; wing sweep, span, "
        "taper, dihedral, fuselage length and slenderness, 2- or 4-wheel main gear",
        generator=airliner,
    )
)


# ------------------------------------------------------------------------------------- warplane
WARPLANE_PARTS = (
    "engine_left",
    "engine_right",
    "fuselage",
    "wing_left",
    "wing_right",
    "vertical_stabilizer",
    "wheel_middle",
    "wheel_left",
    "wheel_right",
    "horizontal_stabilizer_left",
    "horizontal_stabilizer_right",
)


def _propeller(b, region, slot, at, radius, blades, color):
    b.add(
        P.ellipsoid((0.18 * radius, 0.18 * radius, 0.3 * radius), segments=10, rings=5),
        region,
        slot + "_spinner",
        color=color,
        matrix=pose(at),
    )
    for k in range(blades):
        ang = 2 * np.pi * k / blades
        d = np.array([np.cos(ang), np.sin(ang), 0.0])
        blade = P.box((0.12 * radius, radius, 0.03 * radius), (1, 2, 1))
        rot = np.stack([np.cross(d, [0, 0, 1.0]), d, [0, 0, 1.0]], axis=1)
        b.add(
            blade,
            region,
            f"{slot}_blade_{k}",
            color=MATERIALS["plastic_black"],
            matrix=pose(np.asarray(at) + 0.55 * radius * d, rot),
        )


def warplane(b: ShapeBuilder, rng: np.random.Generator) -> None:
    kind = str(rng.choice(["jet", "propeller"], p=[0.6, 0.4]))
    camo = np.asarray([(0.45, 0.5, 0.55), (0.35, 0.4, 0.3), (0.55, 0.55, 0.5)][rng.integers(3)])
    if kind == "jet":
        wing = str(rng.choice(["delta", "swept"]))
        tails = int(rng.choice([1, 2]))
        length = rng.uniform(14, 22)
        rf = length * rng.uniform(0.045, 0.06)
        b.style.update(kind=kind, wing=wing, vertical_tails=tails, engines=2, length=length)
        b.add(
            fuselage(length, rf, nose=0.3, tail=0.08, upsweep=0.0, tail_radius=0.7, height_ratio=1.1),
            "fuselage",
            "fuselage",
            color=camo,
        )
        b.add(
            P.ellipsoid((0.6 * rf, 0.55 * rf, 1.6 * rf), 12, 6),
            "fuselage",
            "canopy",
            color=MATERIALS["glass"],
            matrix=pose((0.0, 0.75 * rf, 0.22 * length)),
        )
        if wing == "delta":
            span, chord, taper, sweep = (
                length * rng.uniform(0.28, 0.36),
                length * rng.uniform(0.45, 0.55),
                0.08,
                rng.uniform(50, 60),
            )
        else:
            span, chord, taper, sweep = (
                length * rng.uniform(0.3, 0.4),
                length * rng.uniform(0.28, 0.35),
                rng.uniform(0.25, 0.35),
                rng.uniform(35, 45),
            )
        wz = length * 0.12 + (0.1 * length if wing == "delta" else 0.0)
        for name, m in (("wing_left", LEFT_SPAN), ("wing_right", RIGHT_SPAN)):
            b.add(
                surface(span, chord, taper, sweep, 0.06, -2.0), name, name, color=camo, matrix=_place(m, (0.0, 0.0, wz))
            )
        # twin engines: long pods along the rear fuselage sides with intakes under the wing roots
        rn = rf * rng.uniform(0.6, 0.75)
        ln = length * rng.uniform(0.5, 0.6)
        for name, sx in (("engine_left", 1.0), ("engine_right", -1.0)):
            pod = P.loft(
                np.array([[0, 0, 0], [0, 0, 0.02], [0, 0, 0.5], [0, 0, 0.97], [0, 0, 1.0]]) * [1, 1, ln],
                np.array([[0.75, 0.75], [0.85, 0.85], [1, 1.0], [1.0, 0.9], [0.7, 0.6]]) * rn,
                power=[2, 2, 2.6, 3.5, 3.5],
                segments=14,
            )
            b.add(
                pod,
                name,
                name,
                color=MATERIALS["dark_metal"],
                matrix=pose((sx * 0.75 * rf, -0.2 * rf, -0.5 * length - 0.03 * length)),
            )
        v_span, v_chord = length * rng.uniform(0.10, 0.14), length * rng.uniform(0.13, 0.17)
        for k in range(tails):
            x = 0.0 if tails == 1 else (0.8 * rf if k == 0 else -0.8 * rf)
            cant = 0.0 if tails == 1 else (-18.0 if k == 0 else 18.0)  # fins lean outward
            rot = np.array(
                [
                    [np.cos(np.deg2rad(cant)), -np.sin(np.deg2rad(cant)), 0],
                    [np.sin(np.deg2rad(cant)), np.cos(np.deg2rad(cant)), 0],
                    [0, 0, 1.0],
                ]
            )
            reg = "vertical_stabilizer" if tails == 1 else f"vertical_stabilizer#tail_{k}"
            b.add(
                surface(v_span, v_chord, 0.3, rng.uniform(40, 50), 0.07),
                reg,
                f"vertical_stabilizer_{k}",
                color=camo,
                matrix=_place(rot @ UP_SPAN, (x, 0.6 * rf, -0.5 * length + v_chord * 1.2)),
            )
        h_span, h_chord = length * rng.uniform(0.14, 0.2), length * rng.uniform(0.12, 0.16)
        h_root = (0.0, 0.0, -0.5 * length + h_chord * 1.1)
        nose_gear_z = 0.3 * length
        main = (1.1 * rf, -0.6 * rf, wz - 0.55 * chord)
        wr, strut = rf * 0.35, 0.7 * rf
    else:
        engines = int(rng.choice([2, 4], p=[0.65, 0.35]))
        tails = int(rng.choice([1, 2], p=[0.6, 0.4]))
        gear_kind = str(rng.choice(["tricycle", "taildragger"]))
        length = rng.uniform(14, 24)
        rf = length * rng.uniform(0.05, 0.065)
        b.style.update(kind=kind, wing="straight", vertical_tails=tails, engines=engines, gear=gear_kind, length=length)
        b.add(
            fuselage(length, rf, nose=0.12, tail=0.35, upsweep=0.3, tail_radius=0.2), "fuselage", "fuselage", color=camo
        )
        b.add(
            P.ellipsoid((0.7 * rf, 0.6 * rf, 1.4 * rf), 12, 6),
            "fuselage",
            "canopy",
            color=MATERIALS["glass"],
            matrix=pose((0.0, 0.7 * rf, 0.3 * length)),
        )
        span, chord, taper, sweep = (
            length * rng.uniform(0.6, 0.75),
            length * rng.uniform(0.16, 0.2),
            rng.uniform(0.35, 0.55),
            rng.uniform(0, 6),
        )
        wz, wy = length * 0.15, rng.choice([-0.5, 0.6]) * rf
        for name, m in (("wing_left", LEFT_SPAN), ("wing_right", RIGHT_SPAN)):
            b.add(
                surface(span, chord, taper, sweep, 0.13, 4.0), name, name, color=camo, matrix=_place(m, (0.0, wy, wz))
            )
        rn, ln = rf * 0.5, chord * 1.05
        fracs = [0.3] if engines == 2 else [0.24, 0.5]
        for name, sx in (("engine_left", 1.0), ("engine_right", -1.0)):
            for k, f in enumerate(fracs):
                p = surface_point(span, chord, taper, sweep, f, 0.0, 4.0)
                at = np.array([sx * p[2], wy + p[1], wz + p[0] - 0.1 * ln])
                reg = name if len(fracs) == 1 else f"{name}#{('inner', 'outer')[k]}_{name}"
                b.add(nacelle(rn, ln), reg, f"{name}_{k}", color=camo, matrix=pose(at, Y_TO_Z))
                _propeller(b, reg, f"{name}_prop_{k}", at + [0, 0, 0.55 * ln], rn * 2.4, 3, MATERIALS["dark_metal"])
        h_span, h_chord = length * rng.uniform(0.16, 0.22), length * rng.uniform(0.1, 0.13)
        h_root = (0.0, 0.3 * rf, -0.5 * length + h_chord * 1.1)
        v_span, v_chord = length * rng.uniform(0.12, 0.16), length * rng.uniform(0.1, 0.14)
        for k in range(tails):
            if tails == 1:
                root, reg = (0.0, 0.5 * rf, -0.5 * length + v_chord * 1.2), "vertical_stabilizer"
            else:  # twin fins at the tips of the tailplane
                sx = 1.0 if k == 0 else -1.0
                root = (sx * h_span * 0.95, 0.3 * rf - 0.4 * v_span, -0.5 * length + v_chord * 1.1)
                reg = f"vertical_stabilizer#tail_{k}"
            b.add(
                surface(v_span * (1.0 if tails == 1 else 0.8), v_chord, 0.5, 20, 0.1),
                reg,
                f"vertical_stabilizer_{k}",
                color=camo,
                matrix=_place(UP_SPAN, root),
            )
        if gear_kind == "tricycle":
            nose_gear_z = 0.3 * length
        else:
            nose_gear_z = -0.42 * length  # tail wheel: still the "middle" wheel
        p = surface_point(span, chord, taper, sweep, fracs[0], 0.0, 4.0)
        main = (p[2], wy + p[1] - 0.6 * rn, wz - 0.1 * chord if gear_kind == "tricycle" else wz + 0.1 * chord)
        wr, strut = rf * 0.4, 1.1 * rf + (0.3 * rf if gear_kind == "taildragger" else 0.0)
    for name, m in (("horizontal_stabilizer_left", LEFT_SPAN), ("horizontal_stabilizer_right", RIGHT_SPAN)):
        b.add(
            surface(h_span, h_chord, 0.4, 35 if kind == "jet" else 8, 0.07, 0.0),
            name,
            name,
            color=camo,
            matrix=_place(m, h_root),
        )
    tail_wheel = kind == "propeller" and nose_gear_z < 0
    gear(
        b,
        "wheel_middle",
        "wheel_middle",
        (0.0, -0.7 * rf, nose_gear_z),
        (0.3 if tail_wheel else 1.0) * strut,
        wr * (0.5 if tail_wheel else 0.75),
        1,
        0.0,
    )
    for name, sx in (("wheel_left", 1.0), ("wheel_right", -1.0)):
        gear(b, name, name, (sx * main[0], main[1], main[2]), strut, wr, 1, 0.0)


register(
    CategoryInfo(
        name="warplane",
        kind="part321",
        super_category="airplane",
        part_names=WARPLANE_PARTS,
        styles={
            "kind": ("jet", "propeller"),
            "wing": ("delta", "swept", "straight"),
            "vertical_tails": (1, 2),
            "engines": (2, 4),
            "gear": ("tricycle", "taildragger"),
        },
        description="jet fighter (delta or swept wing, single or twin canted fins, twin engine pods) or "
        "propeller warplane (2 or 4 wing engines with propellers, high or low wing, single or twin fins, "
        "nose or tail wheel as wheel_middle)",
        generator=warplane,
    )
)
