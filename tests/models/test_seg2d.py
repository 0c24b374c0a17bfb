"""2D baseline segmenter: shapes, label convention, it can fit a trivial image."""

from __future__ import annotations

import torch

from partlift.models.seg2d import Seg2DConfig, Seg2DNet


def test_logits_and_predictions_follow_the_mask_convention():
    net = Seg2DNet(Seg2DConfig(num_parts=3, width=4, depth=2))
    x = torch.rand(2, 3, 32, 32)
    assert net(x).shape == (2, 4, 32, 32)
    pred = net.predict(x)
    assert pred.shape == (2, 32, 32) and pred.min() >= -1 and pred.max() <= 2


def test_overfits_a_two_region_image():
    torch.manual_seed(0)
    net = Seg2DNet(Seg2DConfig(num_parts=2, width=8, depth=2))
    img = torch.zeros(1, 3, 32, 32)
    img[:, 0, :, 16:] = 1.0  # red right half
    img[:, 2, 8:24, 4:12] = 1.0  # blue square on the left
    labels = torch.full((1, 32, 32), -1)
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
