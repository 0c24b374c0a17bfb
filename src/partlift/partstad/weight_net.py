"""PartSTAD's proposal-weight network (``WeightPredNetworkCNe`` with ``--network linear_cn``).

Input per proposal: its feature vector and, by default, a NeRF positional encoding of
[true view direction (3), x1/W, y1/H, x2/W, y2/H] (include input, frequencies 2^0..2^9, sin and cos:
7 + 140 = 147 values). The public code decodes its [x, y, w, h] boxes as [x, y, h, w] and clamps
view directions to >= 0; here boxes are real (x1, y1, x2, y2) and directions are the cameras' own.

    z = Linear(x);  z = (z - mean_P z) / (std_P z + eps)   (context norm over ALL proposals of a shape)
    h = x + ReLU(z);  W(b) = max(tau + Linear(h), 0)

Linear weights start at N(0, 1e-4^2) and biases at 0, so every weight starts at ~tau.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from partlift.partstad.config import WeightNetConfig


def positional_encoding(x: torch.Tensor, num_freqs: int = 10) -> torch.Tensor:
    """NeRF encoding: [x, sin(2^0 x), cos(2^0 x), ..., sin(2^(L-1) x), cos(2^(L-1) x)] per input.

    (..., D) -> (..., D * (1 + 2 L)).
    """
    out = [x]
    for i in range(num_freqs):
        f = 2.0**i
        out += [torch.sin(f * x), torch.cos(f * x)]
    return torch.cat(out, dim=-1)


def proposal_geometry(
    view_dirs: np.ndarray, views: np.ndarray, boxes: np.ndarray, image_size: tuple[int, int]
) -> np.ndarray:
    """(P, 7) float32 [view direction of the proposal's view, x1/W, y1/H, x2/W, y2/H]."""
    h, w = image_size
    d = np.asarray(view_dirs, np.float32)[np.asarray(views, np.int64)] if len(views) else np.zeros((0, 3), np.float32)
    b = np.asarray(boxes, np.float32).reshape(-1, 4) / np.array([w, h, w, h], np.float32)
    return np.concatenate([d.reshape(-1, 3), b], axis=1).astype(np.float32)


class WeightNet(nn.Module):
    """Proposal feature (+ positional encoding of view and box) -> weight W(b) >= 0."""

    def __init__(self, feature_dim: int, config: WeightNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or WeightNetConfig()
        self.feature_dim = int(feature_dim)
        enc = 7 * (1 + 2 * self.config.num_freqs) if self.config.pos_enc else 0
        self.in_dim = self.feature_dim + enc
        self.fc1 = nn.Linear(self.in_dim, self.in_dim)
        self.fc2 = nn.Linear(self.in_dim, 1)
        for layer in (self.fc1, self.fc2):
            nn.init.normal_(layer.weight, 0.0, self.config.init_std)
            nn.init.zeros_(layer.bias)

    def inputs(self, features: torch.Tensor, geometry: torch.Tensor) -> torch.Tensor:
        """(P, in_dim) network input from (P, F) features and (P, 7) geometry."""
        if self.config.pos_enc:
            return torch.cat([features, positional_encoding(geometry, self.config.num_freqs)], dim=1)
        return features

    def raw(self, features: torch.Tensor, geometry: torch.Tensor) -> torch.Tensor:
        """(P,) network output before phi (all proposals of ONE shape, for the context norm)."""
        x = self.inputs(features, geometry)
        if len(x) == 0:
            return x.new_zeros(0)
        z = self.fc1(x)
        z = (z - z.mean(0, keepdim=True)) / (z.std(0, unbiased=False, keepdim=True) + self.config.cn_eps)
        h = x + torch.relu(z)
        return self.fc2(h).squeeze(1)

    def forward(self, features: torch.Tensor, geometry: torch.Tensor) -> torch.Tensor:
        """(P,) weights phi(out) = max(tau + out, 0) of the proposals of ONE shape."""
        return torch.relu(self.config.tau + self.raw(features, geometry))
