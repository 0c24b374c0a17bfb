"""Road vehicles (Part321 super-category "car"): ``car`` and ``bus``.

Both bodies are one lofted surface (superellipse cross-sections along +Z with a side profile and
tumblehome) whose vertices are cut into trunk / door / frame regions by position, the way the
DST-Part3D annotators split one CAD surface; wheels, lights and mirrors are separate primitives.
Units are metres before normalisation; the ground is y = 0.
"""

from __future__ import annotations

import numpy as np

from partlift.shapes import primitives as P
from partlift.shapes.builder import MATERIALS, Y_TO_X, ShapeBuilder, pose
from partlift.shapes.registry import CategoryInfo, register

WHEELS = ("wheel_front_left", "wheel_front_right", "wheel_back_left", "wheel_back_right")

# Side profiles: (fraction of length from the back, fraction of height) of the roof line.
CAR_PROFILES = {
    "sedan": [(0, 0.50), (0.03, 0.62), (0.20, 0.66), (0.34, 0.95), (0.60, 0.98), (0.75, 0.66), (0.96, 0.60), (1, 0.46)],
    "hatchback": [(0, 0.52), (0.02, 0.80), (0.10, 0.97), (0.55, 1.0), (0.71, 0.66), (0.95, 0.60), (1, 0.46)],
    "suv": [(0, 0.50), (0.015, 0.90), (0.05, 1.0), (0.64, 1.0), (0.76, 0.72), (0.96, 0.68), (1, 0.50)],
    "wagon": [(0, 0.52), (0.015, 0.88), (0.05, 0.96), (0.60, 1.0), (0.74, 0.66), (0.95, 0.60), (1, 0.46)],
    "coupe": [(0, 0.52), (0.05, 0.64), (0.26, 0.72), (0.46, 1.0), (0.58, 0.99), (0.73, 0.62), (0.96, 0.52), (1, 0.40)],
}
# (length, height, width) ranges in metres per body style
CAR_SIZES = {
    "sedan": ((4.4, 5.0), (1.40, 1.50), (1.75, 1.90)),
    "hatchback": ((3.7, 4.3), (1.42, 1.55), (1.68, 1.80)),
    "suv": ((4.4, 5.0), (1.65, 1.85), (1.85, 2.00)),
    "wagon": ((4.5, 5.0), (1.42, 1.52), (1.75, 1.88)),
    "coupe": ((4.1, 4.6), (1.18, 1.32), (1.78, 1.95)),
}
CAR_COLORS = [
    (0.70, 0.08, 0.08),
    (0.10, 0.20, 0.55),
    (0.85, 0.85, 0.86),
    (0.15, 0.15, 0.17),
    (0.55, 0.57, 0.60),
    (0.10, 0.40, 0.20),
    (0.90, 0.70, 0.10),
    (0.95, 0.45, 0.10),
]


def _body(length, top, bottom, half_width, tumble, y_belt, power, rings=44, segments=36):
    """Lofted body along +Z from -length/2 (back) to +length/2 (front).

    ``top``/``bottom``/``half_width`` are callables of the fraction u in [0, 1] from the back.
    Returns the primitive (world coordinates) and each vertex's fraction u along the body.
    """
    u = np.linspace(0.0, 1.0, rings)
    # shrink the end rings a little so the bumpers are rounded rather than cut off
    end = np.ones(rings)
    end[[0, -1]] = 0.86
    end[[1, -2]] = 0.97
    yt, yb, hw = top(u), bottom(u), half_width(u) * end
    mid = (yt + yb) / 2
    half_h = (yt - yb) / 2 * end
    z = (u - 0.5) * length
    z[0] += 0.02 * length * 0.3
    z[-1] -= 0.02 * length * 0.3

    def shape(c, s, i):
        e = 2.0 / power
        x, y = np.sign(c) * np.abs(c) ** e, np.sign(s) * np.abs(s) ** e
        yy = mid[i] + half_h[i] * y
        cabin = np.clip((yy - y_belt) / max(yt[i] - y_belt, 1e-6), 0.0, 1.0) if yt[i] > y_belt + 0.05 else 0 * yy
        return x * (1.0 - tumble * cabin), y

    centers = np.stack([np.zeros(rings), mid, z], axis=1)
    prim = P.loft(centers, np.stack([hw, half_h], axis=1), segments=segments, shape=shape)
    # ring index of each vertex: loft stores rings first (rings * segments), then two cap centres
    ring_u = np.concatenate([np.repeat(u, segments), [0.0, 1.0]])
    return prim, ring_u


def _interp(points):
    p = np.asarray(points, dtype=np.float64)
    return lambda u: np.interp(u, p[:, 0], p[:, 1])


# ------------------------------------------------------------------------------------------ car
def car(b: ShapeBuilder, rng: np.random.Generator) -> None:
    style = str(rng.choice(list(CAR_PROFILES)))
    (l0, l1), (h0, h1), (w0, w1) = CAR_SIZES[style]
    length, height, width = rng.uniform(l0, l1), rng.uniform(h0, h1), rng.uniform(w0, w1)
    doors = 2 if style == "coupe" else int(rng.choice([2, 4], p=[0.2, 0.8]))
    if style == "suv":
        lights = str(rng.choice(["round", "slit"], p=[0.5, 0.5]))
    else:
        lights = str(rng.choice(["round", "slit"], p=[0.2, 0.8]))
    wheel_r = rng.uniform(0.30, 0.34) if style != "suv" else rng.uniform(0.36, 0.42)
    clearance = 0.16 if style != "suv" else rng.uniform(0.24, 0.30)
    profile = np.array(CAR_PROFILES[style], dtype=np.float64)
    profile[1:-1, 0] += rng.uniform(-0.015, 0.015, len(profile) - 2)
    profile[1:-1, 1] *= rng.uniform(0.97, 1.03, len(profile) - 2)
    top = _interp(np.column_stack([profile[:, 0], clearance + profile[:, 1] * (height - clearance)]))
    bottom = _interp([(0, clearance + 0.14), (0.07, clearance), (0.93, clearance), (1, clearance + 0.12)])
    y_belt = clearance + 0.55 * (height - clearance) * (1.0 if style != "coupe" else 0.9)
    half_w = _interp([(0, 0.90 * width / 2), (0.06, width / 2), (0.93, width / 2), (1, 0.90 * width / 2)])
    tumble = rng.uniform(0.18, 0.28)
    b.style.update(body=style, doors=doors, head_lights=lights, length=length, height=height, width=width)

    prim, u = _body(length, top, bottom, half_w, tumble, y_belt, power=5.0)
    x, y, z = prim.vertices.T
    overhang_f = rng.uniform(0.17, 0.22) * length
    wheelbase = rng.uniform(0.58, 0.62) * length
    z_fw = length / 2 - overhang_f
    z_bw = z_fw - wheelbase
    # the windshield base and the trunk-lid start are where the roof line leaves the belt
    z_ws = (profile[-3, 0] - 0.5) * length  # windshield base: where the roof line meets the hood
    rear_deck = profile[2, 0] if style in ("sedan", "coupe") else 0.04
    z_deck = (rear_deck + 0.02 - 0.5) * length
    y_bumper = clearance + 0.30 * (y_belt - clearance)
    side = np.abs(x) > 0.80 * half_w(u) * (1 - 0.3 * (y > y_belt))
    region = np.full(len(x), "frame", dtype=object)
    region[(z > z_ws) & (y > y_bumper) & ~(side & (z < z_fw - wheel_r * 1.15))] = "front_trunk"
    region[(z < z_deck) & (y > y_bumper)] = "back_trunk"
    d_front, d_back = z_fw - 1.25 * wheel_r, z_bw + 1.15 * wheel_r
    in_door = side & (z < d_front) & (z > d_back) & (y > clearance + 0.10) & (y < top(u) - 0.06)
    split = d_back + 0.52 * (d_front - d_back)
    for s_name, s_mask in (("left", x > 0), ("right", x < 0)):
        if doors == 2:
            region[in_door & s_mask] = f"door_{s_name}"
        else:
            region[in_door & s_mask & (z >= split)] = f"door_{s_name}#front_{s_name}"
            region[in_door & s_mask & (z < split)] = f"door_{s_name}#back_{s_name}"
    paint = np.asarray(CAR_COLORS[rng.integers(len(CAR_COLORS))])
    col = np.tile(paint, (len(x), 1))
    cabin = (y > y_belt + 0.05) & (top(u) > y_belt + 0.2) & (y < top(u) - 0.03)
    col[cabin] = MATERIALS["glass"]
    b.add(prim, region.tolist(), "body", color=col)

    wheel_w = 0.22 if style != "suv" else 0.26
    wx = width / 2 - wheel_w / 2 + 0.01
    for name in WHEELS:
        sx = 1.0 if name.endswith("left") else -1.0
        wz = z_fw if "front" in name else z_bw
        b.add(P.disc_wheel(wheel_r, wheel_w, segments=22), name, name, color=MATERIALS["tyre"],
              matrix=pose((sx * wx, wheel_r, wz), Y_TO_X))
        b.add(
            P.cylinder(0.62 * wheel_r, 0.03, segments=14),
            name,
            name + "_hub",
            color=MATERIALS["chrome"],
            matrix=pose((sx * (wx + wheel_w / 2), wheel_r, wz), Y_TO_X),
        )

    y_light = top(np.array([0.985]))[0] - 0.12 * (height - clearance)
    z_front = length / 2 - 0.02 * length * 0.3
    for name, sx in (("head_light_left", 1.0), ("head_light_right", -1.0)):
        lx = sx * (width / 2 - (0.30 if lights == "slit" else 0.28))
        if lights == "slit":
            prim_l = P.ellipsoid((0.22, 0.055, 0.10), segments=14, rings=6)
        else:
            prim_l = P.ellipsoid((0.095, 0.095, 0.07), segments=14, rings=6)
        b.add(prim_l, name, name, color=MATERIALS["light"], matrix=pose((lx, y_light, z_front - 0.05)))

    for name, sx in (("rearview_left", 1.0), ("rearview_right", -1.0)):
        hw_here = half_w(np.array([0.7]))[0] * (1 - tumble * 0.15)
        at = np.array([sx * (hw_here + 0.07), y_belt + 0.08, z_ws - 0.12])
        b.add(
            P.box((0.16, 0.10, 0.07), 1, radius=0.025, round_segments=1),
            name,
            name + "_cap",
            color=paint,
            matrix=pose(at),
        )
        b.add(
            P.tube(at - [sx * 0.09, 0.03, 0.0], at - [0, 0.03, 0], 0.015, segments=6),
            name,
            name + "_arm",
            color=MATERIALS["plastic_black"],
        )


register(
    CategoryInfo(
        name="car",
        kind="part321",
        super_category="car",
        part_names=WHEELS
        + (
            "door_left",
            "door_right",
            "front_trunk",
            "back_trunk",
            "head_light_left",
            "head_light_right",
            "frame",
            "rearview_left",
            "rearview_right",
        ),
        styles={"body": tuple(CAR_PROFILES), "doors": (2, 4), "head_lights": ("round", "slit")},
        description="sedan / hatchback / SUV / wagon / coupe roof lines, 2 or 4 doors, round or slit "
        "head lights, wheel size, ground clearance, length, width, wheelbase, tumblehome",
        generator=car,
    )
)


# ------------------------------------------------------------------------------------------ bus
def bus(b: ShapeBuilder, rng: np.random.Generator) -> None:
    style = str(rng.choice(["school", "transit", "coach"]))
    length = {"school": rng.uniform(8.5, 11.0), "transit": rng.uniform(10.5, 12.5), "coach": rng.uniform(11.5, 13.5)}[
        style
    ]
    height = {"school": rng.uniform(2.9, 3.2), "transit": rng.uniform(2.9, 3.3), "coach": rng.uniform(3.4, 3.8)}[style]
    width = rng.uniform(2.40, 2.55)
    rear_axles = 2 if (style == "coach" and rng.random() < 0.5) else 1
    left_door = style == "transit" and rng.random() < 0.4
    wheel_r = 0.50 if style != "coach" else 0.54
    clearance = 0.30 if style == "school" else 0.25
    hood = 0.0
    if style == "school":
        hood = rng.uniform(0.12, 0.16) if rng.random() < 0.7 else 0.0  # conventional (hooded) vs flat nose
    rake = {"school": 0.01, "transit": rng.uniform(0.005, 0.015), "coach": rng.uniform(0.02, 0.035)}[style]
    b.style.update(
        body=style,
        hooded=bool(hood > 0),
        rear_axles=rear_axles,
        left_door=bool(left_door),
        length=length,
        height=height,
    )
    h = height - clearance
    if hood > 0:
        prof = [(0, 0.96), (0.01, 1.0), (1 - hood - 0.02, 1.0), (1 - hood, 0.55), (0.985, 0.48), (1, 0.40)]
    else:
        prof = [(0, 0.96), (0.01, 1.0), (1 - 4 * rake, 1.0), (1 - rake, 0.88), (1, 0.55)]
    prof_arr = np.array(prof)
    top = _interp(np.column_stack([prof_arr[:, 0], clearance + prof_arr[:, 1] * h]))
    bottom = _interp([(0, clearance + 0.05), (0.02, clearance), (0.98, clearance), (1, clearance + 0.08)])
    half_w = _interp(
        [
            (0, 0.97 * width / 2),
            (0.02, width / 2),
            (1 - hood - 0.01, width / 2),
            (1 - hood + 0.005, (0.75 if hood else 1.0) * width / 2),
            (1, (0.72 if hood else 0.96) * width / 2),
        ]
    )
    y_belt = clearance + 0.45 * h
    prim, u = _body(length, top, bottom, half_w, 0.04, y_belt, power=10.0, rings=48, segments=36)
    x, y, z = prim.vertices.T
    z_front = length / 2
    z_fw = z_front - (hood * length + 1.2 if hood else rng.uniform(2.2, 2.7))
    z_bw = -length / 2 + rng.uniform(2.4, 3.2)
    side = np.abs(x) > 0.85 * half_w(u)
    door_w = 1.1 if style != "coach" else 0.95
    region = np.full(len(x), "frame", dtype=object)
    door_top = clearance + 0.88 * h
    right = side & (x < 0) & (y > clearance + 0.05) & (y < door_top)
    if hood > 0:
        d0 = z_fw - wheel_r * 1.4  # school bus: door just behind the front wheel... in front of it: bonnet
        z_door = (d0 - door_w, d0)
    else:
        z_door = (z_front - 0.25 - door_w, z_front - 0.25)
    region[right & (z > z_door[0]) & (z < z_door[1])] = "door_right#front_right"
    if style == "transit":
        zm = 0.5 * (z_fw + z_bw) - 0.4
        region[right & (z > zm - door_w / 2) & (z < zm + door_w / 2)] = "door_right#middle_right"
        if left_door:
            left = side & (x > 0) & (y > clearance + 0.05) & (y < door_top)
            region[left & (z > zm - door_w / 2) & (z < zm + door_w / 2)] = "door_left"
    paint = np.asarray(
        {
            "school": (0.98, 0.72, 0.05),
            "transit": rng.choice([(0.85, 0.15, 0.12), (0.15, 0.45, 0.75), (0.9, 0.9, 0.9)]),
            "coach": rng.choice([(0.9, 0.9, 0.92), (0.2, 0.3, 0.55), (0.35, 0.35, 0.38)]),
        }[style]
    )
    col = np.tile(paint, (len(x), 1))
    win = (y > clearance + 0.52 * h) & (y < clearance + 0.9 * h) & (top(u) > clearance + 0.95 * h)
    col[win] = MATERIALS["glass"]
    b.add(prim, region.tolist(), "body", color=col)

    ww = 0.30
    wx = width / 2 - ww / 2 + 0.02
    back_z = [z_bw] if rear_axles == 1 else [z_bw + 0.65, z_bw - 0.65]
    for name in WHEELS:
        sx = 1.0 if name.endswith("left") else -1.0
        zs = [z_fw] if "front" in name else back_z
        for k, wz in enumerate(zs):
            reg = name if len(zs) == 1 else f"{name}#{name}_{k}"
            b.add(
                P.disc_wheel(wheel_r, ww, segments=22),
                reg,
                f"{name}_{k}",
                color=MATERIALS["tyre"],
                matrix=pose((sx * wx, wheel_r, wz), Y_TO_X),
            )
    y_light = clearance + (0.30 * h if hood else 0.16 * h)
    zl = z_front - 0.03
    for name, sx in (("head_light_left", 1.0), ("head_light_right", -1.0)):
        lx = sx * (half_w(np.array([0.999]))[0] - 0.22)
        b.add(
            P.ellipsoid((0.14, 0.10, 0.08), segments=14, rings=6),
            name,
            name,
            color=MATERIALS["light"],
            matrix=pose((lx, y_light, zl)),
        )
    for name, sx in (("rearview_left", 1.0), ("rearview_right", -1.0)):
        zm = z_front - (hood * length if hood else 0.0) + 0.15
        at = np.array([sx * (width / 2 + 0.25), clearance + 0.62 * h, zm])
        b.add(
            P.box((0.10, 0.35, 0.18), 1, radius=0.03, round_segments=1),
            name,
            name + "_cap",
            color=MATERIALS["plastic_black"],
            matrix=pose(at),
        )
        b.add(
            P.sweep(
                P.curve(
                    np.array(
                        [
                            [sx * width / 2 - sx * 0.02, clearance + 0.80 * h, zm - 0.35],
                            [sx * (width / 2 + 0.2), clearance + 0.82 * h, zm - 0.05],
                            at + [0, 0.15, 0],
                        ]
                    ),
                    8,
                ),
                0.02,
                6,
            ),
            name,
            name + "_arm",
            color=MATERIALS["plastic_black"],
        )


register(
    CategoryInfo(
        name="bus",
        kind="part321",
        super_category="car",
        part_names=WHEELS
        + (
            "frame",
            "head_light_left",
            "head_light_right",
            "door_left",
            "door_right",
            "rearview_left",
            "rearview_right",
        ),
        optional_parts=("door_left",),
        styles={
            "body": ("school", "transit", "coach"),
            "hooded": (False, True),
            "rear_axles": (1, 2),
            "left_door": (False, True),
        },
        description="school bus (hooded or flat nose), transit bus (1-2 right doors, optional left door), "
        "coach (raked windshield, 1 or 2 rear axles); length, height, wheel positions",
        generator=bus,
    )
)
