"""Exact oriented 3D box IoU against halfspace intersection, Monte-Carlo sampling and voxel counts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.spatial import ConvexHull, HalfspaceIntersection
from scipy.spatial.transform import Rotation

from helpers import assert_close
from partlift.geometry.boxes import Box3D
from partlift.metrics.box3d import (
    aabb_iou,
    box_bounds,
    box_intersection_volume,
    box_iou_3d,
    is_axis_aligned,
    mean_part_box_iou,
    part_box_ious,
)


def halfspaces(box):
    """Rows [n, -d] with n.x - d <= 0 for the 6 faces."""
    rows = []
    for k in range(3):
        axis = box.rotation[:, k]
        c = axis @ box.center
        h = box.size[k] / 2
        rows += [np.r_[axis, -(c + h)], np.r_[-axis, c - h]]
    return np.array(rows)


def ref_intersection_volume(a, b):
    """Qhull halfspace intersection from a Chebyshev centre found by linear programming."""
    hs = np.vstack([halfspaces(a), halfspaces(b)])
    norms = np.linalg.norm(hs[:, :3], axis=1)
    # maximise r s.t. n.x + r |n| <= d
    res = linprog(c=[0, 0, 0, -1], A_ub=np.c_[hs[:, :3], norms], b_ub=-hs[:, 3],
                  bounds=[(None, None)] * 3 + [(0, None)], method="highs")
    if not res.success or res.x[3] < 1e-9:
        return 0.0
    inter = HalfspaceIntersection(hs, res.x[:3])
    return ConvexHull(inter.intersections).volume


def random_box(rng, oriented=True, thin=False):
    rot = Rotation.random(random_state=int(rng.integers(1 << 31))).as_matrix() if oriented else np.eye(3)
    size = rng.uniform(0.1, 1.2, 3)
    if thin:  # nearly flat part, as produced by planar geometry after the min_size clamp
        size[rng.integers(3)] = 1e-3
    return Box3D(rng.uniform(-0.4, 0.4, 3), size, rot)


def ref_iou(a, b):
    inter = ref_intersection_volume(a, b)
    return inter / (a.volume() + b.volume() - inter)


def test_exact_iou_matches_halfspace_reference_on_random_boxes():
    rng = np.random.default_rng(0)
    nonzero = 0
    for _ in range(300):
        a, b = random_box(rng, thin=rng.random() < 0.2), random_box(rng, thin=rng.random() < 0.2)
        expected = ref_iou(a, b)
        nonzero += expected > 0.0
        assert_close(box_iou_3d(a, b, min_size=0.0), expected, atol=1e-6)
        assert_close(box_iou_3d(b, a, min_size=0.0), expected, atol=1e-6)
    assert nonzero > 200  # the generator mostly produces overlapping boxes


def test_shared_rotation_and_axis_aligned_fast_path():
    rng = np.random.default_rng(1)
    for _ in range(100):
        a, b = random_box(rng, oriented=False), random_box(rng, oriented=False)
        (la, ha), (lb, hb) = box_bounds(a), box_bounds(b)
        fast = box_iou_3d(a, b, min_size=0.0)
        assert_close(fast, aabb_iou(la, ha, lb, hb), atol=1e-12)
        assert_close(fast, ref_iou(a, b), atol=1e-6)
        # rotating both boxes together leaves the IoU unchanged (oriented path)
        r = Rotation.random(random_state=int(rng.integers(1 << 31))).as_matrix()
        ra, rb = a.transformed(r, np.zeros(3)), b.transformed(r, np.zeros(3))
        assert not is_axis_aligned(ra)
        assert_close(box_iou_3d(ra, rb, min_size=0.0), fast, atol=1e-6)
    # a signed permutation is still axis-aligned
    perm = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
    assert is_axis_aligned(Box3D(np.zeros(3), np.ones(3), perm))


def test_monte_carlo_agreement():
    rng = np.random.default_rng(2)
    for _ in range(15):
        a, b = random_box(rng), random_box(rng)
        local = rng.uniform(-0.5, 0.5, (100_000, 3)) * a.size
        samples = a.center + local @ a.rotation.T
        inter = a.volume() * b.contains(samples, eps=0.0).mean()
        mc = inter / (a.volume() + b.volume() - inter)
        assert abs(box_iou_3d(a, b, min_size=0.0) - mc) < 1e-2


def test_voxel_count_agreement():
    rng = np.random.default_rng(3)
    for _ in range(8):
        a, b = random_box(rng), random_box(rng)
        lo = np.minimum(box_bounds(a)[0], box_bounds(b)[0])
        hi = np.maximum(box_bounds(a)[1], box_bounds(b)[1])
        axes = [np.linspace(lo[k], hi[k], 64, endpoint=False) + (hi[k] - lo[k]) / 128 for k in range(3)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
        ina, inb = a.contains(grid, eps=0.0), b.contains(grid, eps=0.0)
        vox = (ina & inb).sum() / (ina | inb).sum()
        assert abs(box_iou_3d(a, b, min_size=0.0) - vox) < 2e-3  # observed <= 3e-4 at this resolution


def test_special_cases():
    unit = Box3D(np.zeros(3), np.ones(3), np.eye(3))
    rot = Rotation.from_euler("xyz", [0.3, -0.5, 1.1]).as_matrix()
    tilted = Box3D(np.array([0.1, 0.0, 0.2]), np.array([0.5, 1.0, 0.7]), rot)
    assert box_iou_3d(tilted, tilted) == pytest.approx(1.0, abs=1e-9)
    # contained: IoU = volume ratio
    inner = Box3D(np.zeros(3), np.full(3, 0.5), rot)
    assert box_iou_3d(inner, unit) == pytest.approx(0.125, abs=1e-9)
    # disjoint and face-touching boxes
    assert box_iou_3d(unit, Box3D(np.array([3.0, 0, 0]), np.ones(3), rot)) == 0.0
    assert box_iou_3d(unit, Box3D(np.array([1.0, 0, 0]), np.ones(3), np.eye(3))) == 0.0
    # 45 degree rotation about z of a unit cube inside itself: octagon area 2(sqrt2 - 1) * height 1
    r45 = Rotation.from_euler("z", 45, degrees=True).as_matrix()
    assert box_intersection_volume(unit, Box3D(np.zeros(3), np.ones(3), r45)) == pytest.approx(
        2 * (np.sqrt(2) - 1), abs=1e-9)


def test_flat_boxes():
    rot = Rotation.from_euler("xyz", [0.2, 0.4, -0.3]).as_matrix()
    flat = Box3D(np.zeros(3), np.array([1.0, 0.5, 0.0]), rot)
    # identical flat boxes: 1 with the default thickness, 0 when volumes are taken literally
    assert box_iou_3d(flat, flat) == pytest.approx(1.0, abs=1e-9)
    assert box_iou_3d(flat, flat, min_size=0.0) == 0.0
    # coplanar flat boxes shifted by half their length: area IoU 1/3
    shifted = Box3D(rot @ np.array([0.5, 0.0, 0.0]), flat.size, rot)
    assert box_iou_3d(flat, shifted) == pytest.approx(1 / 3, abs=1e-6)
    # a flat box against a solid one
    assert box_iou_3d(flat, Box3D(np.zeros(3), np.ones(3), rot), min_size=0.0) == 0.0


def test_per_part_mean():
    unit = Box3D(np.zeros(3), np.ones(3), np.eye(3))
    half = Box3D(np.array([0.25, 0, 0]), np.array([0.5, 1, 1]), np.eye(3))
    ious = part_box_ious([unit, None, half, unit], [unit, unit, unit, None])
    assert_close(ious[:3], [1.0, 0.0, 0.5], atol=1e-12)
    assert np.isnan(ious[3])
    assert mean_part_box_iou([unit, None, half, unit], [unit, unit, unit, None]) == pytest.approx(0.5)
