"""Sail boats (Part321 super-category "boat"): ``sailboat`` with parts ``sail`` and ``body``.

Covers the table's sail/body boats (catamaran, trimaran, schooner-like two-masters, sloops).
Labelling choice: masts, booms and the rig belong to ``sail`` (everything above the deck that
carries the sails); hulls, keel, rudder, deckhouse, beams and nets are ``body``.
Units are metres; the bow points to +Z.
"""

from __future__ import annotations

import numpy as np

from partlift.shapes import primitives as P
from partlift.shapes.builder import MATERIALS, ShapeBuilder, pose
from partlift.shapes.registry import CategoryInfo, register

HULL_COLORS = [(0.92, 0.92, 0.90), (0.10, 0.18, 0.40), (0.60, 0.12, 0.10), (0.15, 0.15, 0.16), (0.45, 0.30, 0.18)]


def hull(length, beam, depth, sheer, deadrise, transom=0.65, rings=40, segments=36):
    """Hull loft along +Z, deck at y ~ 0 (rising by ``sheer`` to the bow), keel line at y ~ -depth.

    ``deadrise`` in [0, 1]: 0 = round U sections, 1 = sharp V sections.
    """
    u = np.linspace(0.0, 1.0, rings)
    width = (
        beam
        / 2
        * np.where(
            u < 0.55,
            transom + (1 - transom) * np.sin(np.pi / 2 * u / 0.55),
            np.clip(np.cos(np.pi / 2 * (u - 0.55) / 0.45), 0, 1) ** 0.8,
        )
    )
    width[-1] = 0.0
    d = depth * np.where(u < 0.3, 0.55 + 0.45 * u / 0.3, 1.0 - 0.4 * np.clip((u - 0.7) / 0.3, 0, 1))
    deck = sheer * u**2
    z = (u - 0.5) * length

    def shape(c, s, i):
        below = s < 0
        x = c.copy()
        v_sec = -(1.0 - np.abs(c))
        u_sec = -np.sqrt(np.clip(1 - c**2, 0, 1))
        y = np.where(below, (1 - deadrise) * u_sec + deadrise * v_sec, 0.06 * s)
        return x, y

    # the shape function works in unit coordinates; ring centres sit on the deck line
    centers = np.stack([np.zeros(rings), deck, z], axis=1)
    radii = np.stack([width, d], axis=1)
    radii[-1] = [0.0, 0.0]
    return P.loft(centers, radii, segments=segments, shape=shape)


def sail_polygon(foot, luff, roach=0.06, head=0.03, n=24):
    """Triangle-ish sail outline in the (z, y) plane: tack at (0, 0), clew at (-foot, 0), head on top."""
    t = np.linspace(0.0, 1.0, n)
    leech = np.stack([-foot * (1 - t) - head * foot * t, luff * t], axis=1)
    leech[:, 0] -= roach * foot * np.sin(np.pi * t)  # the leech bulges aft
    return np.concatenate([[[0.0, 0.0]], leech, [[0.0, luff]]])


def _sail(b, slot, tack, foot, luff, color, roach=0.06, sign=1.0):
    poly = sail_polygon(foot, luff, roach)
    if sign < 0:
        poly[:, 0] *= -1
    prim = P.extrude(poly, 0.03, depth_segments=1)
    # polygon plane (x, y) -> world (z, y); extrusion axis -> world x
    m = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).T
    mat = np.eye(4)
    mat[:3, :3] = m
    mat[:3, 3] = tack
    b.add(prim, "sail", slot, color=color, matrix=mat)


def sailboat(b: ShapeBuilder, rng: np.random.Generator) -> None:
    hulls = str(rng.choice(["monohull", "catamaran", "trimaran"], p=[0.5, 0.3, 0.2]))
    masts = int(rng.choice([1, 2], p=[0.65, 0.35])) if hulls == "monohull" else 1
    jib = bool(rng.random() < 0.8)
    length = rng.uniform(8, 16)
    color = np.asarray(HULL_COLORS[rng.integers(len(HULL_COLORS))])
    sail_col = np.asarray((0.96, 0.95, 0.90)) if rng.random() < 0.8 else np.asarray((0.85, 0.55, 0.35))
    b.style.update(hulls=hulls, masts=masts, jib=jib, length=length)
    if hulls == "monohull":
        beam = length * rng.uniform(0.28, 0.36)
        b.add(hull(length, beam, length * 0.10, length * 0.03, rng.uniform(0.1, 0.7)), "body", "hull", color=color)
        keel = np.array([[0.0, 0.0], [-0.16, 0.0], [-0.12, -0.17], [0.0, -0.17]]) * length
        keel[:, 0] += 0.06 * length
        kp = P.extrude(keel, 0.06 * length * 0.3)
        m = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).T
        mat = np.eye(4)
        mat[:3, :3] = m
        mat[:3, 3] = (0.0, -0.07 * length, 0.0)
        b.add(kp, "body", "keel", color=MATERIALS["dark_metal"], matrix=mat)
        if rng.random() < 0.7:
            b.style["cabin"] = True
            b.add(
                P.box((beam * 0.55, length * 0.05, length * 0.3), (2, 1, 3), radius=0.1),
                "body",
                "cabin",
                color=MATERIALS["white"],
                matrix=pose((0.0, length * 0.03, -0.02 * length)),
            )
        deck_y = 0.0
        mast_x = [0.0]
    else:
        span = length * rng.uniform(0.45, 0.6)
        side_hull = (0.09 if hulls == "catamaran" else 0.07) * length
        offsets = [span / 2, -span / 2] if hulls == "catamaran" else [0.0, span / 2, -span / 2]
        for k, x in enumerate(offsets):
            main = hulls == "trimaran" and k == 0
            ln = length * (1.0 if (main or hulls == "catamaran") else 0.7)
            bm = (0.16 * length) if main else side_hull * 2
            b.add(
                hull(
                    ln, bm, length * (0.09 if main or hulls == "catamaran" else 0.06), length * 0.02, 0.6, transom=0.5
                ),
                "body",
                f"hull_{k}",
                color=color,
                matrix=pose((x, 0.0, 0.0)),
            )
        b.add(
            P.box((span, 0.04 * length, 0.10 * length), (3, 1, 1)),
            "body",
            "beam_front",
            color=color,
            matrix=pose((0.0, 0.02 * length, 0.12 * length)),
        )
        b.add(
            P.box((span, 0.04 * length, 0.10 * length), (3, 1, 1)),
            "body",
            "beam_back",
            color=color,
            matrix=pose((0.0, 0.02 * length, -0.22 * length)),
        )
        if hulls == "catamaran":
            b.add(
                P.box((span * 0.6, 0.10 * length, 0.3 * length), (2, 1, 2), radius=0.08),
                "body",
                "bridge_deck",
                color=MATERIALS["white"],
                matrix=pose((0.0, 0.06 * length, -0.08 * length)),
            )
        deck_y = 0.02 * length
        mast_x = [0.0]
    # rig
    mast_z = [0.08 * length] if masts == 1 else [0.18 * length, -0.12 * length]
    mast_h = [length * rng.uniform(1.1, 1.4)] if masts == 1 else [length * rng.uniform(1.0, 1.2), 0]
    if masts == 2:
        mast_h[1] = mast_h[0] * rng.uniform(0.7, 0.85)
    for k, (mz, mh) in enumerate(zip(mast_z, mast_h, strict=True)):
        base = np.array([mast_x[0], deck_y, mz])
        b.add(P.tube(base, base + [0, mh, 0], 0.012 * length, 8), "sail", f"mast_{k}", color=MATERIALS["metal"])
        foot = length * rng.uniform(0.32, 0.42) * (1.0 if k == 0 else 0.8)
        boom_y = deck_y + 0.1 * length
        b.add(
            P.tube(base + [0, boom_y - deck_y, 0], base + [0, boom_y - deck_y, -foot], 0.008 * length, 6),
            "sail",
            f"boom_{k}",
            color=MATERIALS["metal"],
        )
        _sail(
            b,
            f"mainsail_{k}",
            base + [0, boom_y - deck_y + 0.01 * length, -0.01 * length],
            foot,
            mh - (boom_y - deck_y) - 0.03 * length,
            sail_col,
            roach=rng.uniform(0.0, 0.12),
        )
    if jib:
        bow_z = 0.48 * length
        head = np.array([0.0, deck_y + mast_h[0] * 0.85, mast_z[0]])
        tack = np.array([0.0, deck_y + 0.03 * length, bow_z])
        reach = (bow_z - mast_z[0]) * rng.uniform(0.7, 1.1)
        # (z, y) relative to the tack: tack, clew (aft, just above the deck), head (at the mast)
        poly = np.array([[0.0, 0.0], [-reach, 0.04 * length], [head[2] - bow_z, head[1] - tack[1]]])
        prim = P.extrude(poly, 0.02)
        m = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).T
        mat = np.eye(4)
        mat[:3, :3] = m
        mat[:3, 3] = tack
        b.add(prim, "sail", "jib", color=sail_col, matrix=mat)


register(
    CategoryInfo(
        name="sailboat",
        kind="part321",
        super_category="boat",
        part_names=("sail", "body"),
        styles={
            "hulls": ("monohull", "catamaran", "trimaran"),
            "masts": (1, 2),
            "jib": (False, True),
            "cabin": (False, True),
        },
        description="monohull (U to V sections, keel, optional deckhouse), catamaran or trimaran; one or two "
        "masts (sloop / ketch), with or without a jib; length, beam, sail proportions and roach",
        generator=sailboat,
    )
)
