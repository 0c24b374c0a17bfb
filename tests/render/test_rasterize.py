"""The numba rasteriser against slow references: a pure-python ray caster, an exact (rational)
top-left fill rule, and Embree ray casting on a real scanned mesh."""

from __future__ import annotations

import importlib.util
import os
from fractions import Fraction

import numpy as np
import pytest
import trimesh
from reference_render import identity_camera, pixel_rays, random_triangle_soup, reference_raster

from helpers import assert_close
from partlift.errors import InvalidGeometryError
from partlift.render import Camera, rasterize

AMBIGUOUS = 1e-7  # reference margin below which a pixel may legitimately go either way


def _compare_with_reference(v, f, cam, cull=False):
    fr = rasterize(v, f, [cam], cull_backfaces=cull)
    ref_fid, ref_bary, ref_depth, margin = reference_raster(v, f, cam, cull=cull)
    clear = margin > AMBIGUOUS
    assert clear.mean() > 0.95, "test scene has too many ambiguous pixels"
    fid = fr.face_ids[0]
    assert np.array_equal(fid[clear], ref_fid[clear]), f"face ids differ at {np.argwhere(clear & (fid != ref_fid))[:5]}"
    hit = clear & (ref_fid >= 0)
    assert hit.sum() > 20, "scene should cover some pixels"
    assert_close(fr.bary[0][hit], ref_bary[hit], atol=1e-5, msg="barycentrics")
    assert_close(fr.depth[0][hit], ref_depth[hit], rtol=1e-6, msg="depth")
    assert np.all(np.isinf(fr.depth[0][fid < 0]))
    assert np.all(fr.bary[0][fid < 0] == 0)
    return fr, ref_fid


@pytest.mark.parametrize("seed", range(4))
def test_matches_reference_ray_caster_on_overlapping_triangles(seed):
    v, f = random_triangle_soup(seed, n=10)
    cam = identity_camera(26, 20, focal=22.0)
    fr, ref_fid = _compare_with_reference(v, f, cam)
    # The scene really exercises the z-buffer: some pixels are covered by several triangles.
    assert len(np.unique(ref_fid[ref_fid >= 0])) >= 5


@pytest.mark.parametrize("seed", range(2))
def test_matches_reference_with_culling_and_a_rotated_camera(seed):
    v, f = random_triangle_soup(seed + 10, n=12, center_z=0.0)
    cam = Camera.look_at(azimuth=40.0 + 90 * seed, elevation=25.0, distance=2.2, fov=60,
                         width=23, height=19, degrees=True)
    _compare_with_reference(v, f, cam, cull=True)
    _compare_with_reference(v, f, cam, cull=False)


def test_near_plane_clipping_matches_reference():
    # Triangles crossing z = znear, some with vertices behind the camera (z < 0).
    rng = np.random.default_rng(7)
    v = rng.uniform([-2, -2, -1.5], [2, 2, 3.0], (3 * 14, 3))
    f = np.arange(len(v)).reshape(-1, 3)
    cam = identity_camera(24, 18, focal=12.0, znear=1.0, zfar=2.5)
    cam_v = cam.to_camera(v)
    crossing = [(cam_v[t, 2] < 1.0).any() and (cam_v[t, 2] >= 1.0).any() for t in f]
    assert sum(crossing) >= 5
    fr, ref_fid = _compare_with_reference(v, f, cam)
    assert (fr.depth[0][fr.face_ids[0] >= 0] >= 1.0 - 1e-6).all()
    assert (fr.depth[0][fr.face_ids[0] >= 0] <= 2.5 + 1e-6).all()
    # Clipped triangles are drawn (not discarded whole).
    drawn = np.unique(fr.face_ids[0][fr.face_ids[0] >= 0])
    assert any(crossing[k] for k in drawn)


def _exact_top_left_cover(tri_uv, px, py):
    """True iff pixel centre (px, py) is covered by the screen triangle under the top-left rule (exact)."""
    a, b, c = [(Fraction(x), Fraction(y)) for x, y in tri_uv]
    area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    if area == 0:
        return False
    if area < 0:  # make it positively oriented in the y-down image (clockwise on screen)
        b, c = c, b
    p = (Fraction(px), Fraction(py))
    for s, e in ((a, b), (b, c), (c, a)):
        val = (e[0] - s[0]) * (p[1] - s[1]) - (e[1] - s[1]) * (p[0] - s[0])
        dx, dy = e[0] - s[0], e[1] - s[1]
        top = dy == 0 and dx > 0  # interior below a horizontal edge
        left = dy < 0  # interior to the right
        if val < 0 or (val == 0 and not (top or left)):
            return False
    return True


def _pixel_aligned_grid(seed, width=16, height=12, step=2.0, flip=False):
    """A plane at z = 2 facing the camera, triangulated on a jittered grid whose vertices fall on
    pixel centres, pixel corners and half-pixel positions exactly (u = 4x + 8, v = 4y + 6)."""
    rng = np.random.default_rng(seed)
    us = np.arange(-2.0, width + 2.0 + 1e-9, step)
    vs = np.arange(-2.0, height + 2.0 + 1e-9, step)
    uu, vv = np.meshgrid(us, vs)
    jitter = rng.choice([-0.5, 0.0, 0.5], size=(2,) + uu.shape)
    jitter[:, [0, -1], :] = 0
    jitter[:, :, [0, -1]] = 0
    uu, vv = uu + jitter[0], vv + jitter[1]
    # A vertex exactly on a pixel centre, where several triangles meet.
    uu[3, 4], vv[3, 4] = 6.5, 4.5
    ny, nx = uu.shape
    uv = np.stack([uu.ravel(), vv.ravel()], axis=1)
    faces = []
    for r in range(ny - 1):
        for c in range(nx - 1):
            i0, i1, i2, i3 = r * nx + c, r * nx + c + 1, (r + 1) * nx + c, (r + 1) * nx + c + 1
            if (r + c) % 2:
                faces += [(i0, i2, i1), (i1, i2, i3)]
            else:
                faces += [(i0, i2, i3), (i0, i3, i1)]
    faces = np.array(faces)
    if flip:
        faces = faces[:, ::-1]
    # Shuffle face order so that face index and position are unrelated.
    faces = faces[rng.permutation(len(faces))]
    z = 2.0
    verts = np.stack([(uv[:, 0] - 8.0) * z / 8.0, (uv[:, 1] - 6.0) * z / 8.0, np.full(len(uv), z)], axis=1)
    return verts, faces, uv


@pytest.mark.parametrize("seed,flip", [(0, False), (1, False), (2, True)])
def test_top_left_rule_is_watertight_and_exact(seed, flip):
    verts, faces, uv = _pixel_aligned_grid(seed, flip=flip)
    cam = identity_camera(16, 12, focal=8.0)
    # The projection is exact in floating point, so the rational reference sees the same triangles.
    proj, _ = cam.project(verts)
    assert np.array_equal(proj, uv)
    fid = rasterize(verts, faces, [cam]).face_ids[0]
    for i in range(12):
        for j in range(16):
            cover = [k for k, t in enumerate(faces) if _exact_top_left_cover(uv[t], j + 0.5, i + 0.5)]
            assert len(cover) == 1, f"pixel ({i}, {j}) covered by {len(cover)} triangles under the exact rule"
            assert fid[i, j] == cover[0], f"pixel ({i}, {j}): got face {fid[i, j]}, exact rule says {cover[0]}"
    assert (fid >= 0).all()


def test_grid_has_pixel_centres_exactly_on_shared_edges():
    # Guard for the test above: the jittered grid must really put pixel centres on edges and vertices.
    verts, faces, uv = _pixel_aligned_grid(0)
    n_on = 0
    for i in range(12):
        for j in range(16):
            p = np.array([j + 0.5, i + 0.5])
            for t in faces:
                a, b, c = uv[t]
                for s, e in ((a, b), (b, c), (c, a)):
                    cross = (e[0] - s[0]) * (p[1] - s[1]) - (e[1] - s[1]) * (p[0] - s[0])
                    lo, hi = np.minimum(s, e), np.maximum(s, e)
                    inside_seg = (lo <= p).all() and (p <= hi).all()
                    n_on += cross == 0 and inside_seg
    assert n_on >= 20


def test_backface_culling_sign():
    # Outward normal = (b - a) x (c - a). This triangle's normal points to -z, towards a camera at
    # the origin looking down +z: it is front-facing.
    v = np.array([[0.0, 0.0, 2.0], [0.0, 1.0, 2.0], [1.0, 0.0, 2.0]]) - [0.3, 0.3, 0.0]
    n = np.cross(v[1] - v[0], v[2] - v[0])
    assert n[2] < 0
    cam = identity_camera(16, 16, focal=16.0)
    front = rasterize(v, [[0, 1, 2]], [cam], cull_backfaces=True).face_ids
    back = rasterize(v, [[0, 2, 1]], [cam], cull_backfaces=True).face_ids
    both = rasterize(v, [[0, 2, 1]], [cam], cull_backfaces=False).face_ids
    assert (front >= 0).sum() > 10
    assert (back >= 0).sum() == 0
    assert np.array_equal(front, both)


def test_culling_does_not_change_a_closed_convex_mesh():
    m = trimesh.creation.icosphere(subdivisions=2)
    cams = [Camera.look_at(azimuth=a, elevation=e, distance=3.0,
                           width=40, height=32, degrees=True) for e, a in [(10, 20), (-30, 200), (60, 90)]]
    a = rasterize(m.vertices, m.faces, cams, cull_backfaces=False)
    b = rasterize(m.vertices, m.faces, cams, cull_backfaces=True)
    assert np.array_equal(a.face_ids, b.face_ids)
    assert np.array_equal(a.depth, b.depth)
    # Every visible face faces the camera (3D test, independent of the screen-space sign).
    for k, cam in enumerate(cams):
        ids = np.unique(a.face_ids[k][a.face_ids[k] >= 0])
        centre = m.triangles_center[ids]
        assert (np.einsum("ij,ij->i", m.face_normals[ids], cam.center - centre) > 0).all()


def test_depth_ties_go_to_the_smaller_face_id_and_threads_do_not_matter():
    m = trimesh.creation.icosphere(subdivisions=3)
    faces = np.concatenate([m.faces, m.faces])  # every face twice: exact depth ties everywhere
    cams = [Camera.look_at(azimuth=30 * k, elevation=15, distance=2.8,
                           width=48, height=40, degrees=True) for k in range(3)]
    ref = rasterize(m.vertices, m.faces, cams)
    for nt in (1, 2):
        out = rasterize(m.vertices, faces, cams, num_threads=nt)
        assert np.array_equal(out.face_ids, ref.face_ids)
        single = rasterize(m.vertices, faces, cams[1], num_threads=nt)
        assert np.array_equal(single.face_ids[0], ref.face_ids[1])
        assert np.array_equal(single.depth[0], ref.depth[1])
        assert np.array_equal(single.bary[0], ref.bary[1])


def test_far_plane_and_empty_views():
    v, f = random_triangle_soup(3, n=6)
    cam = identity_camera(20, 20, focal=20.0, zfar=0.5)  # everything is beyond the far plane
    out = rasterize(v, f, [cam])
    assert (out.face_ids == -1).all() and np.isinf(out.depth).all()
    behind = identity_camera(20, 20, focal=20.0)
    out = rasterize(v * [1, 1, -1], f, [behind])  # everything behind the camera
    assert (out.face_ids == -1).all()


def test_rejects_bad_input():
    cam = identity_camera(8, 8, focal=8.0)
    with pytest.raises(InvalidGeometryError, match="vertices"):
        rasterize(np.zeros((4, 2)), [[0, 1, 2]], [cam])
    with pytest.raises(InvalidGeometryError, match="face indices"):
        rasterize(np.zeros((3, 3)), [[0, 1, 3]], [cam])
    with pytest.raises(InvalidGeometryError, match="NaN"):
        rasterize(np.full((3, 3), np.nan), [[0, 1, 2]], [cam])


# ------------------------------------------------------------------------- a real mesh vs Embree
def _shipped_bunny():
    """The Stanford bunny scan (50k vertices, 99,785 faces) shipped inside the PyPI package
    ``pymeshfix`` (pymeshfix/examples/StanfordBunny.ply; a ``dev`` extra of partlift)."""
    spec = importlib.util.find_spec("pymeshfix")
    if spec is None or spec.origin is None:
        pytest.skip("pymeshfix is not installed (pip install pymeshfix): it ships the Stanford bunny used here")
    path = os.path.join(os.path.dirname(spec.origin), "examples", "StanfordBunny.ply")
    if not os.path.exists(path):
        pytest.skip(f"pymeshfix does not ship {path} in this version")
    mesh = trimesh.load(path, process=False)
    v = mesh.vertices - mesh.bounds.mean(axis=0)
    v /= np.abs(v).max()
    return trimesh.Trimesh(v, mesh.faces, process=False)


def test_depth_and_face_ids_match_embree_ray_casting_on_the_bunny():
    mesh = _shipped_bunny()
    if not trimesh.ray.has_embree:
        pytest.skip("embreex missing: trimesh's pure-numpy ray caster is far too slow for this test")
    cams = [Camera.look_at(azimuth=a, elevation=e, distance=2.4, fov=50,
                           width=96, height=80, degrees=True) for e, a in [(10, 0), (40, 120), (-20, 300)]]
    fr = rasterize(mesh.vertices, mesh.faces, cams)
    for b, cam in enumerate(cams):
        d_world = pixel_rays(cam).reshape(-1, 3) @ cam.rotation  # R^T d
        origins = np.repeat(cam.center[None], len(d_world), axis=0)
        loc, ray_idx, tri = mesh.ray.intersects_location(origins, d_world, multiple_hits=False)
        fid = np.full(len(d_world), -1)
        fid[ray_idx] = tri
        z = np.full(len(d_world), np.inf)
        z[ray_idx] = cam.to_camera(loc)[:, 2]
        fid, z = fid.reshape(cam.height, cam.width), z.reshape(cam.height, cam.width)
        assert (fid >= 0).mean() > 0.1
        same = (fid == fr.face_ids[b]).mean()
        assert same >= 0.995, f"view {b}: only {same:.4f} of pixels have the same face id"
        both = (fid >= 0) & (fr.face_ids[b] >= 0)
        assert_close(fr.depth[b][both], z[both], rtol=1e-4, msg=f"view {b} depth")
