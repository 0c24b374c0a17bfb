"""Differentiable interpolation: agreement with the numba rasteriser, a numpy reference, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh
from reference_render import identity_camera

from helpers import assert_close
from partlift.geometry.transforms import world_to_camera_rotation
from partlift.render import (
    Camera,
    interpolate,
    interpolate_attributes,
    pixel_barycentrics,
    project_vertices_torch,
    rasterize,
    world_to_camera_rotation_torch,
)


def _cam_tensors(cams, dtype=torch.float64):
    r = torch.tensor(np.stack([c.rotation for c in cams]), dtype=dtype)
    t = torch.tensor(np.stack([c.translation for c in cams]), dtype=dtype)
    k = torch.tensor([[c.fx, c.fy, c.cx, c.cy] for c in cams], dtype=dtype)
    return r, t, k


def test_rotation_matches_numpy():
    rng = np.random.default_rng(0)
    ang = rng.uniform(-np.pi, np.pi, (20, 3))
    got = world_to_camera_rotation_torch(*(torch.tensor(ang[:, k]) for k in range(3)))
    assert got.shape == (20, 3, 3)
    want = np.stack([world_to_camera_rotation(*a) for a in ang])
    assert_close(got, want, atol=1e-12)


def test_projection_matches_camera_project():
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(50, 3))
    cams = [
        Camera.from_pose(azimuth=0.3, elevation=0.2, theta=0.1, distance=5.0, focal=400.0, width=64, height=48),
        Camera.look_at(azimuth=70, elevation=10, distance=3.0, width=64, height=48, degrees=True),
    ]
    r, t, k = _cam_tensors(cams)
    sv = project_vertices_torch(torch.tensor(pts), r, t, k)
    for b, cam in enumerate(cams):
        uv, z = cam.project(pts)
        assert_close(sv[b, :, :2], uv, atol=1e-9)
        assert_close(sv[b, :, 2], z, atol=1e-12)
    single = project_vertices_torch(torch.tensor(pts), r[1], t[1], k[1])
    assert_close(single, sv[1], atol=0)


def test_barycentrics_agree_with_the_rasteriser():
    m = trimesh.creation.icosphere(subdivisions=3)
    cams = [Camera.look_at(azimuth=30 * k, elevation=20, distance=2.5,
                           width=40, height=36, degrees=True) for k in range(3)]
    fr = rasterize(m.vertices, m.faces, cams)
    r, t, k = _cam_tensors(cams)
    sv = project_vertices_torch(torch.tensor(m.vertices), r, t, k)
    bary, mask = pixel_barycentrics(torch.tensor(fr.face_ids), torch.tensor(m.faces), sv)
    assert np.array_equal(mask.numpy(), fr.mask)
    assert_close(bary[mask], fr.bary[fr.mask], atol=1e-4)
    assert_close(bary[~mask], np.zeros(((~mask).sum().item(), 3)), atol=0)


def test_barycentrics_agree_on_triangles_clipped_by_the_near_plane():
    # Vertices behind the camera: the screen-space formula must still give the 3D weights.
    v = np.array([
        [-1.0, -0.8, 2.0], [1.5, -0.5, -1.0], [0.2, 1.2, 3.0],
        [-2.0, 1.0, 0.5], [0.5, 0.4, -0.5], [1.0, 1.0, 1.5],
    ])
    f = np.array([[0, 1, 2], [3, 4, 5]])
    cam = identity_camera(32, 24, focal=20.0, znear=0.3)
    fr = rasterize(v, f, [cam])
    assert fr.mask.sum() > 50
    r, t, k = _cam_tensors([cam])
    sv = project_vertices_torch(torch.tensor(v), r, t, k)
    bary, mask = pixel_barycentrics(torch.tensor(fr.face_ids), torch.tensor(f), sv)
    assert_close(bary[mask], fr.bary[fr.mask], atol=1e-4)


def test_attributes_match_numpy_blend_and_batched_attributes():
    m = trimesh.creation.icosphere(subdivisions=2)
    cams = [Camera.look_at(azimuth=50 * k, elevation=10, distance=2.6,
                           width=24, height=20, degrees=True) for k in range(2)]
    fr = rasterize(m.vertices, m.faces, cams)
    rng = np.random.default_rng(2)
    attr = rng.normal(size=(len(m.vertices), 5))
    r, t, k = _cam_tensors(cams)
    out, mask = interpolate(torch.tensor(fr.face_ids), torch.tensor(m.vertices), torch.tensor(m.faces),
                            torch.tensor(attr), r, t, k)
    assert out.shape == (2, 20, 24, 5)
    # Reference: per-pixel loop with the rasteriser's barycentrics.
    want = np.zeros((2, 20, 24, 5))
    for b, i, j in zip(*np.nonzero(fr.mask), strict=True):
        tri = m.faces[fr.face_ids[b, i, j]]
        want[b, i, j] = sum(fr.bary[b, i, j, q] * attr[tri[q]] for q in range(3))
    assert_close(out, want, atol=1e-5)
    # (B, V, C) attributes: view b uses its own attribute set.
    per_view = torch.tensor(np.stack([attr, 2 * attr]))
    sv = project_vertices_torch(torch.tensor(m.vertices), r, t, k)
    out2, _ = interpolate_attributes(torch.tensor(fr.face_ids), torch.tensor(m.faces), sv, per_view)
    assert_close(out2[0], out[0], atol=1e-12)
    assert_close(out2[1], 2 * out[1], atol=1e-12)
    # Unbatched face ids give unbatched output.
    out3, mask3 = interpolate_attributes(torch.tensor(fr.face_ids[1]), torch.tensor(m.faces), sv[1], torch.tensor(attr))
    assert out3.shape == (20, 24, 5) and mask3.shape == (20, 24)
    assert_close(out3, out[1], atol=1e-12)


@pytest.fixture(scope="module")
def small_scene():
    m = trimesh.creation.icosphere(subdivisions=1)
    pose = a, e, th, d = (0.4, 0.3, 0.2, 3.0)
    cam = Camera.from_pose(azimuth=a, elevation=e, theta=th, distance=d, focal=14.0, width=12, height=10)
    fr = rasterize(m.vertices, m.faces, [cam])
    assert fr.mask.sum() > 30
    return m, pose, cam, torch.tensor(fr.face_ids)


def test_gradcheck_vertices_and_attributes(small_scene):
    m, _, cam, fid = small_scene
    r, t, k = _cam_tensors([cam])
    faces = torch.tensor(m.faces)
    verts = torch.tensor(m.vertices, requires_grad=True)
    attr = torch.tensor(np.random.default_rng(3).normal(size=(len(m.vertices), 2)), requires_grad=True)

    def fn(v, a):
        return interpolate(fid, v, faces, a, r[0], t[0], k[0])[0]

    assert torch.autograd.gradcheck(fn, (verts, attr), eps=1e-6, atol=1e-6)


def test_gradcheck_pose_angles_and_translation(small_scene):
    m, (a, e, th, d), cam, fid = small_scene
    faces = torch.tensor(m.faces)
    verts = torch.tensor(m.vertices)
    attr = torch.tensor(np.random.default_rng(4).normal(size=(len(m.vertices), 3)))
    intr = torch.tensor([cam.fx, cam.fy, cam.cx, cam.cy], dtype=torch.float64)
    angles = torch.tensor([a, e, th], dtype=torch.float64, requires_grad=True)
    trans = torch.tensor([0.0, 0.0, d], dtype=torch.float64, requires_grad=True)
    # The tensors reproduce the camera the face ids were rasterised with.
    assert_close(world_to_camera_rotation_torch(*angles.detach()), cam.rotation, atol=1e-12)

    def fn(ang, tr):
        rot = world_to_camera_rotation_torch(ang[0], ang[1], ang[2])
        return interpolate(fid, verts, faces, attr, rot, tr, intr)[0]

    assert torch.autograd.gradcheck(fn, (angles, trans), eps=1e-6, atol=1e-6)
    # The gradient is not trivially zero.
    fn(angles, trans).square().sum().backward()
    assert angles.grad.abs().sum() > 0 and trans.grad.abs().sum() > 0
