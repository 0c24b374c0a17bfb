"""Feature extractor Phi: output geometry, normalisation, errors."""

from __future__ import annotations

import pytest
import torch

from helpers import assert_close
from partlift.models.feature_cnn import FeatureCNN, FeatureCNNConfig


@pytest.fixture(autouse=True)
def one_thread():
    # tiny tensors: a second torch thread only spins on the shared machine
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)

SMALL = (8, 8, 16, 16, 16)


@pytest.mark.parametrize("stride", [4, 8])
def test_output_shape_and_unit_norm(stride):
    net = FeatureCNN(FeatureCNNConfig(dim=12, stride=stride, widths=SMALL)).eval()
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        y = net(x)
    assert y.shape == (2, 12, 64 // stride, 96 // stride)
    assert_close(y.norm(dim=1), torch.ones(2, 64 // stride, 96 // stride), atol=1e-5)


def test_batch_items_are_independent_in_eval_mode():
    net = FeatureCNN(FeatureCNNConfig(dim=8, widths=SMALL)).eval()
    x = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        together = net(x)
        alone = torch.cat([net(x[i : i + 1]) for i in range(3)])
    assert_close(together, alone, atol=1e-5)


def test_gradients_reach_the_first_layer():
    net = FeatureCNN(FeatureCNNConfig(dim=8, widths=SMALL))
    net(torch.rand(2, 3, 32, 32))[:, 0].sum().backward()
    assert net.down[0][0].weight.grad.abs().sum() > 0


def test_rejects_bad_sizes_and_strides():
    with pytest.raises(ValueError, match="multiples of 32"):
        FeatureCNN(FeatureCNNConfig(dim=8, widths=SMALL))(torch.rand(1, 3, 40, 32))
    with pytest.raises(ValueError, match="stride"):
        FeatureCNN(FeatureCNNConfig(stride=2))
