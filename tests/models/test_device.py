"""``--device``: resolution, and every torch tensor of a stage created on the requested device.

This machine has no GPU, so the CUDA path runs only where CUDA exists (the last test). Everywhere
else the plumbing is checked by running a stage with torch's *default* device set to ``meta``
(tensors without data): a tensor the stage creates without naming its device would land on
``meta`` and fail the first time it meets real data or is read back, so a run that completes and
reproduces the normal result shows that the requested device reached every tensor.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from partlift.errors import ConfigError
from partlift.models.device import resolve_device

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "partstad"))
from fixtures import toy_table  # noqa: E402


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="--device: unknown device 'tpu'"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="--device: cuda requested but CUDA is not available"):
            resolve_device("cuda")


class _DefaultDevice:
    def __init__(self, dev: str) -> None:
        self.dev = dev

    def __enter__(self):
        self.prev = torch.get_default_device()
        torch.set_default_device(self.dev)

    def __exit__(self, *exc):
        torch.set_default_device(self.prev)


def _partstad_run(device: str):
    from partlift.partstad.config import LearnedProposerConfig, PartSTADConfig, TrainConfig, ViewConfig
    from partlift.partstad.model import PartSTAD

    tables = [toy_table(300, seed=i, name=f"t{i}") for i in range(4)]
    cfg = PartSTADConfig(views=ViewConfig(image_size=32), learned=LearnedProposerConfig(steps=3, train_views=2),
                         train=TrainConfig(epochs=2))
    model = PartSTAD(cfg, device=device).fit(tables[:2], tables[2:3])
    pred = model.predict(tables[3])
    return model, pred


def test_partstad_creates_every_tensor_on_its_device():
    ref_model, ref = _partstad_run("cpu")
    with _DefaultDevice("meta"):
        model, pred = _partstad_run("cpu")
    assert model.null.device.type == "cpu" and all(p.device.type == "cpu" for p in model.net.parameters())
    assert all(p.device.type == "cpu" for p in model.proposer.net.parameters())
    np.testing.assert_array_equal(pred.semantic, ref.semantic)
    np.testing.assert_array_equal(pred.instances.ids, ref.instances.ids)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_partstad_on_cuda_matches_cpu():
    _, ref = _partstad_run("cpu")
    model, pred = _partstad_run("cuda")
    assert model.null.device.type == "cuda"
    assert (pred.semantic == ref.semantic).mean() > 0.95  # float reductions differ slightly on the GPU


def _part321_run(device: str):
    from partlift.part321.correspondence import CorrespondenceConfig
    from partlift.part321.data import normalise_mesh
    from partlift.part321.data import synthesize_training_images as synth
    from partlift.part321.deformation import DeformationConfig
    from partlift.part321.feature_training import FeatureTrainingConfig
    from partlift.part321.inference import InferenceConfig
    from partlift.part321.model import Part321, Part321Config
    from partlift.shapes import generate

    template = normalise_mesh(generate("hammer", 0))
    meshes = [normalise_mesh(generate("hammer", s)) for s in (1, 2)]
    images = synth(template, meshes, 2, 2, 64, 0)
    cfg = Part321Config(correspondence=CorrespondenceConfig(method="geometric"),
                        deformation=DeformationConfig(steps=5), training=FeatureTrainingConfig(epochs=1),
                        inference=InferenceConfig(pose_steps=3, part_steps=3, elevation_samples=2,
                                                  azimuth_samples=4, theta_samples=1, distance_factors=(1.0,)))
    model = Part321(cfg, device=device).fit(template, meshes, images)
    pred = model.predict(images[0].image, images[0].camera)
    return model, pred


def test_part321_creates_every_tensor_on_its_device():
    _, ref = _part321_run("cpu")
    with _DefaultDevice("meta"):
        model, pred = _part321_run("cpu")
    assert all(p.device.type == "cpu" for p in model.net.parameters())
    np.testing.assert_allclose(pred.vertices, ref.vertices, atol=1e-5)
    np.testing.assert_array_equal(pred.mask, ref.mask)


def test_device_scope_skips_the_context_only_when_it_changes_nothing():
    import contextlib

    from partlift.models.device import device_scope

    assert isinstance(device_scope("cpu"), contextlib.nullcontext)  # tensors already default to the CPU
    with _DefaultDevice("meta"):
        scope = device_scope("cpu")
        assert isinstance(scope, torch.device)
        with scope:
            assert torch.zeros(1).device.type == "cpu"
