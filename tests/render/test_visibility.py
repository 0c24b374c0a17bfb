"""Vertex visibility by the z-buffer test against geometric references."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from reference_render import identity_camera

from partlift.render import Camera, rasterize, vertex_visibility


def test_sphere_vertices_are_visible_iff_they_face_the_camera():
    m = trimesh.creation.icosphere(subdivisions=3)
    for cam in (
        Camera.look_at(azimuth=40, elevation=20, distance=3.0, width=128, height=128, degrees=True),
        Camera.from_pose(azimuth=1.0, elevation=-0.3, theta=0.4, distance=4.0, focal=200, width=96, height=80),
    ):
        vis = vertex_visibility(m.vertices, cam, faces=m.faces)
        to_cam = cam.center - m.vertices
        cos = np.einsum("ij,ij->i", m.vertex_normals, to_cam) / np.linalg.norm(to_cam, axis=1)
        uv, _ = cam.project(m.vertices)
        inside = (uv >= 0).all(axis=1) & (uv[:, 0] < cam.width) & (uv[:, 1] < cam.height)
        # Away from the silhouette, where the depth at the pixel centre changes steeply.
        clear = (np.abs(cos) > 0.4) & inside
        assert np.array_equal(vis[clear], cos[clear] > 0)
        assert not vis[~inside].any()
        assert vis.sum() > 50


def _segment_hits_quad(origin, target, quad_z, half):
    """Does the segment origin -> target cross the square |x|, |y| <= half in the plane z = quad_z?"""
    t = (quad_z - origin[2]) / (target[2] - origin[2])
    if not 0 < t < 1:
        return False
    p = origin + t * (target - origin)
    return abs(p[0]) <= half and abs(p[1]) <= half


def test_occluded_vertices_are_hidden():
    # A large grid plane at z = 4 and a small square occluder at z = 2, camera at the origin.
    gx, gy = np.meshgrid(np.linspace(-2, 2, 41), np.linspace(-2, 2, 41))
    back = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, 4.0)], axis=1)
    quads = np.array([[r * 41 + c, r * 41 + c + 1, (r + 1) * 41 + c + 1, (r + 1) * 41 + c]
                      for r in range(40) for c in range(40)])
    grid_faces = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    occ = np.array([[-0.5, -0.5, 2.0], [0.5, -0.5, 2.0], [0.5, 0.5, 2.0], [-0.5, 0.5, 2.0]])
    verts = np.concatenate([back, occ])
    faces = np.concatenate([grid_faces, np.array([[0, 1, 2], [0, 2, 3]]) + len(back)])
    cam = identity_camera(64, 64, focal=24.0)
    frag = rasterize(verts, faces, [cam])
    vis = vertex_visibility(verts, cam, frag)
    hidden = np.array([_segment_hits_quad(np.zeros(3), p, 2.0, 0.5) for p in back])
    # Exclude vertices within ~1 px of the occluder's shadow boundary (|x| or |y| = 1 on the back plane).
    edge = np.abs(np.maximum(np.abs(back[:, 0]), np.abs(back[:, 1])) - 1.0) < 0.1
    inside = np.all(np.abs(cam.project(back)[0] - 32) < 32, axis=1)
    sel = ~edge & inside
    assert hidden[sel].sum() > 10 and (~hidden[sel]).sum() > 10
    assert np.array_equal(vis[: len(back)][sel], ~hidden[sel])
    assert vis[len(back):].all()  # the occluder's own corners
    assert not vis[: len(back)][~inside].any()  # outside the image
    # The same answer from a depth map or from the faces.
    assert np.array_equal(vertex_visibility(verts, cam, frag.depth[0]), vis)
    assert np.array_equal(vertex_visibility(verts, cam, faces=faces), vis)


def test_one_sided_versus_two_sided_and_eps():
    cam = identity_camera(8, 8, focal=8.0)
    pts = np.array([[0.1, 0.1, 2.0], [0.1, 0.1, -2.0], [5.0, 0.0, 2.0]])
    far = np.full((8, 8), 10.0)
    assert vertex_visibility(pts, cam, far).tolist() == [True, False, False]  # behind camera / outside
    assert vertex_visibility(pts, cam, far, two_sided=True).tolist() == [False, False, False]
    assert vertex_visibility(pts, cam, np.full((8, 8), np.inf))[0]
    near = np.full((8, 8), 1.95)  # a surface 2.5 % in front of the point
    assert not vertex_visibility(pts, cam, near, eps=0.01)[0]
    assert vertex_visibility(pts, cam, near, eps=0.03)[0]
    assert vertex_visibility(pts, cam, near, eps=0.03, two_sided=True)[0]
    with pytest.raises(ValueError, match="faces"):
        vertex_visibility(pts, cam)
    with pytest.raises(ValueError, match="size"):
        vertex_visibility(pts, cam, np.ones((4, 4)))
