"""Mesh-to-mesh correspondence: feature interpolation, matching, pretraining, transfer scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import assert_close, assert_refused, write_malicious_checkpoint
from partlift.errors import ReadError
from partlift.experiments.part_transfer import transfer_scores
from partlift.models.pointnet2 import PointNet2Config
from partlift.part321.correspondence import (
    CorrespondenceConfig,
    MeshCorrespondence,
    PretrainConfig,
    interpolate_point_features,
    load_encoder,
    pretrain_pointnet,
    save_encoder,
)
from partlift.shapes.registry import generate

TINY = PointNet2Config(npoints=(32, 8), widths=(16, 32, 64), dim=8)


def test_point_feature_interpolation_matches_loop():
    rng = np.random.default_rng(0)
    verts, pts, feats = rng.random((15, 3)), rng.random((30, 3)), rng.normal(size=(30, 5))
    got = interpolate_point_features(verts, pts, feats, neighbours=4)
    for k in range(15):
        d = np.linalg.norm(pts - verts[k], axis=1)
        nn = np.argsort(d)[:4]
        w = np.exp(1.0 / d[nn] - np.max(1.0 / d[nn]))
        assert_close(got[k], (feats[nn] * (w / w.sum())[:, None]).sum(0), atol=1e-5)


def test_geometric_correspondence_is_identity_on_a_rescaled_copy():
    mesh = generate("hammer", 0)
    other = mesh.copy(vertices=mesh.vertices * 1.7 + 0.3)  # normalisation removes scale and offset
    corr = MeshCorrespondence(CorrespondenceConfig(method="geometric"))
    idx = corr.match(mesh, other)
    assert_close(other.vertices[idx], other.vertices, atol=1e-5)


def test_pointnet_correspondence_matches_a_mesh_to_itself():
    torch.manual_seed(0)
    from partlift.models.pointnet2 import PointNet2Encoder

    enc = PointNet2Encoder(TINY).eval()
    mesh = generate("hammer", 1)
    corr = MeshCorrespondence(CorrespondenceConfig(method="pointnet", num_points=256), enc)
    feats = corr.vertex_features(mesh)
    assert feats.shape == (len(mesh.vertices), 8)
    assert_close(np.linalg.norm(feats, axis=1), np.ones(len(feats)), atol=1e-5)
    idx = corr.match_features(feats, feats)
    # the best match has cosine 1 (itself or a vertex with an identical feature)
    assert_close((feats * feats[idx]).sum(1), np.ones(len(feats)), atol=1e-5)
    with pytest.raises(ValueError):
        MeshCorrespondence(CorrespondenceConfig(method="pointnet"))


def test_transfer_to_itself_is_perfect_and_errors_grow_for_other_shapes():
    tpl = generate("hatchet", 0)
    corr = MeshCorrespondence(CorrespondenceConfig(method="geometric"))
    same = transfer_scores(corr, tpl, [tpl])
    assert same.box_iou == pytest.approx(1.0)
    assert same.corr_error == pytest.approx(0.0, abs=1e-9)
    assert same.label_accuracy == pytest.approx(1.0)
    other = transfer_scores(corr, tpl, [generate("hatchet", 5)])
    assert 0.0 < other.box_iou < 1.0 and other.corr_error > 0


def test_pretraining_runs_resumes_and_round_trips(tmp_path):
    shapes = [generate("hammer", s) for s in range(3)]
    cfg = PretrainConfig(steps=4, batch_size=2, num_points=128, capsules=4, encoder=TINY)
    full = pretrain_pointnet(cfg, shapes)
    assert len(full.history) == 4 and np.isfinite(full.history).all()
    ck = tmp_path / "ck.pt"
    part_cfg = cfg
    res = pretrain_pointnet(part_cfg, shapes, checkpoint=ck)  # writes the final checkpoint
    again = pretrain_pointnet(part_cfg, shapes, checkpoint=ck)  # resumes at the end: no more steps
    assert again.history == res.history
    save_encoder(res.encoder, tmp_path / "enc.pt")
    enc = load_encoder(tmp_path / "enc.pt")
    x = torch.rand(1, 128, 3) - 0.5
    with torch.no_grad():
        assert_close(enc(x)[0], res.encoder(x)[0], atol=1e-6)


def test_encoder_and_pretraining_checkpoints_are_loaded_safely(tmp_path):
    marker = tmp_path / "ran"
    enc = write_malicious_checkpoint(tmp_path / "enc.pt", marker, keys=("config", "state"))
    with pytest.raises(ReadError, match="refused to unpickle.*delete it to pretrain again") as e:
        load_encoder(enc)
    assert_refused(e, enc, marker)
    ck = write_malicious_checkpoint(tmp_path / "ck.pt", marker, keys=("config", "enc"))
    cfg = PretrainConfig(steps=1, batch_size=1, num_points=64, capsules=2, encoder=TINY)
    with pytest.raises(ReadError, match="refused to unpickle") as e:
        pretrain_pointnet(cfg, [generate("hammer", 0)], checkpoint=ck)
    assert_refused(e, ck, marker)
    # an encoder of another size: refused in one line
    res = pretrain_pointnet(cfg, [generate("hammer", 0)])
    save_encoder(res.encoder, tmp_path / "ok.pt")
    st = torch.load(tmp_path / "ok.pt", weights_only=True)
    st["config"]["dim"] = 16
    torch.save(st, tmp_path / "other.pt")
    with pytest.raises(ReadError, match="does not fit this PointNet\\+\\+ encoder") as e:
        load_encoder(tmp_path / "other.pt")
    assert_refused(e, tmp_path / "other.pt")
