"""The compact CNN part segmenter behind PartSTAD's ``learned`` proposer.

Architecture: a strided 3x3 stem halves the resolution, a :class:`~partlift.models.unet.UNet`
runs at half resolution, its decoder features are upsampled back and refined together with the
input by one full-resolution 3x3 convolution (about 3x cheaper than a full-resolution U-Net, which
matters on a CPU). Two heads:

- semantic logits over ``num_parts + 2`` classes: 0 = background, 1 = object but no part,
  2 + c = part c;
- one instance-boundary logit: pixels where two different part instances meet (used to split
  touching instances of the same part into separate proposals).

It also returns the full-resolution features and the U-Net bottleneck, from which the proposer
pools a feature vector per proposal (what GLIP's box feature is in the paper).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from partlift.models.unet import UNet, _groups

BACKGROUND, OBJECT = 0, 1


@dataclass
class ProposalNetOutput:
    """Network outputs for a batch of B images of H x W pixels.

    Attributes:
        semantic: (B, num_parts + 2, H, W) logits.
        boundary: (B, H, W) instance-boundary logits.
        features: (B, width, H, W) full-resolution features.
        bottleneck: (B, width * 2**(depth-1), h, w) coarse features.
    """

    semantic: torch.Tensor
    boundary: torch.Tensor
    features: torch.Tensor
    bottleneck: torch.Tensor


class ProposalNet(nn.Module):
    """Part segmenter with a boundary head.

    Args:
        num_parts: number of part labels of the category.
        width: channels of the stem and the first U-Net level.
        depth: U-Net levels.
        extra_channels: input channels after RGB (e.g. rendered normals and depth).
    """

    def __init__(self, num_parts: int, width: int = 16, depth: int = 4, extra_channels: int = 0) -> None:
        super().__init__()
        if num_parts < 1:
            raise ValueError(f"ProposalNet needs at least one part, got {num_parts}")
        self.num_parts, self.width, self.depth = int(num_parts), int(width), int(depth)
        self.extra_channels = int(extra_channels)
        cin = 3 + self.extra_channels
        self.stem = nn.Sequential(
            nn.Conv2d(cin, width, 3, stride=2, padding=1, bias=False),
            nn.GroupNorm(_groups(width), width),
            nn.ReLU(True),
        )
        self.unet = UNet(width, width, width, depth)
        self.refine = nn.Sequential(
            nn.Conv2d(width + cin, width, 3, padding=1, bias=False), nn.GroupNorm(_groups(width), width), nn.ReLU(True)
        )
        self.head = nn.Conv2d(width, num_parts + 3, 1)

    @property
    def num_classes(self) -> int:
        return self.num_parts + 2

    @property
    def bottleneck_channels(self) -> int:
        return self.width * 2 ** (self.depth - 1)

    def forward(self, images: torch.Tensor) -> ProposalNetOutput:
        """``images``: (B, 3 + extra_channels, H, W) float; RGB in [0, 1] first."""
        x = torch.cat([images[:, :3] - 0.5, images[:, 3:]], dim=1)
        h, w = x.shape[-2:]
        _, feats, bottleneck = self.unet.forward_all(self.stem(x))  # the U-Net head: a 1x1 feature mix
        up = F.interpolate(feats, size=(h, w), mode="bilinear", align_corners=False)
        full = self.refine(torch.cat([up, x], dim=1))
        logits = self.head(full)
        return ProposalNetOutput(logits[:, : self.num_classes], logits[:, self.num_classes], full, bottleneck)
