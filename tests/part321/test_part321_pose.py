"""Pose and per-part parameterisation: values against slow references, gradients by gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from helpers import assert_close
from partlift.geometry.transforms import world_to_camera_rotation
from partlift.part321.inference import project_to_simplex
from partlift.part321.pose import (
    apply_part_transforms,
    axis_angle_to_matrix,
    group_means,
    part_axes,
    world_to_camera_rotation_t,
)


def test_torch_rotation_matches_numpy_convention():
    rng = np.random.default_rng(0)
    for a, e, th in rng.uniform(-3, 3, size=(50, 3)):
        got = world_to_camera_rotation_t(torch.tensor(a), torch.tensor(e), torch.tensor(th))
        assert_close(got, world_to_camera_rotation(a, e, th), atol=1e-12)


def test_torch_rotation_batched():
    angles = torch.as_tensor(np.random.default_rng(1).uniform(-3, 3, size=(7, 3)))
    batch = world_to_camera_rotation_t(*angles.unbind(-1))
    assert batch.shape == (7, 3, 3)
    for i in range(7):
        assert_close(batch[i], world_to_camera_rotation(*angles[i].tolist()), atol=1e-12)


def test_axis_angle_matches_scipy_including_tiny_angles():
    rng = np.random.default_rng(2)
    vecs = np.concatenate([rng.normal(size=(20, 3)), rng.normal(size=(5, 3)) * 1e-6, np.zeros((1, 3))])
    got = axis_angle_to_matrix(torch.as_tensor(vecs))
    assert_close(got, Rotation.from_rotvec(vecs).as_matrix(), atol=1e-12)


def test_axis_angle_gradcheck_away_from_and_at_zero():
    v = torch.tensor([[0.3, -0.2, 0.5], [0.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(axis_angle_to_matrix, (v,), eps=1e-6, atol=1e-7)


def _slow_part_transform(v, groups, axes, rotvec, trans, log_scale):
    v = np.asarray(v, dtype=np.float64)
    out = v.copy()
    num = len(rotvec)
    for p in range(num):
        idx = np.flatnonzero(groups == p)
        if len(idx) == 0:
            continue
        c = v[idx].mean(axis=0)
        rot = Rotation.from_rotvec(rotvec[p]).as_matrix()
        for i in idx:
            local = axes[p].T @ (v[i] - c)  # coordinates along the part axes
            local = local * np.exp(log_scale[p])
            out[i] = c + trans[p] + rot @ (axes[p] @ local)
    return out


def test_part_transforms_match_loop_reference():
    rng = np.random.default_rng(3)
    v = rng.normal(size=(40, 3))
    groups = rng.integers(0, 4, size=40)  # group 3 = no part (3 parts)
    axes = part_axes(v, groups, 3)
    rotvec, trans, log_scale = rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(3, 3)), rng.normal(size=(3, 3)) * 0.3
    got = apply_part_transforms(
        *(torch.as_tensor(x) for x in (v, groups, axes, rotvec, trans, log_scale))
    )
    assert_close(got, _slow_part_transform(v, groups, axes, rotvec, trans, log_scale), atol=1e-10)
    assert_close(got[groups == 3], v[groups == 3], atol=0, msg="vertices of no part must not move")


def test_part_axes_are_proper_rotations():
    rng = np.random.default_rng(4)
    v = rng.normal(size=(2000, 3)) * [3.0, 1.0, 0.2]
    axes = part_axes(v, np.zeros(2000, dtype=int), 1)[0]
    assert_close(axes @ axes.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(axes) == pytest.approx(1.0)
    assert abs(axes[0, 0]) > 0.99  # the longest direction comes first


def test_part_transform_gradcheck():
    rng = np.random.default_rng(5)
    v = torch.as_tensor(rng.normal(size=(12, 3)), dtype=torch.float64).requires_grad_()
    groups = torch.as_tensor(rng.integers(0, 3, size=12))
    axes = torch.as_tensor(part_axes(v.detach().numpy(), groups.numpy(), 2))
    params = [torch.as_tensor(rng.normal(size=(2, 3)) * 0.3).requires_grad_() for _ in range(3)]

    def fn(v, r, t, s):
        return apply_part_transforms(v, groups, axes, r, t, s)

    assert torch.autograd.gradcheck(fn, (v, *params), eps=1e-6, atol=1e-6)


def test_group_means_against_numpy():
    rng = np.random.default_rng(6)
    pts, g = rng.normal(size=(25, 3)), rng.integers(0, 4, size=25)
    got = group_means(torch.as_tensor(pts), torch.as_tensor(g), 5)
    for k in range(5):
        expected = pts[g == k].mean(axis=0) if (g == k).any() else np.zeros(3)
        assert_close(got[k], expected, atol=1e-12)


def _simplex_reference(x):
    # bisection on the threshold t with sum(max(x - t, 0)) = 1
    lo, hi = x.min() - 1.0, x.max()
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.maximum(x - mid, 0).sum() > 1:
            lo = mid
        else:
            hi = mid
    return np.maximum(x - (lo + hi) / 2, 0)


def test_simplex_projection_matches_bisection():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(30, 6)) * 2
    got = project_to_simplex(torch.as_tensor(x))
    for i in range(len(x)):
        assert_close(got[i], _simplex_reference(x[i]), atol=1e-9)
    assert_close(got.sum(-1), np.ones(30), atol=1e-9)
