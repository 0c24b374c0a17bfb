"""A Table 4-style 2D part-segmentation baseline: a U-Net predicting per-pixel part labels.

Classes are the part labels plus background (class 0 = background, class k + 1 = part k), trained
with pixel-wise cross-entropy. ``predict`` returns (B, H, W) labels with -1 for background, the
partlift mask convention (docs/CONVENTIONS.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from partlift.models.feature_cnn import IMAGENET_MEAN, IMAGENET_STD
from partlift.models.unet import UNet


@dataclass(frozen=True)
class Seg2DConfig:
    """Architecture of :class:`Seg2DNet`."""

    num_parts: int = 1
    """Number of part labels (the network predicts num_parts + 1 classes with the background)."""
    width: int = 16
    """Channels of the first U-Net level (doubled per level)."""
    depth: int = 4
    """U-Net levels."""


class Seg2DNet(nn.Module):
    """``forward(images (B, 3, H, W) in [0, 1]) -> (B, num_parts + 1, H, W)`` logits."""

    def __init__(self, config: Seg2DConfig) -> None:
        super().__init__()
        self.config = config
        self.unet = UNet(3, config.num_parts + 1, config.width, config.depth)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        _, logits = self.unet((images - self.mean) / self.std)
        return logits

    def loss(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy against (B, H, W) labels (-1 = background); pixels labelled < -1 are ignored."""
        target = labels.long() + 1
        return F.cross_entropy(self(images), target, ignore_index=-1)

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """(B, H, W) int64 part labels, -1 = background."""
        return self(images).argmax(1) - 1

    def describe(self) -> dict:
        return asdict(self.config)
