"""Point splatting against a brute-force per-pixel z-test over all points."""

from __future__ import annotations

import numpy as np
import pytest
from reference_render import identity_camera

from helpers import assert_close
from partlift.errors import InvalidGeometryError
from partlift.render import PARTSLIP_RADIUS_PX, Camera, splat_points


def brute_force_splat(points, camera, radius):
    """Loop over pixels and points: the nearest point whose disc contains the pixel centre owns it."""
    uv, z = camera.project(points)
    owner = np.full((camera.height, camera.width), -1)
    for i in range(camera.height):
        for j in range(camera.width):
            best = np.inf
            for n in range(len(points)):
                if not (camera.znear <= z[n] <= camera.zfar):
                    continue
                d2 = (j + 0.5 - uv[n, 0]) ** 2 + (i + 0.5 - uv[n, 1]) ** 2
                if d2 <= radius * radius and z[n] < best:
                    best, owner[i, j] = z[n], n
    return owner


@pytest.mark.parametrize("seed", range(3))
def test_owner_and_visibility_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    pts = rng.normal(0, 0.4, (150, 3))
    pts[:5] = pts[5:10] + [0.0, 0.0, 0.05]  # near-duplicates at slightly different depth
    cams = [
        Camera.look_at(azimuth=40, elevation=20, distance=2.2, width=22, height=18, degrees=True),
        Camera.look_at(azimuth=200, elevation=-20, distance=2.2, width=22, height=18, degrees=True),
    ]
    radius = 1.7 + 0.3 * seed
    colors = rng.random((len(pts), 3))
    out = splat_points(pts, colors, cams, radius_px=radius)
    for b, cam in enumerate(cams):
        owner = brute_force_splat(pts, cam, radius)
        assert np.array_equal(out.point_index[b], owner)
        vis = np.zeros(len(pts), dtype=bool)
        vis[np.unique(owner[owner >= 0])] = True
        assert np.array_equal(out.visible[b], vis)
        assert 0 < vis.sum() < len(pts)  # some points are hidden
        uv, z = cam.project(pts)
        assert_close(out.screen_coords[b], uv, atol=1e-4)
        assert_close(out.depth[b], z, rtol=1e-6)
        want = np.full((cam.height, cam.width, 3), 255, dtype=np.uint8)
        want[owner >= 0] = np.round(colors[owner[owner >= 0]] * 255)
        assert np.array_equal(out.image[b], want)


def test_ties_near_plane_and_points_behind_the_camera():
    cam = identity_camera(10, 10, focal=10.0, znear=0.5)
    pts = np.array([
        [0.0, 0.0, 2.0],  # 0
        [0.0, 0.0, 2.0],  # 1: exact duplicate of 0 -> 0 owns every shared pixel
        [0.5, 0.5, 0.3],  # 2: closer than znear -> not drawn
        [0.2, 0.2, -1.0],  # 3: behind the camera
    ])
    out = splat_points(pts, None, [cam], radius_px=2.0)
    assert out.visible[0].tolist() == [True, False, False, False]
    assert np.isnan(out.screen_coords[0, 3]).all()
    assert out.depth[0, 3] == -1.0
    assert (out.image[0][out.point_index[0] == 0] == 128).all()  # default mid-grey
    # A disc of radius 2 px around a pixel corner covers the 12 pixel centres within 2 px.
    assert (out.point_index[0] == 0).sum() == 12


def test_partslip_radius_and_bad_input():
    assert PARTSLIP_RADIUS_PX == pytest.approx(0.005 * 800 / 2)
    cam = identity_camera(8, 8, focal=8.0)
    with pytest.raises(InvalidGeometryError):
        splat_points(np.zeros((4, 2)), None, [cam])
    with pytest.raises(InvalidGeometryError):
        splat_points(np.zeros((4, 3)), np.zeros((3, 3)), [cam])
