"""The generic U-Net: shapes for any input size, padding invariance, and that it can learn."""

from __future__ import annotations

import pytest
import torch

from helpers import assert_close
from partlift.models.unet import UNet


@pytest.mark.parametrize("size,depth", [((16, 16), 3), ((17, 23), 3), ((9, 5), 1), ((30, 30), 4)])
def test_output_shapes(size, depth):
    torch.manual_seed(0)
    net = UNet(in_channels=2, out_channels=5, width=4, depth=depth)
    f, y = net(torch.randn(3, 2, *size))
    assert f.shape == (3, 4, *size) and y.shape == (3, 5, *size)
    f2, y2, b = net.forward_all(torch.randn(1, 2, *size))
    assert b.shape[1] == 4 * 2 ** (depth - 1)


def test_batch_independence_and_determinism():
    torch.manual_seed(0)
    net = UNet(3, 2, width=4, depth=3).eval()
    x = torch.randn(4, 3, 20, 20)
    _, y = net(x)
    _, y1 = net(x[1:2])
    assert_close(y[1:2], y1, atol=1e-5, msg="GroupNorm: no batch coupling")


def test_rejects_bad_config():
    with pytest.raises(ValueError):
        UNet(depth=0)


def test_learns_a_toy_segmentation():
    """Foreground of random squares: the U-Net must fit it (loss and pixel accuracy)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: one thread is much faster on a shared machine
    try:
        _fit_squares()
    finally:
        torch.set_num_threads(threads)


def _fit_squares():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    net = UNet(1, 2, width=8, depth=2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)

    def batch():
        x = torch.rand(8, 1, 16, 16, generator=gen) * 0.3
        y = torch.zeros(8, 16, 16, dtype=torch.long)
        for i in range(8):
            r, c = torch.randint(0, 10, (2,), generator=gen).tolist()
            x[i, 0, r : r + 6, c : c + 6] += 0.6
            y[i, r : r + 6, c : c + 6] = 1
        return x, y

    for _ in range(60):
        x, y = batch()
        loss = torch.nn.functional.cross_entropy(net(x)[1], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y = batch()
    acc = (net(x)[1].argmax(1) == y).float().mean()
    assert acc > 0.97
