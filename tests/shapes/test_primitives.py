"""Primitives: closed, consistently outward-wound, unique parameters, volumes against formulas."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import assert_close
from partlift.shapes import primitives as P
from partlift.shapes.builder import align_y


def directed_edges_ok(faces: np.ndarray) -> bool:
    """Closed 2-manifold with consistent winding: each directed edge once, and its reverse present."""
    edges = [(int(f[i]), int(f[(i + 1) % 3])) for f in faces for i in range(3)]
    s = set(edges)
    return len(s) == len(edges) and all((b, a) in s for a, b in edges)


def reference_volume(v: np.ndarray, f: np.ndarray) -> float:
    """Divergence theorem, one triangle at a time (slow, obviously right)."""
    total = 0.0
    for a, b, c in f:
        total += float(np.dot(v[a], np.cross(v[b], v[c]))) / 6.0
    return total


CASES = {
    "box": lambda: P.box((1.0, 2.0, 3.0), (2, 3, 4)),
    "rounded_box": lambda: P.box((1.0, 2.0, 3.0), (2, 3, 4), radius=0.2),
    "cylinder": lambda: P.cylinder(0.5, 2.0, 16, 3),
    "frustum": lambda: P.frustum(1.0, 0.4, 2.0, 20, 2),
    "cone": lambda: P.cone(1.0, 2.0, 16),
    "disc": lambda: P.disc(1.0, 0.2, 24, 4, bevel=0.05),
    "sphere": lambda: P.sphere(1.0, 24, 12),
    "ellipsoid": lambda: P.ellipsoid((1.0, 0.5, 2.0), 16, 8),
    "capsule": lambda: P.capsule(0.5, 2.0),
    "disc_wheel": lambda: P.disc_wheel(1.0, 0.4),
    "sweep": lambda: P.sweep(P.curve(np.array([[0, 0, 0], [1, 1, 0], [2, 0, 1.0]]), 20), 0.1),
    "tapered_sweep": lambda: P.sweep(np.linspace([0, 0, 0], [0, 0, 1.0], 10), np.linspace(0.2, 0.0, 10)),
    "tube": lambda: P.tube([0, 0, 0], [0.3, 0.2, 1.0], 0.1),
    "torus": lambda: P.torus(1.0, 0.2),
    "torus_arc": lambda: P.torus(1.0, 0.2, arc=np.pi),
    "loft": lambda: P.loft(
        np.array([[0, 0, 0], [0, 0.1, 1], [0, 0, 2.0]]), np.array([[0, 0], [1, 0.5], [0.5, 0.2]]), 4.0
    ),
    "lathe_hollow": lambda: P.lathe(np.array([[0, 0], [1, 0], [1, 1], [0.9, 1], [0.9, 0.1], [0, 0.1]]), 24),
    "extrude_concave": lambda: P.extrude(np.array([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1.0]]), 0.5),
    "extrude_bevel": lambda: P.extrude(np.array([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1.0]]), 0.5, bevel=0.05),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_primitive_is_closed_outward_and_well_parametrised(name):
    v, f, param = CASES[name]()
    assert v.ndim == 2 and v.shape[1] == 3 and np.isfinite(v).all()
    assert f.dtype == np.int64 and f.min() >= 0 and f.max() < len(v)
    assert len(np.unique(f)) == len(v), "unused vertices"
    assert directed_edges_ok(f), "not a closed, consistently wound surface"
    vol = reference_volume(v, f)
    assert vol > 0, f"inward winding (volume {vol})"
    assert_close(P.signed_volume(v, f), vol, atol=1e-9, rtol=1e-9)
    assert param.shape == v.shape and param.min() >= 0 and param.max() <= 1
    assert len(np.unique(np.round(param, 9), axis=0)) == len(v), "parameters not unique"
    assert len(np.unique(np.round(v, 9), axis=0)) == len(v), "duplicated vertices"


def polygon_prism_volume(n: int, r: float, h: float) -> float:
    return 0.5 * n * r * r * np.sin(2 * np.pi / n) * h


def test_volumes_match_formulas():
    assert_close(P.signed_volume(*P.box((1.0, 2.0, 3.0), (3, 2, 5))[:2]), 6.0, atol=1e-12)
    assert_close(P.signed_volume(*P.cylinder(0.5, 2.0, 16, 3)[:2]), polygon_prism_volume(16, 0.5, 2.0), atol=1e-12)
    # a cone over a regular n-gon: base area * h / 3
    assert_close(P.signed_volume(*P.cone(1.0, 2.0, 16)[:2]), polygon_prism_volume(16, 1.0, 2.0) / 3, atol=1e-12)
    # smooth shapes converge to the analytic volume
    assert_close(P.signed_volume(*P.sphere(1.0, 96, 48)[:2]), 4 / 3 * np.pi, rtol=5e-3)
    # torus with a 32-gon cross-section: Pappus with the polygon's area
    polygon_area = 0.5 * 32 * 0.2**2 * np.sin(2 * np.pi / 32)
    assert_close(P.signed_volume(*P.torus(1.0, 0.2, 128, 32)[:2]), 2 * np.pi * 1.0 * polygon_area, rtol=2e-3)
    # rounded box = inner box (Minkowski) + ball: Steiner's formula
    vr = P.signed_volume(*P.box((1.0, 2.0, 3.0), 4, radius=0.2, round_segments=8)[:2])
    r = 0.2
    a, b, c = 1 - 2 * r, 2 - 2 * r, 3 - 2 * r
    exact = a * b * c + 2 * r * (a * b + b * c + a * c) + np.pi * r**2 * (a + b + c) + 4 / 3 * np.pi * r**3
    assert_close(vr, exact, rtol=2e-3)
    assert_close(
        P.signed_volume(*P.extrude(np.array([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1.0]]), 0.5)[:2]),
        0.5 * (2.0 - 0.5 * 2 * 0.6),
        atol=1e-12,
    )


def test_box_size_and_rounding_keep_the_extent():
    v = P.box((1.0, 2.0, 3.0), (2, 2, 2), radius=0.3).vertices
    assert_close(v.max(axis=0) - v.min(axis=0), [1.0, 2.0, 3.0], atol=1e-12)


def test_same_resolution_gives_the_same_parametrisation():
    a = P.lathe(np.array([[0, 0], [1, 0], [1.2, 1.0], [0, 1.5]]), 20)
    b = P.lathe(np.array([[0, 0], [0.5, 0], [0.7, 3.0], [0, 3.5]]), 20)
    assert_close(a.param[:, [1, 2]], b.param[:, [1, 2]], atol=1e-12)
    assert a.faces.shape == b.faces.shape
    c = P.box((1.0, 1.0, 1.0), (2, 3, 4))
    d = P.box((5.0, 0.1, 2.0), (2, 3, 4), radius=0.01)
    e = P.box((5.0, 0.1, 2.0), (2, 3, 4))
    assert_close(c.param, e.param, atol=1e-12)
    assert len(d.param) > len(c.param)  # rounding adds edge rows


def shoelace(poly):
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


@pytest.mark.parametrize(
    "poly",
    [
        np.array([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1.0]]),
        np.array([[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3.0]]),  # U shape
        np.array(
            [
                [np.cos(a) * (1 + 0.5 * (k % 2)), np.sin(a) * (1 + 0.5 * (k % 2))]
                for k, a in enumerate(np.linspace(0, 2 * np.pi, 16, endpoint=False))
            ]
        ),  # star
    ],
)
def test_ear_clipping_covers_the_polygon(poly):
    for p in (poly, poly[::-1]):
        tri = P.triangulate_polygon(p)
        assert tri.shape == (len(p) - 2, 3)
        t = p[tri]
        signed = 0.5 * (
            (t[:, 1, 0] - t[:, 0, 0]) * (t[:, 2, 1] - t[:, 0, 1])
            - (t[:, 1, 1] - t[:, 0, 1]) * (t[:, 2, 0] - t[:, 0, 0])
        )
        assert (signed > 0).all(), "triangles must be counter-clockwise and non-degenerate"
        assert_close(signed.sum(), shoelace(p), atol=1e-12)


@pytest.mark.parametrize("d", [[0, 1, 0], [0, -1, 0], [1, 0, 0], [0.3, -0.2, 0.9], [0, 0, -1]])
def test_align_y_is_a_rotation_onto_the_direction(d):
    r = align_y(d)
    assert_close(r @ r.T, np.eye(3), atol=1e-12)
    assert_close(np.linalg.det(r), 1.0, atol=1e-12)
    assert_close(r @ [0.0, 1.0, 0.0], np.asarray(d) / np.linalg.norm(d), atol=1e-12)


def test_sweep_follows_the_path_at_the_radius():
    path = P.curve(np.array([[0, 0, 0], [1, 1, 0], [2, 0, 1.0]]), 30)
    v = P.sweep(path, 0.1, 12).vertices
    rings = v[: 30 * 12].reshape(30, 12, 3)
    assert_close(np.linalg.norm(rings - path[:, None], axis=2), np.full((30, 12), 0.1), atol=1e-9)
