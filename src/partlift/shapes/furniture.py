"""Furniture with PartNetE taxonomies: ``Chair``, ``Table``, ``StorageFurniture``.

Frame: the front (the side you sit at / open from) faces +Z, +X is the user's left, floor y = 0.
Repeated parts get one instance each (legs, wheels, drawers, doors, handles, arms).
Geometry outside the PartNetE part list (aprons, cabinet carcasses, plinths) is unlabelled (-1).
Units are metres.
"""

from __future__ import annotations

import numpy as np

from partlift.shapes import primitives as P
from partlift.shapes.builder import MATERIALS, Y_TO_X, ShapeBuilder, align_y, pose, ry
from partlift.shapes.registry import CategoryInfo, register

WOODS = [MATERIALS["wood"], MATERIALS["dark_wood"], (0.80, 0.66, 0.45), (0.92, 0.90, 0.86), (0.25, 0.25, 0.27)]
FABRICS = [MATERIALS["fabric"], (0.55, 0.12, 0.12), (0.20, 0.20, 0.22), (0.70, 0.66, 0.58), (0.20, 0.45, 0.35)]


def post(b, region, slot, p_top, p_bottom, size, shape, color, taper=1.0):
    """A leg between two points: round (lathe, optionally tapered) or square (box) section."""
    a, c = np.asarray(p_top, dtype=np.float64), np.asarray(p_bottom, dtype=np.float64)
    length = float(np.linalg.norm(a - c))
    if shape == "round":
        prim = P.frustum(size / 2 * taper, size / 2, length, 16, 8)  # bottom radius at y=0 is the foot
        b.add(prim, region, slot, color=color, matrix=pose(c, align_y(a - c)))
    else:
        prim = P.box((size, length, size), (2, 10, 2))
        b.add(prim, region, slot, color=color, matrix=pose((a + c) / 2, align_y(a - c)))


def caster(b, region, slot, at, r, color=MATERIALS["plastic_black"]):
    """A caster wheel (axis along X) whose bottom touches y = at[1] - r ... centred at ``at``."""
    b.add(P.disc_wheel(r, r * 0.8, rim=0.3, segments=14), region, slot, color=color, matrix=pose(at, Y_TO_X))


# ------------------------------------------------------------------------------------------- chair
def chair(b: ShapeBuilder, rng: np.random.Generator) -> None:
    base = str(rng.choice(["four_legs", "star", "sled", "pedestal"], p=[0.45, 0.3, 0.15, 0.1]))
    leg_shape = str(rng.choice(["round", "square"])) if base == "four_legs" else "round"
    back = str(rng.choice(["solid", "vertical_slats", "horizontal_rails"], p=[0.5, 0.25, 0.25]))
    if base == "star":
        back = "solid"
    arms = str(rng.choice(["none", "box", "loop"], p=[0.45, 0.3, 0.25]))
    sh = rng.uniform(0.42, 0.50)
    sw, sd = rng.uniform(0.42, 0.56), rng.uniform(0.40, 0.50)
    st = rng.uniform(0.03, 0.08)
    bh = rng.uniform(0.35, 0.60) if base != "star" else rng.uniform(0.45, 0.7)
    recline = np.deg2rad(rng.uniform(0, 15))
    stretchers = bool(base == "four_legs" and rng.random() < 0.5)
    wood = np.asarray(WOODS[rng.integers(len(WOODS))])
    cloth = np.asarray(FABRICS[rng.integers(len(FABRICS))]) if rng.random() < 0.6 else wood
    b.style.update(
        base=base, leg_shape=leg_shape, back=back, arms=arms, stretchers=stretchers, seat_height=sh, back_height=bh
    )
    b.add(
        P.box((sw, st, sd), (10, 2, 10), radius=min(0.015, st * 0.4)),
        "seat",
        "seat",
        color=cloth,
        matrix=pose((0.0, sh - st / 2, 0.0)),
    )
    # back: rises from the rear of the seat, reclined by `recline`
    up = np.array([0.0, np.cos(recline), -np.sin(recline)])
    rot = align_y(up)
    b0 = np.array([0.0, sh, -sd / 2 + 0.02])
    bt = 0.03 if back != "solid" else rng.uniform(0.03, 0.07)
    if back == "solid":
        shape_r = rng.uniform(0.01, 0.06)
        b.add(
            P.box((sw * rng.uniform(0.85, 1.0), bh, bt), (10, 10, 2), radius=shape_r),
            "back",
            "back_panel",
            color=cloth,
            matrix=pose(b0 + up * bh / 2, rot),
        )
    else:
        for sx, side in ((1.0, "left"), (-1.0, "right")):
            b.add(
                P.box((0.03, bh, 0.03), (2, 10, 2)),
                "back",
                f"back_post_{side}",
                color=wood,
                matrix=pose(b0 + up * bh / 2 + [sx * (sw / 2 - 0.02), 0, 0], rot),
            )
        b.add(
            P.box((sw, 0.05, 0.03), (10, 2, 2)),
            "back",
            "back_top_rail",
            color=wood,
            matrix=pose(b0 + up * (bh - 0.025), rot),
        )
        if back == "vertical_slats":
            n = int(rng.integers(3, 7))
            b.style["slats"] = n
            for k in range(n):
                x = ((k + 1) / (n + 1) - 0.5) * (sw - 0.04)
                b.add(
                    P.box((0.025, bh - 0.08, 0.015), (1, 8, 1)),
                    "back",
                    f"back_slat_{k}",
                    color=wood,
                    matrix=pose(b0 + up * (bh / 2 + 0.01) + [x, 0, 0], rot),
                )
        else:
            n = int(rng.integers(1, 4))
            b.style["slats"] = n
            for k in range(n):
                y = bh * (0.3 + 0.5 * k / max(n, 1))
                b.add(
                    P.box((sw - 0.04, 0.04, 0.02), (10, 2, 1)),
                    "back",
                    f"back_rail_{k}",
                    color=wood,
                    matrix=pose(b0 + up * y, rot),
                )
    # base
    leg_col = wood if base == "four_legs" else MATERIALS["dark_metal"]
    if base == "four_legs":
        size = rng.uniform(0.03, 0.05)
        splay = rng.uniform(0.0, 0.04)
        inset = 0.03
        corners: dict[str, tuple[float, float]] = {
            "front_left": (1, 1), "front_right": (-1, 1), "back_left": (1, -1), "back_right": (-1, -1)}
        feet = {}
        for name, (sx, sz) in corners.items():
            top = np.array([sx * (sw / 2 - inset), sh - st, sz * (sd / 2 - inset)])
            foot = np.array([sx * (sw / 2 - inset + splay), 0.0, sz * (sd / 2 - inset + splay)])
            feet[name] = (top, foot)
            post(
                b,
                f"leg#leg_{name}",
                f"leg_{name}",
                top,
                foot,
                size,
                leg_shape,
                leg_col,
                taper=rng.uniform(1.0, 1.4) if leg_shape == "round" else 1.0,
            )
        if stretchers:
            for a, c in (("front_left", "back_left"), ("front_right", "back_right")):
                p0 = 0.7 * feet[a][1] + 0.3 * feet[a][0]
                p1 = 0.7 * feet[c][1] + 0.3 * feet[c][0]
                b.add(P.tube(p0, p1, size * 0.3, 8), f"leg#leg_{a}", f"stretcher_{a}", color=leg_col)
    elif base == "star":
        n = int(rng.choice([4, 5], p=[0.2, 0.8]))
        b.style["star_arms"] = n
        reach = rng.uniform(0.28, 0.34)
        wr = 0.03
        hub_y = wr * 2 + 0.04
        b.add(
            P.cylinder(0.025, sh - st - hub_y, 12, 3),
            "leg",
            "column",
            color=MATERIALS["chrome"],
            matrix=pose((0.0, (sh - st + hub_y) / 2, 0.0)),
        )
        for k in range(n):
            ang = 2 * np.pi * k / n + np.pi / 2
            d = np.array([np.sin(ang), 0.0, np.cos(ang)])
            end = d * reach + [0, hub_y - 0.02, 0]
            b.add(P.tube((0.0, hub_y, 0.0), end, 0.022, 8), "leg", f"star_arm_{k}", color=MATERIALS["plastic_black"])
            caster(b, f"wheel#wheel_{k}", f"caster_{k}", end * [1, 0, 1] + [0, wr, 0], wr)
    elif base == "sled":
        for sx, side in ((1.0, "left"), (-1.0, "right")):
            x = sx * (sw / 2 - 0.02)
            path = P.curve(
                np.array(
                    [
                        [x, sh - st, sd / 2 - 0.04],
                        [x, 0.02, sd / 2],
                        [x, 0.01, 0.0],
                        [x, 0.02, -sd / 2],
                        [x, sh - st, -sd / 2 + 0.04],
                    ]
                ),
                20,
            )
            b.add(P.sweep(path, 0.012, 8), f"leg#leg_{side}", f"sled_{side}", color=MATERIALS["chrome"])
    else:
        b.add(P.frustum(0.25, 0.03, 0.05, 24, 2), "leg", "pedestal_foot", color=MATERIALS["plastic_white"])
        b.add(
            P.cylinder(0.03, sh - st - 0.04, 12, 3),
            "leg",
            "column",
            color=MATERIALS["plastic_white"],
            matrix=pose((0.0, 0.04 + (sh - st - 0.04) / 2, 0.0)),
        )
    # arms
    if arms != "none":
        ah = rng.uniform(0.18, 0.25)
        for sx, side in ((1.0, "left"), (-1.0, "right")):
            x = sx * (sw / 2 + 0.02)
            if arms == "box":
                b.add(
                    P.box((0.05, 0.03, sd * 0.8), (1, 1, 4), radius=0.01),
                    f"arm#arm_{side}",
                    f"arm_{side}_pad",
                    color=cloth,
                    matrix=pose((x, sh + ah, -0.05 * sd)),
                )
                b.add(
                    P.box((0.03, ah, 0.03), (1, 3, 1)),
                    f"arm#arm_{side}",
                    f"arm_{side}_support",
                    color=leg_col,
                    matrix=pose((x, sh + ah / 2 - 0.01, 0.15 * sd)),
                )
            else:
                back_pt = b0 + up * (ah + 0.03) + [x, 0, 0.02]
                path = P.curve(
                    np.array(
                        [[x, sh - 0.01, sd / 2 - 0.05], [x, sh + ah, sd / 2 - 0.08], [x, sh + ah + 0.01, 0.0], back_pt]
                    ),
                    18,
                )
                b.add(P.sweep(path, 0.014, 8), f"arm#arm_{side}", f"arm_{side}_loop", color=leg_col)


register(
    CategoryInfo(
        name="Chair",
        kind="partnete",
        super_category="furniture",
        part_names=("arm", "back", "leg", "seat", "wheel"),
        optional_parts=("arm", "wheel"),
        styles={
            "base": ("four_legs", "star", "sled", "pedestal"),
            "leg_shape": ("round", "square"),
            "back": ("solid", "vertical_slats", "horizontal_rails"),
            "arms": ("none", "box", "loop"),
            "stretchers": (False, True),
            "star_arms": (4, 5),
        },
        description="four round/square (tapered, splayed) legs with optional stretchers, office star base "
        "with 4-5 casters, sled runners or a pedestal; solid, slatted or railed back; no arms, box arms or "
        "loop arms; seat height/size/thickness, back height and recline",
        generator=chair,
    )
)


# ------------------------------------------------------------------------------------------- table
def _handle(b, slot, at, kind, length, normal_z=1.0, vertical=False, color=MATERIALS["chrome"]):
    """A drawer / door handle on a +Z facing front at ``at``: bar (with posts), knob or flat pull."""
    at = np.asarray(at, dtype=np.float64)
    region = f"handle#{slot}"
    if kind == "knob":
        b.add(P.sphere(0.014, 10, 6), region, slot, color=color, matrix=pose(at + [0, 0, normal_z * 0.018]))
        b.add(
            P.cylinder(0.006, 0.014, 8),
            region,
            slot + "_stem",
            color=color,
            matrix=pose(at + [0, 0, normal_z * 0.007], np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])),
        )
    elif kind == "bar":
        axis = np.array([0.0, 1.0, 0.0]) if vertical else np.array([1.0, 0.0, 0.0])
        off = np.array([0.0, 0.0, normal_z * 0.028])
        b.add(P.tube(at + off - axis * length / 2, at + off + axis * length / 2, 0.006, 8), region, slot, color=color)
        for k, s in enumerate((-1.0, 1.0)):
            p = at + s * axis * length * 0.4
            b.add(P.tube(p, p + off, 0.004, 6), region, f"{slot}_post_{k}", color=color)
    else:
        size = (0.012, length, 0.02) if vertical else (length, 0.012, 0.02)
        b.add(
            P.box(size, (2, 1, 1), radius=0.004), region, slot, color=color, matrix=pose(at + [0, 0, normal_z * 0.01])
        )


def table(b: ShapeBuilder, rng: np.random.Generator) -> None:
    support = str(rng.choice(["four_legs", "pedestal", "trestle", "desk"], p=[0.45, 0.2, 0.15, 0.2]))
    top_shape = str(rng.choice(["rect", "round"])) if support in ("four_legs", "pedestal") else "rect"
    if support == "pedestal" and top_shape == "rect" and rng.random() < 0.5:
        top_shape = "round"
    height = rng.uniform(0.68, 0.78) if rng.random() < 0.8 else rng.uniform(0.40, 0.50)  # dining vs coffee
    if support == "desk":
        height = rng.uniform(0.70, 0.78)
    w = rng.uniform(0.9, 1.8)
    d = w * rng.uniform(0.45, 0.7) if top_shape == "rect" else w
    if top_shape == "round":
        w = d = rng.uniform(0.7, 1.2)
    tt = rng.uniform(0.025, 0.05)
    wood = np.asarray(WOODS[rng.integers(len(WOODS))])
    leg_shape = str(rng.choice(["round", "square"]))
    handle_kind = str(rng.choice(["bar", "knob", "pull"]))
    b.style.update(support=support, top=top_shape, leg_shape=leg_shape, height=height, width=w)
    top_y = height - tt / 2
    if top_shape == "rect":
        b.add(
            P.box((w, tt, d), (24, 2, 16), radius=min(0.01, tt * 0.3), round_segments=2),
            "tabletop",
            "tabletop",
            color=wood,
            matrix=pose((0.0, top_y, 0.0)),
        )
    else:
        b.add(
            P.disc(w / 2, tt, 64, 8, bevel=tt * 0.3), "tabletop", "tabletop", color=wood, matrix=pose((0.0, top_y, 0.0))
        )
    under = height - tt
    drawers = 0
    wheels = False
    if support == "four_legs":
        size = rng.uniform(0.04, 0.07)
        apron = bool(rng.random() < 0.7)
        drawers = int(rng.choice([0, 1, 2, 3], p=[0.5, 0.25, 0.15, 0.1])) if (apron and top_shape == "rect") else 0
        wheels = bool(height > 0.6 and rng.random() < 0.15)
        b.style.update(apron=apron, drawers=drawers, wheels=wheels)
        wr = 0.03
        foot_y = 2 * wr if wheels else 0.0
        r_in = 0.42 if top_shape == "round" else None
        corners: dict[str, tuple[float, float]] = {
            "front_left": (1, 1), "front_right": (-1, 1), "back_left": (1, -1), "back_right": (-1, -1)}
        for name, (sx, sz) in corners.items():
            if r_in is not None:
                x, z = sx * w * 0.3, sz * w * 0.3
            else:
                x, z = sx * (w / 2 - 0.05), sz * (d / 2 - 0.05)
            post(b, f"leg#leg_{name}", f"leg_{name}", (x, under, z), (x, foot_y, z), size, leg_shape, wood)
            if wheels:
                caster(b, f"wheel#wheel_{name}", f"caster_{name}", (x, wr, z), wr)
        if apron:
            ah = 0.08 if drawers == 0 else 0.14
            ax_, az_ = (w / 2 - 0.05, d / 2 - 0.05) if r_in is None else (w * 0.3, w * 0.3)
            b.add(
                P.box((2 * ax_, ah, 0.02), (16, 2, 1)),
                "apron",
                "apron_back",
                color=wood,
                matrix=pose((0.0, under - ah / 2, -az_)),
            )
            for sx, side in ((1.0, "left"), (-1.0, "right")):
                b.add(
                    P.box((0.02, ah, 2 * az_), (1, 2, 10)),
                    "apron",
                    f"apron_{side}",
                    color=wood,
                    matrix=pose((sx * ax_, under - ah / 2, 0.0)),
                )
            if drawers == 0:
                b.add(
                    P.box((2 * ax_, ah, 0.02), (16, 2, 1)),
                    "apron",
                    "apron_front",
                    color=wood,
                    matrix=pose((0.0, under - ah / 2, az_)),
                )
            else:
                dw = 2 * ax_ / drawers
                for k in range(drawers):
                    x = ax_ - dw * (k + 0.5)
                    b.add(
                        P.box((dw - 0.01, ah - 0.01, 0.02), (8, 3, 1), radius=0.003, round_segments=1),
                        f"drawer#drawer_{k}",
                        f"drawer_{k}",
                        color=wood * 0.92,
                        matrix=pose((x, under - ah / 2, az_)),
                    )
                    _handle(b, f"drawer_handle_{k}", (x, under - ah / 2, az_ + 0.01), handle_kind, min(0.12, dw * 0.4))
    elif support == "pedestal":
        feet = str(rng.choice(["disc", "cross"]))
        b.style["pedestal_foot"] = feet
        b.add(
            P.cylinder(rng.uniform(0.04, 0.08), under - 0.04, 24, 10),
            "leg",
            "column",
            color=wood,
            matrix=pose((0.0, (under + 0.04) / 2, 0.0)),
        )
        if feet == "disc":
            b.add(
                P.disc(w * 0.3, 0.04, 48, 6, bevel=0.01), "leg", "foot_disc", matrix=pose((0.0, 0.02, 0.0)), color=wood
            )
        else:
            for k in range(4):
                a = np.pi / 4 + k * np.pi / 2
                end = np.array([np.sin(a) * w * 0.35, 0.02, np.cos(a) * w * 0.35])
                b.add(
                    P.box((0.05, 0.05, w * 0.35), (2, 2, 10)),
                    "leg",
                    f"foot_{k}",
                    color=wood,
                    matrix=pose(end / 2 + [0, 0.015, 0], ry(np.rad2deg(a))),
                )
    elif support == "trestle":
        for sx, side in ((1.0, "left"), (-1.0, "right")):
            x = sx * (w / 2 - 0.1)
            b.add(
                P.box((0.05, under - 0.05, d * 0.15), (2, 12, 3)),
                f"leg#leg_{side}",
                f"trestle_post_{side}",
                color=wood,
                matrix=pose((x, (under - 0.05) / 2 + 0.05, 0.0)),
            )
            b.add(
                P.box((0.06, 0.05, d * 0.8), (2, 2, 12)),
                f"leg#leg_{side}",
                f"trestle_foot_{side}",
                color=wood,
                matrix=pose((x, 0.025, 0.0)),
            )
        b.add(
            P.box((w - 0.2, 0.06, 0.04), (16, 2, 1)),
            "apron",
            "trestle_beam",
            color=wood,
            matrix=pose((0.0, under * 0.4, 0.0)),
        )
    else:  # desk: a cabinet pedestal on one side, a panel or two legs on the other
        cab_w = rng.uniform(0.35, 0.45)
        sign = float(rng.choice([1.0, -1.0]))
        cx = sign * (w / 2 - cab_w / 2)
        fill = str(rng.choice(["drawers", "door"], p=[0.7, 0.3]))
        b.style.update(cabinet=fill, cabinet_side="left" if sign > 0 else "right")
        b.add(
            P.box((cab_w, under, d - 0.04), (6, 12, 8)),
            "apron",
            "cabinet",
            color=wood,
            matrix=pose((cx, under / 2, -0.01)),
        )
        zf = d / 2 - 0.03 + 0.01
        if fill == "drawers":
            drawers = int(rng.integers(2, 5))
            dh = (under - 0.06) / drawers
            for k in range(drawers):
                y = under - 0.03 - dh * (k + 0.5)
                b.add(
                    P.box((cab_w - 0.03, dh - 0.01, 0.02), (8, 3, 1)),
                    f"drawer#drawer_{k}",
                    f"drawer_{k}",
                    color=wood * 0.92,
                    matrix=pose((cx, y, zf)),
                )
                _handle(b, f"drawer_handle_{k}", (cx, y + dh * 0.2, zf + 0.01), handle_kind, 0.1)
        else:
            b.add(
                P.box((cab_w - 0.03, under - 0.06, 0.02), (6, 12, 1)),
                "door#door_0",
                "door_0",
                color=wood * 0.92,
                matrix=pose((cx, under / 2, zf)),
            )
            hx = cx - sign * (cab_w / 2 - 0.05)
            _handle(b, "door_handle_0", (hx, under * 0.6, zf + 0.01), handle_kind, 0.12, vertical=True)
        b.style["drawers"] = drawers
        ox = -sign * (w / 2 - 0.04)
        if rng.random() < 0.5:
            b.style["other_side"] = "panel"
            b.add(
                P.box((0.04, under, d - 0.04), (1, 12, 8)),
                "leg#leg_panel",
                "leg_panel",
                color=wood,
                matrix=pose((ox, under / 2, -0.01)),
            )
        else:
            b.style["other_side"] = "legs"
            for sz, nm in ((1.0, "front"), (-1.0, "back")):
                post(
                    b,
                    f"leg#leg_{nm}",
                    f"leg_{nm}",
                    (ox, under, sz * (d / 2 - 0.05)),
                    (ox, 0.0, sz * (d / 2 - 0.05)),
                    0.05,
                    leg_shape,
                    wood,
                )


register(
    CategoryInfo(
        name="Table",
        kind="partnete",
        super_category="furniture",
        part_names=("door", "drawer", "leg", "tabletop", "wheel", "handle"),
        optional_parts=("door", "drawer", "wheel", "handle"),
        unlabelled_regions=("apron",),
        styles={
            "support": ("four_legs", "pedestal", "trestle", "desk"),
            "top": ("rect", "round"),
            "leg_shape": ("round", "square"),
            "drawers": (0, 1, 2, 3, 4),
            "wheels": (False, True),
            "cabinet": ("drawers", "door"),
            "pedestal_foot": ("disc", "cross"),
        },
        description="four legs (round/square, optional apron with 0-3 drawers, optional casters), pedestal "
        "(disc or cross foot), trestle, or desk with a drawer/door cabinet and a panel or legs; rectangular "
        "or round top; dining or coffee-table height; handles bar/knob/pull",
        generator=table,
    )
)


# ---------------------------------------------------------------------------------- storage furniture
def storage_furniture(b: ShapeBuilder, rng: np.random.Generator) -> None:
    layout = str(rng.choice(["drawers", "doors", "mixed", "wardrobe", "open_shelves"], p=[0.25, 0.25, 0.2, 0.15, 0.15]))
    if layout == "wardrobe":
        w, h, d = rng.uniform(0.8, 1.4), rng.uniform(1.7, 2.1), rng.uniform(0.5, 0.62)
    elif layout == "drawers":
        w, h, d = rng.uniform(0.45, 1.3), rng.uniform(0.6, 1.3), rng.uniform(0.4, 0.55)
    else:
        w, h, d = rng.uniform(0.6, 1.6), rng.uniform(0.6, 1.5), rng.uniform(0.35, 0.55)
    feet = str(rng.choice(["plinth", "legs", "none"]))
    handle_kind = str(rng.choice(["bar", "knob", "pull"]))
    wood = np.asarray(WOODS[rng.integers(len(WOODS))])
    front = wood * 0.9
    b.style.update(layout=layout, feet=feet, handles=handle_kind, width=w, height=h)
    t = 0.02
    y0 = 0.08 if feet != "none" else 0.0
    body_h = h - y0
    cy = y0 + body_h / 2
    # carcass panels (unlabelled); the top overhangs and the bottom/back sit between the sides so no
    # two panels share a coplanar face
    b.add(P.box((w + 0.01, t, d + 0.005), (12, 1, 6)), "body", "top", color=wood, matrix=pose((0.0, h - t / 2, 0.0)))
    b.add(
        P.box((w - 2 * t, t, d - 0.004), (12, 1, 6)), "body", "bottom", color=wood, matrix=pose((0.0, y0 + t / 2, 0.0))
    )
    for sx, side in ((1.0, "left"), (-1.0, "right")):
        b.add(
            P.box((t, body_h - t, d), (1, 14, 6)),
            "body",
            f"side_{side}",
            color=wood,
            matrix=pose((sx * (w / 2 - t / 2), y0 + (body_h - t) / 2, 0.0)),
        )
    b.add(
        P.box((w - 2 * t, body_h - 2 * t, t), (12, 14, 1)),
        "body",
        "back",
        color=wood,
        matrix=pose((0.0, cy, -d / 2 + t / 2 + 0.002)),
    )
    if feet == "plinth":
        b.add(
            P.box((w - 0.04, y0, d - 0.05), (4, 1, 3)),
            "body",
            "plinth",
            color=wood * 0.8,
            matrix=pose((0.0, y0 / 2, -0.01)),
        )
    elif feet == "legs":
        for k, (sx, sz) in enumerate(((1, 1), (-1, 1), (1, -1), (-1, -1))):
            post(
                b,
                "body",
                f"foot_{k}",
                (sx * (w / 2 - 0.04), y0, sz * (d / 2 - 0.04)),
                (sx * (w / 2 - 0.04), 0.0, sz * (d / 2 - 0.04)),
                0.03,
                "round",
                MATERIALS["dark_metal"],
            )
    # fill the front: a list of compartments (x0, x1, y0, y1, kind)
    inner_x0, inner_x1 = -w / 2 + t, w / 2 - t
    inner_y0, inner_y1 = y0 + t, h - t
    comps = []
    if layout == "drawers":
        cols = 1 if w < 0.9 else int(rng.choice([1, 2]))
        rows = int(rng.integers(3, 7)) if body_h > 0.8 else int(rng.integers(2, 4))
        for c in range(cols):
            for r in range(rows):
                xa = inner_x0 + (inner_x1 - inner_x0) * c / cols
                xb = inner_x0 + (inner_x1 - inner_x0) * (c + 1) / cols
                ya = inner_y1 - (inner_y1 - inner_y0) * (r + 1) / rows
                yb = inner_y1 - (inner_y1 - inner_y0) * r / rows
                comps.append((xa, xb, ya, yb, "drawer"))
    elif layout in ("doors", "wardrobe"):
        n = 1 if w < 0.6 else 2
        split = inner_y0 + (0.2 * body_h if layout == "wardrobe" and rng.random() < 0.6 else 0.0)
        for k in range(n):
            xa = inner_x0 + (inner_x1 - inner_x0) * k / n
            xb = inner_x0 + (inner_x1 - inner_x0) * (k + 1) / n
            comps.append((xa, xb, split, inner_y1, "door"))
        if split > inner_y0:
            comps.append((inner_x0, inner_x1, inner_y0, split, "drawer"))
    elif layout == "mixed":
        top_frac = rng.uniform(0.2, 0.4)
        ys = inner_y1 - (inner_y1 - inner_y0) * top_frac
        n_dr = 1 if w < 0.9 else 2
        for k in range(n_dr):
            xa = inner_x0 + (inner_x1 - inner_x0) * k / n_dr
            xb = inner_x0 + (inner_x1 - inner_x0) * (k + 1) / n_dr
            comps.append((xa, xb, ys, inner_y1, "drawer"))
        n = 1 if w < 0.7 else 2
        for k in range(n):
            xa = inner_x0 + (inner_x1 - inner_x0) * k / n
            xb = inner_x0 + (inner_x1 - inner_x0) * (k + 1) / n
            comps.append((xa, xb, inner_y0, ys, "door"))
    else:  # open shelves above a closed bottom compartment
        shelves = int(rng.integers(2, 5))
        for k in range(1, shelves):
            y = inner_y0 + (inner_y1 - inner_y0) * k / shelves
            b.add(
                P.box((w - 2 * t, t, d - t), (12, 1, 6)), "body", f"shelf_{k}", color=wood, matrix=pose((0.0, y, t / 2))
            )
        # the bottom compartment is closed by two doors or two drawers (there is always a part)
        yb = inner_y0 + (inner_y1 - inner_y0) / shelves
        bottom = "door" if rng.random() < 0.6 else "drawer"
        comps.append((inner_x0, 0.0, inner_y0, yb, bottom))
        comps.append((0.0, inner_x1, inner_y0, yb, bottom))
    zf = d / 2 + 0.01
    n_door = n_drawer = 0
    for xa, xb, ya, yb, kind in comps:
        cx, cyy = (xa + xb) / 2, (ya + yb) / 2
        fw, fh = xb - xa - 0.006, yb - ya - 0.006
        if kind == "drawer":
            slot = f"drawer_{n_drawer}"
            b.add(
                P.box((fw, fh, 0.02), (8, 4, 1), radius=0.003, round_segments=1),
                f"drawer#{slot}",
                slot,
                color=front,
                matrix=pose((cx, cyy, zf)),
            )
            _handle(b, f"drawer_handle_{n_drawer}", (cx, cyy + fh * 0.15, zf + 0.01), handle_kind, min(0.14, fw * 0.35))
            n_drawer += 1
        else:
            slot = f"door_{n_door}"
            b.add(
                P.box((fw, fh, 0.02), (6, 12, 1), radius=0.003, round_segments=1),
                f"door#{slot}",
                slot,
                color=front,
                matrix=pose((cx, cyy, zf)),
            )
            # the handle sits at the opening edge: towards the middle for paired doors
            hx = xa + 0.05 if cx > 0.01 else xb - 0.05
            _handle(
                b,
                f"door_handle_{n_door}",
                (hx, cyy + (fh * 0.2 if cyy < h / 2 else -fh * 0.3), zf + 0.01),
                handle_kind,
                min(0.18, fh * 0.3),
                vertical=True,
            )
            n_door += 1
    b.style.update(doors=n_door, drawers=n_drawer)


register(
    CategoryInfo(
        name="StorageFurniture",
        kind="partnete",
        super_category="furniture",
        part_names=("door", "drawer", "handle"),
        optional_parts=("door", "drawer"),
        unlabelled_regions=("body",),
        styles={
            "layout": ("drawers", "doors", "mixed", "wardrobe", "open_shelves"),
            "feet": ("plinth", "legs", "none"),
            "handles": ("bar", "knob", "pull"),
        },
        description="chest of drawers (1-2 columns, 2-6 rows), 1-2 door cabinet, drawers over doors, wardrobe "
        "(optional bottom drawer), open shelves (bottom doors or drawers); plinth, legs or none; bar, knob or "
        "pull handles (one per door/drawer); the carcass is unlabelled",
        generator=storage_furniture,
    )
)
