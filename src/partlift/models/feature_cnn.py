"""Image feature extractor Phi for mesh-to-image correspondence (Part321 section 4.3, NeMo's role).

A small U-Net-like CNN trained from scratch: an encoder down to stride 32 and a decoder with skip
connections back up to the output stride (4 or 8), then a 1x1 head to ``dim`` channels,
L2-normalised per pixel as in NeMo. Input: (B, 3, H, W) float RGB in [0, 1], normalised inside with
the ImageNet mean / std (NeMo's preprocessing). H and W must be multiples of 32.

Output cell (i, j) of a stride-s map covers image pixels [s*j, s*(j+1)) x [s*i, s*(i+1)), i.e. its
centre is the centre of that block: the same camera resized by 1/s (``Camera.resized``) addresses it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from partlift.validation import bounded, validate_config

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class FeatureCNNConfig:
    """Architecture of :class:`FeatureCNN`."""

    dim: int = bounded(64, ge=1)
    """Output feature dimension (NeMo: 128; 64 keeps CPU inference fast)."""
    stride: Literal[4, 8] = 4
    """Output stride, 4 or 8."""
    widths: tuple[int, ...] = bounded((32, 48, 64, 96, 128), ge=1)
    """Encoder channels at strides 2, 4, 8, 16, 32."""

    def __post_init__(self) -> None:
        validate_config(self)


def _double_conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class FeatureCNN(nn.Module):
    """``forward(images (B, 3, H, W) in [0, 1]) -> (B, dim, H / stride, W / stride)`` unit features."""

    mean: torch.Tensor  # buffers
    std: torch.Tensor

    def __init__(self, config: FeatureCNNConfig = FeatureCNNConfig()) -> None:
        super().__init__()
        if config.stride not in (4, 8):
            raise ValueError(f"FeatureCNN stride must be 4 or 8, got {config.stride}")
        if len(config.widths) != 5:
            raise ValueError("FeatureCNN needs 5 encoder widths (strides 2, 4, 8, 16, 32)")
        self.config = config
        self.stride = config.stride
        self.dim = config.dim
        w = config.widths
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.down = nn.ModuleList(
            [_double_conv(3, w[0], 2)] + [_double_conv(w[i - 1], w[i], 2) for i in range(1, 5)]
        )
        # decoder from stride 32 up to the output stride: levels 3 (s16), 2 (s8) [, 1 (s4)]
        self.levels = [3, 2] + ([1] if config.stride == 4 else [])
        ups = []
        cin = w[4]
        for lvl in self.levels:
            ups.append(_double_conv(cin + w[lvl], w[lvl]))
            cin = w[lvl]
        self.up = nn.ModuleList(ups)
        self.head = nn.Conv2d(cin, config.dim, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.decode(images), dim=1)

    def decode(self, images: torch.Tensor) -> torch.Tensor:
        """(B, dim, H / stride, W / stride) head output before the L2 normalisation."""
        if images.shape[-1] % 32 or images.shape[-2] % 32:
            raise ValueError(f"FeatureCNN needs image sides that are multiples of 32, got {tuple(images.shape[-2:])}")
        x = (images - self.mean) / self.std
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        for lvl, block in zip(self.levels, self.up, strict=True):
            skip = skips[lvl]
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return self.head(x)

    def describe(self) -> dict:
        return {"kind": "cnn", **asdict(self.config)}
