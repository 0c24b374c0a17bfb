"""The silhouette term, the foreground map, the distance from the object's extent and the pose
hypotheses of Part321 inference."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from part321_fixtures import smooth_features, toy_mesh
from scipy import ndimage

from helpers import assert_close
from partlift.errors import ConfigError
from partlift.metrics.pose import pose_error
from partlift.part321.feature_render import render_features
from partlift.part321.inference import (
    InferenceConfig,
    RenderSetup,
    _Scene,
    clutter_score_map,
    infer,
    score_initial_poses,
    select_hypotheses,
    silhouette_target,
)
from partlift.part321.neural_mesh import DeformableNeuralMesh
from partlift.part321.silhouette import (
    SilhouetteTarget,
    bilinear_sample,
    extent_distance,
    foreground_map,
    largest_component,
    outline_points,
    silhouette_loss,
)


def _blob_mask(h=12, w=14):
    m = np.zeros((h, w), bool)
    m[3:9, 4:11] = True
    m[2, 6] = True
    return m


def test_silhouette_loss_passes_gradcheck():
    target = SilhouetteTarget.from_mask(_blob_mask(), dtype=torch.float64)
    rng = np.random.default_rng(0)
    # points in front of the camera projecting around and beyond the mask (kinks avoided by randomness)
    pts = torch.tensor(np.column_stack([rng.uniform(-0.4, 0.4, 20), rng.uniform(-0.4, 0.4, 20),
                                        rng.uniform(1.5, 2.5, 20)]), dtype=torch.float64, requires_grad=True)
    intr = (20.0, 20.0, 7.0, 6.0)
    assert torch.autograd.gradcheck(lambda p: silhouette_loss(p, intr, target), (pts,), eps=1e-6, atol=1e-5)
    covered = np.zeros((12, 14), bool)
    covered[:, :7] = True
    assert torch.autograd.gradcheck(lambda p: silhouette_loss(p, intr, target, covered), (pts,), eps=1e-6,
                                    atol=1e-5)


def test_silhouette_loss_matches_a_loop_reference():
    mask = _blob_mask()
    target = SilhouetteTarget.from_mask(mask, dtype=torch.float64)
    rng = np.random.default_rng(1)
    uv = np.column_stack([rng.uniform(1, 13, 30), rng.uniform(1, 11, 30)])  # inside the map
    intr = (1.0, 1.0, 0.0, 0.0)
    pts = torch.tensor(np.column_stack([uv, np.ones(30)]), dtype=torch.float64)  # z = 1: uv = xy
    covered = np.zeros_like(mask)
    covered[4:7, :] = True  # a band of the map is covered: its outline pixels do not count
    got = float(silhouette_loss(pts, intr, target, covered))
    # reference: scipy's order-1 spline for the distance transform, brute-force nearest point
    dist = ndimage.distance_transform_edt(~mask)
    d_out = ndimage.map_coordinates(dist, [uv[:, 1] - 0.5, uv[:, 0] - 0.5], order=1, mode="nearest")
    outline = [(j + 0.5, i + 0.5) for i in range(mask.shape[0]) for j in range(mask.shape[1]) if mask[i, j] and any(
        not (0 <= i + di < mask.shape[0] and 0 <= j + dj < mask.shape[1]) or not mask[i + di, j + dj]
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)))]
    nearest = [min(np.hypot(p[0] - q[0], p[1] - q[1]) for q in uv) for p in outline
               if not covered[int(p[1]), int(p[0])]]
    expected = (np.maximum(d_out - 0.5, 0).mean() + np.maximum(np.array(nearest) - 0.5, 0).sum() / len(outline)
                ) / np.sqrt(mask.sum())
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_silhouette_loss_gradient_equals_the_full_distance_matrix_formula():
    """The cover term differentiates only the nearest point of each outline pixel; the gradient of
    the textbook formula (min over a full differentiable distance matrix) must be the same."""
    mask = _blob_mask()
    target = SilhouetteTarget.from_mask(mask, dtype=torch.float64)
    rng = np.random.default_rng(4)
    uv = np.column_stack([rng.uniform(-2, 16, 40), rng.uniform(-2, 14, 40)])
    covered = np.zeros_like(mask)
    covered[5:7, :] = True
    pts = torch.tensor(np.column_stack([uv * 2.0, np.full(40, 2.0)]), dtype=torch.float64, requires_grad=True)
    intr = (1.0, 1.0, 0.0, 0.0)
    silhouette_loss(pts, intr, target, covered).backward()
    got = pts.grad.clone()

    def textbook(p):
        u = p[:, :2] / p[:, 2:]
        d = bilinear_sample(target.outside_distance, u)
        h, w = mask.shape
        over = torch.stack([(0.5 - u[:, 0]).clamp_min(0) + (u[:, 0] - (w - 0.5)).clamp_min(0),
                            (0.5 - u[:, 1]).clamp_min(0) + (u[:, 1] - (h - 0.5)).clamp_min(0)], -1).norm(dim=-1)
        out = (torch.relu(d - 0.5) + over).mean()
        pix = target.outline
        keep = torch.as_tensor(~covered[(pix[:, 1] - 0.5).long(), (pix[:, 0] - 0.5).long()])
        cover = torch.relu(torch.cdist(pix[keep], u).min(dim=1).values - 0.5).sum() / len(pix)
        return (out + cover) / target.size

    ref_pts = pts.detach().clone().requires_grad_()
    textbook(ref_pts).backward()
    assert float(ref_pts.grad.abs().sum()) > 0
    assert_close(got.numpy(), ref_pts.grad.numpy(), atol=1e-12, rtol=1e-9)


def test_outline_points_are_vertices_then_face_centres():
    v = torch.tensor(np.random.default_rng(5).normal(size=(6, 3)), requires_grad=True)
    faces = torch.tensor([[0, 1, 2], [2, 3, 4], [1, 4, 5]])
    pts = outline_points(v, faces)
    ref = torch.cat([v, torch.stack([v[list(f)].mean(dim=0) for f in faces.tolist()])])
    assert_close(pts.detach().numpy(), ref.detach().numpy(), atol=1e-15)
    pts.sum().backward()
    per_vertex = 1 + np.bincount(faces.reshape(-1).numpy(), minlength=6) / 3  # itself + 1/3 per face
    assert_close(v.grad.numpy(), np.repeat(per_vertex[:, None], 3, axis=1), atol=1e-15)


def test_bilinear_sample_matches_scipy():
    img = np.random.default_rng(2).normal(size=(7, 9))
    uv = np.random.default_rng(3).uniform(0.5, 8.5, size=(40, 2))
    uv[:, 1] = np.clip(uv[:, 1], 0.5, 6.5)
    got = bilinear_sample(torch.as_tensor(img), torch.as_tensor(uv)).numpy()
    ref = ndimage.map_coordinates(img, [uv[:, 1] - 0.5, uv[:, 0] - 0.5], order=1)
    np.testing.assert_allclose(got, ref, atol=1e-12)


def test_silhouette_loss_is_zero_for_a_perfect_fit_and_grows_with_a_wrong_distance():
    mesh = _neural(symmetric=False)
    setup = RenderSetup((80.0, 80.0, 20.0, 20.0), 40, 40, 3.0)
    pose = (1.3, 0.3, 0.0)
    feat, fg = _rendered(mesh, pose, setup)
    target = SilhouetteTarget.from_mask(fg)
    scene = _Scene(mesh, InferenceConfig())
    losses = []
    for d in (3.0, 2.4, 3.8):
        cam, _ = scene.camera_vertices(_params(pose, d))
        _, fid = render_features(cam, scene.faces, scene.feats, setup.intrinsics, setup.width, setup.height)
        pts = outline_points(cam, scene.faces)
        losses.append(float(silhouette_loss(pts, setup.intrinsics, target, fid >= 0)))
    assert losses[0] < 0.01
    assert losses[1] > 3 * losses[0] + 0.01 and losses[2] > 3 * losses[0] + 0.01


def test_largest_component_drops_strays():
    m = np.zeros((10, 10), bool)
    m[1:5, 1:5] = True
    m[8, 8] = True
    out = largest_component(m)
    assert out.sum() == 16 and not out[8, 8]


def test_extent_distance_inverts_the_area_law():
    # a disc of radius r at distance d projects to area pi (f r / d)^2
    f, r = 50.0, 0.4
    area = lambda d: np.pi * (f * r / d) ** 2  # noqa: E731
    got = extent_distance(np.array([area(2.0), area(3.0)]), np.array([2.0, 3.0]), area(2.6))
    np.testing.assert_allclose(got, [2.6, 2.6], rtol=1e-12)
    assert extent_distance(np.array([0.0]), np.array([2.0]), 10.0)[0] == 2.0


def test_select_hypotheses_keeps_the_flip_and_spreads_the_rest():
    az = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    cands = np.column_stack([np.repeat(az, 2), np.tile([0.0, 0.5], 12), np.zeros(24), np.full(24, 2.0)])
    losses = np.arange(24, dtype=float)  # best: azimuth 0, elevation 0, then azimuth 0 elevation 0.5, ...
    chosen = select_hypotheses(cands, losses, 4, np.pi / 4)
    assert chosen[0] == 0
    assert cands[chosen[1], 0] == pytest.approx(np.pi) and cands[chosen[1], 1] == 0.0
    gaps = [abs((cands[i, 0] - cands[j, 0] + np.pi) % (2 * np.pi) - np.pi) for i in chosen for j in chosen if i < j]
    assert min(gaps) >= np.pi / 4 - 1e-9 and len(chosen) == 4


# ----------------------------------------------------------------------------------- toy scenes
def _neural(symmetric: bool) -> DeformableNeuralMesh:
    mesh = toy_mesh(subdiv=2)
    v = mesh.vertices.astype(np.float64)
    # symmetric: features blind to the front/back flip (a function of |x|, y, |z|)
    key = np.column_stack([np.abs(v[:, 0]), v[:, 1], np.abs(v[:, 2])]) if symmetric else v
    rng = np.random.default_rng(5)
    base = rng.normal(size=32)
    clutter = base + 0.1 * np.linalg.norm(base) / np.sqrt(32) * rng.normal(size=(8, 32))
    clutter = (clutter / np.linalg.norm(clutter, axis=1, keepdims=True)).astype(np.float32)
    return DeformableNeuralMesh(vertices=mesh.vertices, faces=mesh.faces, features=smooth_features(key, 32, 0),
                                labels=mesh.labels, part_names=mesh.part_names, clutter=clutter, category="toy")


def _params(pose, distance):
    return {"azimuth": torch.tensor(pose[0]), "elevation": torch.tensor(pose[1]), "theta": torch.tensor(pose[2]),
            "distance": torch.tensor(float(distance))}


def _rendered(mesh, pose, setup, distance=None):
    """A feature 'image' of the mesh at ``pose`` (background = the clutter feature) and its mask."""
    scene = _Scene(mesh, InferenceConfig())
    cam, _ = scene.camera_vertices(_params(pose, setup.distance if distance is None else distance))
    rendered, fid = render_features(cam, scene.faces, scene.feats, setup.intrinsics, setup.width, setup.height)
    feat = rendered / rendered.norm(dim=0, keepdim=True).clamp_min(1e-6)
    clu = torch.as_tensor(mesh.clutter_mean())
    clu = clu / clu.norm()
    return torch.where(torch.as_tensor(fid >= 0)[None], feat, clu[:, None, None]).detach(), fid >= 0


def test_foreground_map_finds_the_rendered_object():
    mesh = _neural(symmetric=False)
    setup = RenderSetup((80.0, 80.0, 20.0, 20.0), 40, 40, 3.0)
    feat, fg = _rendered(mesh, (0.7, 0.2, 0.1), setup)
    got = foreground_map(feat, torch.as_tensor(mesh.features), torch.as_tensor(mesh.clutter))
    iou = (got & fg).sum() / (got | fg).sum()
    assert iou > 0.95


def test_distance_from_extent_recovers_a_known_distance_within_5_percent():
    mesh = _neural(symmetric=False)
    pose, true_d = (np.radians(60), np.radians(30), 0.0), 3.4  # a grid pose: only the distance is unknown
    setup = RenderSetup((80.0, 80.0, 20.0, 20.0), 40, 40, 2.5)  # the prior distance is 26 % off
    feat, _ = _rendered(mesh, pose, setup, distance=true_d)
    cfg = InferenceConfig()
    target = silhouette_target(feat, mesh, cfg)
    assert target is not None
    cands, losses = score_initial_poses(mesh, feat, clutter_score_map(feat, mesh), setup, cfg, target)
    best = cands[int(np.argmin(losses))]
    assert abs(best[3] / true_d - 1) < 0.05, f"grid distance {best[3]:.3f} vs {true_d}"
    res = infer(mesh, feat, setup, cfg)
    assert abs(res.distance / true_d - 1) < 0.05, f"fitted distance {res.distance:.3f} vs {true_d}"
    # the old rule (factors of the prior) starts far off
    grid = InferenceConfig(distance_init="grid", w_silhouette=0.0)
    cands_g, losses_g = score_initial_poses(mesh, feat, clutter_score_map(feat, mesh), setup, grid, None)
    assert abs(cands_g[int(np.argmin(losses_g)), 3] / true_d - 1) > 0.05


def test_flip_of_a_feature_symmetric_toy_is_resolved_by_its_silhouette():
    mesh = _neural(symmetric=True)
    setup = RenderSetup((80.0, 80.0, 20.0, 20.0), 40, 40, 3.0)
    pose = (np.pi / 2 + 0.15, 0.25, 0.0)  # a side view: the head (front, on top) sits at one end
    feat, _ = _rendered(mesh, pose, setup)
    cfg = InferenceConfig(part_steps=0)
    res = infer(mesh, feat, setup, cfg)
    assert pose_error((res.azimuth, res.elevation, res.theta), pose) < np.radians(10)
    assert len(res.hypotheses) == 2 and res.flip_margin is not None and res.flip_margin > 0
    flipped = res.hypotheses[1]["pose"]
    assert pose_error(flipped[:3], pose) > np.radians(150)
    # the feature loss alone barely separates the two; the silhouette term does
    scene = _Scene(mesh, cfg)
    target = silhouette_target(feat, mesh, cfg)
    assert target is not None
    sil = []
    for p in (pose, (pose[0] + np.pi, pose[1], pose[2])):
        cam, _ = scene.camera_vertices(_params(p, setup.distance))
        _, fid = render_features(cam, scene.faces, scene.feats, setup.intrinsics, setup.width, setup.height)
        pts = outline_points(cam, scene.faces)
        sil.append(float(silhouette_loss(pts, setup.intrinsics, target, fid >= 0)))
    assert sil[1] > sil[0] + 0.02


def test_extent_distance_is_bounded_when_the_foreground_fills_the_image():
    """A foreground spilling over the whole image would put the camera inside the object; the
    extent distance stops at extent_distance_range x the prior."""
    mesh = _neural(symmetric=False)
    setup = RenderSetup((80.0, 80.0, 20.0, 20.0), 40, 40, 2.5)
    feat, _ = _rendered(mesh, (np.radians(60), np.radians(30), 0.0), setup, distance=2.5)
    full = SilhouetteTarget.from_mask(np.ones((40, 40), bool))
    for lo, hi in ((0.5, 2.0), (0.8, 1.5)):
        cfg = InferenceConfig(extent_distance_range=(lo, hi))
        cands, _ = score_initial_poses(mesh, feat, clutter_score_map(feat, mesh), setup, cfg, full)
        free = replace(cfg, extent_distance_range=(1e-3, 1e3))
        raw, _ = score_initial_poses(mesh, feat, clutter_score_map(feat, mesh), setup, free, full)
        assert raw[:, 3].min() < lo * 2.5  # unbounded, the full-image foreground pulls the camera in
        assert_close(cands[:, 3], np.clip(raw[:, 3], lo * 2.5, hi * 2.5), atol=1e-9)
    with pytest.raises(ConfigError, match="extent_distance_range"):
        InferenceConfig(extent_distance_range=(1.2, 2.0))
