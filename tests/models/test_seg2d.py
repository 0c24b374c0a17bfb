"""2D baseline segmenter: shapes, label convention, it can fit a trivial image."""

from __future__ import annotations

import pytest
import torch

from helpers import assert_close
from partlift.models.seg2d import Seg2DConfig, Seg2DNet

SMALL = (8, 8, 16, 16, 16)


@pytest.fixture(autouse=True)
def one_thread():
    # tiny tensors: a second torch thread only spins on the shared machine
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


@pytest.mark.parametrize("arch", ["cnn", "unet"])
def test_logits_and_predictions_follow_the_mask_convention(arch):
    net = Seg2DNet(Seg2DConfig(num_parts=3, arch=arch, width=4, depth=2, widths=SMALL))
    x = torch.rand(2, 3, 32, 32)
    assert net(x).shape == (2, 4, 32, 32)
    pred = net.predict(x)
    assert pred.shape == (2, 32, 32) and pred.min() >= -1 and pred.max() <= 2


@pytest.mark.parametrize("arch", ["cnn", "unet"])
def test_overfits_a_two_region_image(arch):
    torch.manual_seed(0)
    net = Seg2DNet(Seg2DConfig(num_parts=2, arch=arch, width=8, depth=2, widths=SMALL))
    img = torch.zeros(2, 3, 32, 32)  # two copies: BatchNorm needs more than one value per channel
    img[:, 0, :, 16:] = 1.0  # red right half
    img[:, 2, 8:24, 4:12] = 1.0  # blue square on the left
    labels = torch.full((2, 32, 32), -1)
    labels[:, :, 16:] = 0
    labels[:, 8:24, 4:12] = 1
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(60):
        opt.zero_grad()
        net.loss(img, labels).backward()
        opt.step()
    net.eval()
    acc = (net.predict(img) == labels).float().mean()
    assert acc > 0.95


def test_balanced_weights_are_median_frequency():
    labels = torch.tensor([[-1] * 80 + [0] * 15 + [1] * 5])  # frequencies 0.8, 0.15, 0.05 (class 2 absent)
    w = Seg2DNet.balanced_weights(labels, num_parts=3)
    assert_close(w, torch.tensor([0.15 / 0.8, 1.0, 0.15 / 0.05, 1.0]), atol=1e-6)
