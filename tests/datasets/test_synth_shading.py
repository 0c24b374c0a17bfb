"""Shading helpers against loop references; per-pixel surface recovery against camera rays."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from toys import toy_car

from helpers import assert_close
from partlift.datasets.materials import assign_materials
from partlift.datasets.shading import (
    Light,
    Lighting,
    corner_normals,
    sample_lighting,
    shade,
    surface_at_pixels,
)
from partlift.datasets.synth import PreparedMesh, render_view
from partlift.geometry.partmesh import PartMesh
from partlift.render.camera import Camera
from partlift.render.rasterize import rasterize


def _ref_corner_normals(mesh: PartMesh, angle_deg: float) -> np.ndarray:
    fn = mesh.face_normals().astype(np.float64)
    area = mesh.face_areas()
    cos_lim = np.cos(np.radians(angle_deg))
    out = np.zeros((len(mesh.faces), 3, 3))
    for f, tri in enumerate(mesh.faces):
        for k, v in enumerate(tri):
            s = np.zeros(3)
            for g in np.flatnonzero((mesh.faces == v).any(axis=1)):
                if fn[f] @ fn[g] >= cos_lim:
                    s += area[g] * fn[g]
            out[f, k] = s / np.linalg.norm(s) if np.linalg.norm(s) > 0 else fn[f]
    return out


@pytest.mark.parametrize("angle", [35.0, 80.0])
def test_corner_normals_match_reference(angle):
    cyl = trimesh.creation.cylinder(radius=0.3, height=0.5, sections=12)
    mesh = PartMesh(cyl.vertices, cyl.faces)
    assert_close(corner_normals(mesh, angle), _ref_corner_normals(mesh, angle), atol=1e-6)


def test_corner_normals_keep_box_edges_sharp():
    box = trimesh.creation.box((1, 1, 1))
    mesh = PartMesh(box.vertices, box.faces)
    cn = corner_normals(mesh)
    assert_close(cn, np.repeat(mesh.face_normals()[:, None, :], 3, axis=1), atol=1e-6)


def _ref_shade(alb, n, v, lighting, spec, shin, refl):
    out = np.zeros_like(alb, dtype=np.float64)
    for i in range(len(alb)):
        ni = n[i] if n[i] @ v[i] >= 0 else -n[i]
        ndv = abs(n[i] @ v[i])
        diffuse = np.array(lighting.ambient, dtype=np.float64)
        spec_sum = np.zeros(3)
        for light in lighting.lights:
            col = np.array(light.color) * light.intensity
            ndl = max(ni @ np.array(light.direction), 0.0)
            diffuse = diffuse + ndl * col
            h = v[i] + np.array(light.direction)
            h = h / np.linalg.norm(h)
            if ndl > 0:
                spec_sum = spec_sum + spec[i] * max(ni @ h, 0.0) ** shin[i] * col
        c = alb[i] * diffuse + spec_sum
        r = 2 * ndv * ni - v[i]
        t = min(max(0.5 + 0.5 * r[1], 0.0), 1.0)
        env = (1 - t) * np.array(lighting.ground) + t * np.array(lighting.sky)
        fres = refl[i] + (1 - refl[i]) * (1 - ndv) ** 5 * (refl[i] > 0)
        c = c * (1 - 0.5 * fres) + fres * env
        out[i] = np.clip(c * lighting.exposure, 0, 1)
    return out


def test_shade_matches_reference():
    rng = np.random.default_rng(0)
    n = 300
    normals = rng.normal(size=(n, 3))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    views = rng.normal(size=(n, 3))
    views /= np.linalg.norm(views, axis=1, keepdims=True)
    alb = rng.random((n, 3))
    spec, shin, refl = rng.random(n), rng.uniform(2, 60, n), rng.random(n) * (rng.random(n) < 0.5)
    lighting = Lighting((0.2, 0.25, 0.3), (Light((0.0, 0.6, 0.8), (1.0, 0.9, 0.8), 0.9),
                                          Light((0.6, 0.0, -0.8), (0.8, 0.9, 1.0), 0.3)),
                        (0.7, 0.8, 0.9), (0.3, 0.3, 0.2), 1.1)
    f32 = np.float32
    got = shade(alb, normals, views, lighting, spec.astype(f32), shin.astype(f32), refl.astype(f32))
    assert_close(got, _ref_shade(alb, normals, views, lighting, spec, shin, refl), atol=2e-5)


def test_sampled_lights_point_as_requested():
    cam = Camera.from_pose(azimuth=0.7, elevation=0.3, distance=2.0, focal=100.0, width=64, height=64)
    for s in range(20):
        light = sample_lighting(np.random.default_rng(s), camera_rotation=cam.rotation).lights[0]
        d_cam = cam.rotation @ np.array(light.direction)
        assert_close(np.linalg.norm(light.direction), 1.0, atol=1e-9)
        assert d_cam[1] < 0, "the key light comes from above the camera's horizon (camera y is down)"


def test_surface_points_lie_on_pixel_rays():
    mesh = toy_car(0)
    cam = Camera.from_pose(azimuth=0.6, elevation=0.4, theta=0.1, distance=2.0, focal=80.0, width=48, height=40)
    frag = rasterize(mesh.vertices, mesh.faces, [cam])
    s = surface_at_pixels(mesh, frag.face_ids[0], frag.bary[0])
    uv, z = cam.project(s.points)
    rows, cols = np.divmod(s.pixels, 48)
    assert_close(uv[:, 0], cols + 0.5, atol=1e-3)
    assert_close(uv[:, 1], rows + 0.5, atol=1e-3)
    assert_close(z, frag.depth[0].ravel()[s.pixels], atol=1e-4)
    assert_close(np.linalg.norm(s.normals, axis=1), 1.0, atol=1e-5)
    # the label vertex is a vertex of the pixel's face
    assert (mesh.faces[s.face] == s.vertex[:, None]).any(axis=1).all()


def test_render_view_outputs_are_consistent():
    mesh = toy_car(2)
    prep = PreparedMesh.build(mesh, assign_materials(mesh, 0))
    cam = Camera.from_pose(azimuth=0.3, elevation=0.4, distance=2.0, focal=70.0, width=64, height=64)
    bg = np.full((64, 64, 3), 0.25, np.float32)
    bg[::4] = 0.9  # a striped background full of edges
    lighting = sample_lighting(np.random.default_rng(0), camera_rotation=cam.rotation)
    out = render_view(prep, cam, lighting, bg, supersample=2)
    fg = out.labels >= 0
    assert fg.any() and (~fg).any()
    assert np.isinf(out.depth[~fg]).all() and np.isfinite(out.depth[fg]).all()
    # pixels far from the object show the background exactly; anti-aliasing only touches the rim
    assert (out.rgb[out.coverage == 0] == np.round(bg * 255).astype(np.uint8)[out.coverage == 0]).all()
    assert ((out.coverage > 0) == fg).mean() > 0.9
    assert out.edges.any()
    # edges come from the object alone: none in the background away from the silhouette
    from scipy import ndimage

    assert not out.edges[ndimage.maximum_filter(out.coverage, 3) == 0].any()
    single = render_view(prep, cam, lighting, bg, supersample=1)
    assert np.array_equal(single.labels, out.labels) and np.array_equal(single.depth, out.depth)
