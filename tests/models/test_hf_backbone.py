"""Optional transformers backbone: a tiny random DINOv2 saved and loaded offline."""

from __future__ import annotations

import pytest
import torch

from helpers import assert_close
from partlift.errors import ReadError

transformers = pytest.importorskip("transformers")


@pytest.fixture(autouse=True)
def one_thread():
    # tiny tensors: a second torch thread only spins on the shared machine
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


@pytest.fixture(scope="module")
def tiny_dinov2(tmp_path_factory):
    cfg = transformers.Dinov2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                    intermediate_size=64, patch_size=8, image_size=64)
    path = tmp_path_factory.mktemp("dinov2")
    transformers.Dinov2Model(cfg).save_pretrained(path)
    return path


def test_backbone_maps_to_unit_features_at_the_stride(tiny_dinov2):
    from partlift.models.hf_backbone import HFBackbone

    net = HFBackbone(tiny_dinov2, dim=12, stride=4).eval()
    y = net(torch.rand(2, 3, 64, 64))
    assert y.shape == (2, 12, 16, 16)
    assert_close(y.norm(dim=1), torch.ones(2, 16, 16), atol=1e-5)
    y.sum().backward()
    assert net.head[0].weight.grad is not None
    assert all(p.grad is None for p in net.model.parameters()), "a frozen backbone gets no gradient"


def test_missing_folder_is_a_clear_error(tmp_path):
    from partlift.models.hf_backbone import HFBackbone

    with pytest.raises(ReadError, match="not found"):
        HFBackbone(tmp_path / "nope")
