"""Deformation network (Eq. 2-3) and the neural mesh container."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from part321_fixtures import toy_mesh

from helpers import assert_close
from partlift.part321.deformation import DeformationConfig, Deformer, face_adjacency, normal_consistency
from partlift.part321.neural_mesh import DeformableNeuralMesh


def test_face_adjacency_matches_brute_force():
    mesh = toy_mesh(subdiv=0)
    got = {tuple(sorted(p)) for p in face_adjacency(mesh.faces).tolist()}
    expected = set()
    f = mesh.faces
    for i in range(len(f)):
        for j in range(i + 1, len(f)):
            if len(set(f[i]) & set(f[j])) == 2:
                expected.add((i, j))
    assert got == expected


def test_normal_consistency_zero_on_a_plane_and_one_minus_cos_on_a_fold():
    v = torch.tensor([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=torch.float64)
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])
    adj = torch.as_tensor(face_adjacency(faces.numpy()))
    assert float(normal_consistency(v, faces, adj)) == pytest.approx(0.0, abs=1e-12)
    folded = v.clone()
    folded[3, 2] = 1.0  # lift one corner: the second face's normal becomes (1, -1, 1) / sqrt(3)
    assert float(normal_consistency(folded, faces, adj)) == pytest.approx(1 - 1 / np.sqrt(3), abs=1e-9)


def _fitted(steps=400):
    tpl = toy_mesh(subdiv=1)
    targets = [toy_mesh(subdiv=1, stretch=s).vertices for s in (1.25, 0.8)]
    cfg = DeformationConfig(steps=steps, hidden=64, layers=3, meshes_per_step=3, normal_weight=0.0)
    return tpl, targets, Deformer(cfg).fit(tpl.vertices, tpl.faces, targets)


def test_deformer_reaches_the_training_shapes_and_keeps_the_template():
    tpl, targets, deformer = _fitted()
    assert deformer.latent_dim == 3
    eye = np.eye(3, dtype=np.float32)
    rest = deformer.predict(tpl.vertices, eye[0])
    assert np.abs(rest - tpl.vertices).mean() < 0.01
    for y, tgt in enumerate(targets, start=1):
        before = np.abs(tpl.vertices - tgt).mean()
        after = np.abs(deformer.predict(tpl.vertices, eye[y]) - tgt).mean()
        assert after < 0.25 * before, f"shape {y}: {after:.4f} vs {before:.4f}"


def test_deformation_is_differentiable_in_the_latents():
    tpl, _, deformer = _fitted(steps=5)
    net = deformer.net.double()
    v = torch.as_tensor(tpl.vertices[:6], dtype=torch.float64)
    z = torch.tensor([[0.5, 0.3, 0.2]], dtype=torch.float64).expand(6, -1).clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda zz: net(v, zz), (z,), eps=1e-6, atol=1e-6)


def test_neural_mesh_save_load_round_trip(tmp_path):
    tpl, _, deformer = _fitted(steps=5)
    nm = DeformableNeuralMesh.from_template(tpl, feature_dim=8, deformer=deformer,
                                            shape_names=("template", "a", "b"), seed=3)
    nm.clutter = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    nm.save(tmp_path / "nm.pt")
    back = DeformableNeuralMesh.load(tmp_path / "nm.pt")
    for name in ("vertices", "faces", "features", "labels", "latents", "clutter"):
        assert_close(getattr(back, name), getattr(nm, name), atol=0, msg=name)
    assert back.part_names == nm.part_names and back.shape_names == nm.shape_names
    z = np.eye(3, dtype=np.float32)[2]
    assert_close(back.deformed_vertices(np.tile(z, (len(tpl.vertices), 1))),
                 nm.deformed_vertices(np.tile(z, (len(tpl.vertices), 1))), atol=1e-6)
    assert_close(np.linalg.norm(nm.features, axis=1), np.ones(len(nm.features)), atol=1e-5)
