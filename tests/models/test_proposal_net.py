"""ProposalNet heads and shapes."""

from __future__ import annotations

import pytest
import torch

from partlift.models.proposal_net import ProposalNet


def test_heads_and_shapes():
    torch.manual_seed(0)
    net = ProposalNet(num_parts=3, width=4, depth=2, extra_channels=5)
    out = net(torch.rand(2, 8, 24, 18))
    assert out.semantic.shape == (2, 5, 24, 18)
    assert out.boundary.shape == (2, 24, 18)
    assert out.features.shape == (2, 4, 24, 18)
    assert out.bottleneck.shape[1] == net.bottleneck_channels == 8
    (out.semantic.sum() + out.boundary.sum()).backward()
    assert all(p.grad is not None for p in net.parameters())


def test_needs_parts():
    with pytest.raises(ValueError):
        ProposalNet(0)
