"""PointNet++ building blocks against slow loop references."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import assert_close
from partlift.models.pointnet2 import (
    CapsuleAtlasDecoder,
    PointNet2Config,
    PointNet2Encoder,
    ball_query,
    farthest_point_sample,
    three_nn_interpolate,
)


@pytest.fixture(autouse=True)
def one_thread():
    # tiny tensors: a second torch thread only spins on the shared machine
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


def _fps_reference(p, m, start=0):
    chosen = [start]
    dist = np.full(len(p), np.inf)
    for _ in range(m - 1):
        dist = np.minimum(dist, ((p - p[chosen[-1]]) ** 2).sum(1))
        chosen.append(int(np.argmax(dist)))
    return chosen


def test_farthest_point_sampling_matches_loop():
    rng = np.random.default_rng(0)
    pts = rng.random((3, 200, 3))
    got = farthest_point_sample(torch.as_tensor(pts), 17)
    for b in range(3):
        assert got[b].tolist() == _fps_reference(pts[b], 17)


def test_ball_query_matches_loop():
    rng = np.random.default_rng(1)
    pts = rng.random((2, 150, 3))
    centers_idx = [0, 5, 77, 149]
    centers = pts[:, centers_idx]
    got = ball_query(0.2, 8, torch.as_tensor(pts), torch.as_tensor(centers)).numpy()
    for b in range(2):
        for s in range(len(centers_idx)):
            inside = [i for i in range(150) if ((pts[b, i] - centers[b, s]) ** 2).sum() <= 0.04][:8]
            expected = inside + [inside[0]] * (8 - len(inside))
            assert got[b, s].tolist() == expected


def test_three_nn_interpolation_matches_loop():
    rng = np.random.default_rng(2)
    xyz, src, feats = rng.random((1, 20, 3)), rng.random((1, 9, 3)), rng.normal(size=(1, 9, 4))
    got = three_nn_interpolate(*(torch.as_tensor(x) for x in (xyz, src, feats)))[0].numpy()
    for i in range(20):
        d = ((src[0] - xyz[0, i]) ** 2).sum(1)
        nn = np.argsort(d)[:3]
        w = 1.0 / (d[nn] + 1e-8)
        assert_close(got[i], (feats[0, nn] * (w / w.sum())[:, None]).sum(0), atol=1e-9)


def test_encoder_and_decoder_shapes_and_gradients():
    cfg = PointNet2Config(npoints=(32, 8), widths=(16, 32, 64), dim=12)
    enc = PointNet2Encoder(cfg)
    dec = CapsuleAtlasDecoder(12, 64, capsules=4, hidden=16)
    xyz = torch.rand(2, 128, 3) - 0.5
    feats, glob = enc(xyz)
    assert feats.shape == (2, 128, 12) and glob.shape == (2, 64)
    recon, att, centers = dec(xyz, feats, glob, torch.rand(2, 4, 10, 2))
    assert recon.shape == (2, 40, 3) and att.shape == (2, 128, 4) and centers.shape == (2, 4, 3)
    assert_close(att.sum(-1), torch.ones(2, 128), atol=1e-6)
    recon.sum().backward()
    assert enc.sa1.mlp[0].weight.grad.abs().sum() > 0
