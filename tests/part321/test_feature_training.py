"""Contrastive mesh-to-image training: loss against a loop reference, data preparation, resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from part321_fixtures import toy_mesh

from helpers import assert_close, assert_refused, write_malicious_checkpoint
from partlift.errors import ReadError
from partlift.models.feature_cnn import FeatureCNN, FeatureCNNConfig
from partlift.part321.feature_training import (
    FeatureTrainingConfig,
    TrainingView,
    _prepare,
    flip_partners,
    train_features,
)
from partlift.part321.losses import contrastive_loss
from partlift.part321.neural_mesh import DeformableNeuralMesh
from partlift.render.camera import Camera
from partlift.render.shading import render_mesh

SMALL = (8, 8, 16, 16, 16)


def test_contrastive_loss_matches_loop():
    rng = np.random.default_rng(0)
    feats, bank, clutter = rng.normal(size=(4, 6)), rng.normal(size=(7, 6)), rng.normal(size=(3, 6))
    targets = np.array([0, 3, 3, 6])
    exclude = rng.random((4, 7)) < 0.3
    exclude[np.arange(4), targets] = False
    t, wn = 0.07, 5e-3
    expected = 0.0
    for i in range(4):
        num = np.exp(feats[i] @ bank[targets[i]] / t)
        den = sum(np.exp(feats[i] @ bank[k] / t) for k in range(7) if not exclude[i, k])
        den += sum(wn * np.exp(feats[i] @ c / t) for c in clutter)
        expected += -np.log(num / den) / 4
    got = contrastive_loss(*(torch.as_tensor(x) for x in (feats, targets, bank, clutter, exclude)), t, wn)
    assert float(got) == pytest.approx(expected, rel=1e-9)


def test_contrastive_loss_weights_the_hard_negatives_like_a_loop():
    rng = np.random.default_rng(1)
    feats, bank, clutter = rng.normal(size=(5, 6)), rng.normal(size=(8, 6)), rng.normal(size=(3, 6))
    targets = np.array([0, 3, 3, 6, 7])
    hard = np.array([4, -1, 0, 2, 1])
    exclude = rng.random((5, 8)) < 0.2
    exclude[np.arange(5), targets] = False
    exclude[np.arange(5), np.maximum(hard, 0)] = False
    t, wn, wh = 0.07, 5e-3, 12.0
    expected = 0.0
    for i in range(5):
        num = np.exp(feats[i] @ bank[targets[i]] / t)
        den = sum((wh if k == hard[i] else 1.0) * np.exp(feats[i] @ bank[k] / t) for k in range(8) if not exclude[i, k])
        den += sum(wn * np.exp(feats[i] @ c / t) for c in clutter)
        expected += -np.log(num / den) / 5
    args = [torch.as_tensor(x) for x in (feats, targets, bank, clutter, exclude)]
    got = contrastive_loss(*args, t, wn, torch.as_tensor(hard), wh)
    assert float(got) == pytest.approx(expected, rel=1e-9)
    plain = contrastive_loss(*args, t, wn)
    assert float(contrastive_loss(*args, t, wn, torch.as_tensor(hard), 1.0)) == float(plain)
    assert float(got) > float(plain)  # a heavier negative can only raise the loss


def test_flip_partners_match_a_brute_force_search():
    v = np.random.default_rng(2).uniform(-0.5, 0.5, size=(300, 3))
    got = flip_partners(v, 0.05)
    for k in range(len(v)):
        turned = v[k] * [-1.0, 1.0, -1.0]
        j = int(np.argmin(np.linalg.norm(v - turned, axis=1)))
        assert got[k] == (j if np.linalg.norm(v[j] - v[k]) > 0.05 else -1)
    # a mesh symmetric under the half turn maps onto itself, and the pairing is an involution
    sym = np.concatenate([v, v * [-1.0, 1.0, -1.0]])
    p = flip_partners(sym, 0.0)
    assert np.array_equal(p, np.r_[np.arange(300, 600), np.arange(300)])


def _views(n, seed, size=64, focal=90.0, dist=3.0):
    mesh = toy_mesh(subdiv=1)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        cam = Camera.from_pose(azimuth=rng.uniform(0, 2 * np.pi), elevation=rng.uniform(-0.3, 0.9), distance=dist,
                               focal=focal, width=size, height=size)
        bg = rng.integers(0, 255, size=(size, size, 3)).astype(np.uint8)
        r = render_mesh(mesh, cam, color_by="uniform", background=bg)
        out.append(TrainingView(r.rgb[0], cam, mesh.vertices, r.depth[0]))
    return mesh, out


def test_prepare_projects_visible_vertices_to_their_cells():
    mesh, views = _views(1, 0)
    v = views[0]
    prep = _prepare(v, 4, FeatureTrainingConfig())
    assert len(prep.visible) > 10
    uv, z = v.camera.project(mesh.vertices[prep.visible])
    # every kept vertex is on the visible surface: its depth matches the depth map at its pixel
    i, j = np.floor(uv[:, 1]).astype(int), np.floor(uv[:, 0]).astype(int)
    assert np.all(np.abs(v.depth[i, j] - z) <= 0.011 * v.depth[i, j])
    # the far side of the object is not visible: vertices whose normal faces away are mostly dropped
    cells = (i // 4) * 16 + (j // 4)
    assert_close(prep.cells, cells, atol=0)
    # background cells contain no object pixel
    obj = np.isfinite(v.depth).reshape(16, 4, 16, 4).any(axis=(1, 3)).reshape(-1)
    assert not obj[prep.background].any()
    assert len(prep.background) > 0


def _train(views, mesh, cfg, **kw):
    torch.manual_seed(0)
    net = FeatureCNN(FeatureCNNConfig(dim=8, widths=SMALL))
    nm = DeformableNeuralMesh.from_template(mesh, feature_dim=8, seed=0)
    state = train_features(net, nm, views, cfg, **kw)
    return net, nm, state


def test_training_lowers_the_loss_and_keeps_unit_features():
    mesh, views = _views(12, 1)
    cfg = FeatureTrainingConfig(epochs=6, batch_size=4, lr=3e-3)
    _, nm, state = _train(views, mesh, cfg)
    assert state.epoch_losses[-1] < state.epoch_losses[0]
    assert_close(np.linalg.norm(nm.features, axis=1), np.ones(len(nm.features)), atol=1e-5)
    assert nm.clutter.shape == (cfg.clutter_size, 8)


def test_resumed_training_equals_uninterrupted(tmp_path):
    mesh, views = _views(6, 2)
    cfg = FeatureTrainingConfig(epochs=3, batch_size=3)
    net_a, nm_a, _ = _train(views, mesh, cfg)
    ck = tmp_path / "ck.pt"
    _train(views, mesh, cfg, checkpoint=ck, stop_after=1)
    net_b, nm_b, state_b = _train(views, mesh, cfg, checkpoint=ck)
    assert len(state_b.epoch_losses) == 3
    assert_close(nm_b.features, nm_a.features, atol=1e-5)
    for pa, pb in zip(net_a.parameters(), net_b.parameters(), strict=True):
        assert_close(pb, pa, atol=1e-5)


def test_resume_checkpoint_is_loaded_safely(tmp_path):
    mesh, views = _views(2, 3)
    cfg = FeatureTrainingConfig(epochs=1, batch_size=2)
    marker = tmp_path / "ran"
    ck = write_malicious_checkpoint(tmp_path / "ck.pt", marker, keys=("config", "net"))
    with pytest.raises(ReadError, match="refused to unpickle.*delete it to train from the start") as e:
        _train(views, mesh, cfg, checkpoint=ck)
    assert_refused(e, ck, marker)
    ck.write_bytes(b"")
    with pytest.raises(ReadError, match="empty") as e:
        _train(views, mesh, cfg, checkpoint=ck)
    assert_refused(e, ck)


def test_geometric_augmentation_moves_vertices_with_the_image():
    from partlift.part321.feature_training import _geometric_augment

    _, views = _views(3, 3)
    cfg = FeatureTrainingConfig(scale_jitter=0.3, shift_jitter=0.15)
    prepared = [_prepare(v, 4, cfg) for v in views]
    rng = np.random.default_rng(0)
    for _ in range(3):
        imgs, geo = _geometric_augment(prepared, 4, cfg, rng)
        assert imgs.shape == (3, 3, 64, 64)
        for visible, cells, background in geo:
            assert len(visible) > 0
            # projected visible vertices land on object cells of the warped mask (silhouette
            # vertices may fall just outside a nearest-neighbour-resampled mask)
            assert np.isin(cells, background).mean() < 0.1
    # a pure shift by exactly two cells to the right and one down moves every vertex cell the same way

    class Fixed:
        def __init__(self):
            self.calls = 0

        def random(self, size=None):
            self.calls += 1
            if self.calls == 1:  # scales: 1 + 0.3 * (2 * 0.5 - 1) = 1
                return np.full(size, 0.5)
            # shifts: 0.15 * (2 r - 1) * 64 = (8, 4) pixels
            return np.tile([(8 / (0.15 * 64) + 1) / 2, (4 / (0.15 * 64) + 1) / 2], (size[0], 1))

    _, geo = _geometric_augment(prepared, 4, cfg, Fixed())
    for p, (visible, cells, _) in zip(prepared, geo, strict=True):
        moved = p.cells + 2 + 16
        inside = np.isin(p.visible, visible)
        assert_close(cells, moved[inside], atol=0)
    # no jitter: identical to the prepared cells
    still = FeatureTrainingConfig(scale_jitter=0.0, shift_jitter=0.0)
    _, geo = _geometric_augment(prepared, 4, still, rng)
    for p, (visible, cells, background) in zip(prepared, geo, strict=True):
        assert_close(visible, p.visible, atol=0)
        assert_close(cells, p.cells, atol=0)
        assert_close(background, p.background, atol=0)


def test_flip_negative_weight_reaches_the_training_loss():
    mesh, views = _views(4, 3)
    cfg = FeatureTrainingConfig(epochs=1, batch_size=4, augment=False, flip_negative_weight=1.0)  # Eq. 6
    _, _, plain = _train(views, mesh, cfg)
    _, _, again = _train(views, mesh, cfg)
    _, _, heavy = _train(views, mesh, FeatureTrainingConfig(epochs=1, batch_size=4, augment=False,
                                                            flip_negative_weight=20.0))
    assert again.epoch_losses == plain.epoch_losses  # same seed, same loss: the difference is the weight
    assert heavy.epoch_losses[0] > plain.epoch_losses[0]
