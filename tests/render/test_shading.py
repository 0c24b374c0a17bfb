"""Shaded rendering: masks against per-part renders, the nearest-corner rule, Lambert, compositing."""

from __future__ import annotations

import numpy as np
import pytest
from reference_render import identity_camera, reference_raster, three_box_mesh

from helpers import assert_close
from partlift.geometry import PartMesh
from partlift.render import Camera, ShadingConfig, part_palette, rasterize, render_mesh
from partlift.render.shading import UNLABELLED_COLOR

CAMS = [Camera.look_at(azimuth=a, elevation=e, distance=3.2,
                       width=48, height=40, degrees=True) for e, a in [(20, 30), (-10, 160), (50, 260)]]


def _expected_masks(mesh, ids, cams):
    """Render each group of faces alone; a pixel gets the id of the nearest group (-1 if none)."""
    groups = np.unique(ids[mesh.faces[:, 0]])
    depth = np.stack([
        rasterize(mesh.vertices, mesh.faces[ids[mesh.faces[:, 0]] == g], cams, with_bary=False).depth for g in groups
    ])
    want = groups[np.argmin(depth, axis=0)]
    want[np.isinf(depth.min(axis=0))] = -1
    return want


def test_part_and_instance_masks_match_per_part_renders():
    mesh = three_box_mesh()
    out = render_mesh(mesh, CAMS)
    assert np.array_equal(out.part_masks, _expected_masks(mesh, mesh.labels, CAMS))
    assert np.array_equal(out.instance_masks, _expected_masks(mesh, mesh.instances, CAMS))
    for k in range(3):  # every instance is seen somewhere, so the test is not vacuous
        assert (out.instance_masks == k).any()
    view = out.view(1)
    assert set(view) == {"rgb", "depth", "face_ids", "part_mask", "instance_mask"}
    assert view["rgb"].shape == (40, 48, 3) and view["rgb"].dtype == np.uint8
    assert np.array_equal(view["face_ids"], out.face_ids[1])


def test_mask_label_is_the_corner_with_the_largest_weight():
    v = np.array([[-1.0, -1.0, 3.0], [1.2, -0.8, 3.5], [0.1, 1.1, 2.5]])
    mesh = PartMesh(v, [[0, 1, 2]], labels=[0, 1, 2], part_names=("a", "b", "c"))
    cam = identity_camera(30, 26, focal=24.0)
    out = render_mesh(mesh, [cam])
    fid, bary, _, margin = reference_raster(v, mesh.faces, cam)
    top2 = np.sort(bary, axis=-1)[..., -2:]
    clear = (fid >= 0) & (margin > 1e-7) & (top2[..., 1] - top2[..., 0] > 1e-6)
    assert np.array_equal(out.part_masks[0][clear], np.argmax(bary, axis=-1)[clear])
    assert (out.part_masks[0][fid < 0] == -1).all()
    assert len(np.unique(out.part_masks[0][clear])) == 3


def _facing_plane(colors=None):
    v = np.array([[-3.0, -3.0, 2.0], [3.0, -3.0, 2.0], [3.0, 3.0, 2.0], [-3.0, 3.0, 2.0]])
    f = np.array([[0, 2, 1], [0, 3, 2]])  # normal (0, 0, -1): towards a camera at the origin
    assert np.cross(v[2] - v[0], v[1] - v[0])[2] < 0
    return PartMesh(v, f, colors=colors)


def test_lambert_and_ambient():
    cam = identity_camera(16, 16, focal=8.0)
    mesh = _facing_plane()
    head_on = ShadingConfig(light_dir=(0.0, 0.0, -1.0), ambient=0.3, diffuse=0.7)
    grazing = ShadingConfig(light_dir=(1.0, 0.0, 0.0), ambient=0.3, diffuse=0.7)
    tilted = ShadingConfig(light_dir=(0.0, -1.0, -1.0), ambient=0.3, diffuse=0.7)
    for cfg, intensity in ((head_on, 1.0), (grazing, 0.3), (tilted, 0.3 + 0.7 / np.sqrt(2))):
        out = render_mesh(mesh, [cam], color_by="uniform", shading=cfg)
        m = out.face_ids[0] >= 0
        assert m.all()
        assert (out.rgb[0][m] == np.round(0.8 * intensity * 255)).all(), cfg
    # Two-sided lighting: the same plane seen from behind is lit the same way.
    flipped = PartMesh(mesh.vertices, mesh.faces[:, ::-1])
    a = render_mesh(flipped, [cam], color_by="uniform", shading=tilted).rgb
    b = render_mesh(mesh, [cam], color_by="uniform", shading=tilted).rgb
    assert np.array_equal(a, b)
    # Vertex colours under full light come out unchanged; world-frame light gives the same here.
    col = np.tile([[0.2, 0.6, 0.4]], (4, 1))
    world = ShadingConfig(light_dir=(0.0, 0.0, -1.0), light_in_camera=False, ambient=0.3, diffuse=0.7)
    for cfg in (head_on, world):
        out = render_mesh(_facing_plane(col), [cam], color_by="vertex", shading=cfg)
        assert (out.rgb[0] == np.round(col[0] * 255)).all()


def test_background_compositing():
    mesh = three_box_mesh()
    rng = np.random.default_rng(5)
    bg = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    out = render_mesh(mesh, CAMS, background=bg)
    for b in range(len(CAMS)):
        empty = out.face_ids[b] < 0
        assert empty.any() and (~empty).any()
        assert np.array_equal(out.rgb[b][empty], bg[empty])
        assert np.isinf(out.depth[b][empty]).all() and (out.part_masks[b][empty] == -1).all()
    plain = render_mesh(mesh, CAMS, background=(10, 20, 30))
    assert (plain.rgb[plain.face_ids < 0] == [10, 20, 30]).all()
    assert np.array_equal(plain.rgb[plain.face_ids >= 0], out.rgb[out.face_ids >= 0])
    with pytest.raises(ValueError, match="background"):
        render_mesh(mesh, CAMS, background=np.zeros((5, 5, 3), dtype=np.uint8))


def test_parts_colouring_uses_the_palette():
    mesh = three_box_mesh()
    cam = Camera.look_at(azimuth=0, elevation=0, distance=3.2, width=48, height=40)
    flat = ShadingConfig(ambient=1.0, diffuse=0.0)
    out = render_mesh(mesh, [cam], color_by="parts", shading=flat)
    pal = part_palette(2)
    for k in range(2):
        px = out.rgb[0][out.part_masks[0] == k]
        assert len(px) and (px == pal[k]).all()
    unl = render_mesh(mesh.copy(labels=np.full(len(mesh.vertices), -1)), [cam], color_by="parts", shading=flat)
    assert (unl.rgb[0][unl.face_ids[0] >= 0] == UNLABELLED_COLOR).all()


def test_palette_is_deterministic_and_distinct():
    p = part_palette(600)
    assert p.shape == (600, 3) and p.dtype == np.uint8
    assert len({tuple(c) for c in p}) == 600
    assert np.array_equal(part_palette(7), p[:7])
    assert not any(tuple(c) in {(255, 255, 255), UNLABELLED_COLOR} for c in p)
    # The first colours are far apart (figures with few parts stay readable).
    first = part_palette(8).astype(float)
    d = np.linalg.norm(first[:, None] - first[None], axis=-1)
    assert d[np.triu_indices(8, 1)].min() > 40
    assert_close(part_palette(0).shape, (0, 3))
