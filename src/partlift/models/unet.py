"""A small generic U-Net: configurable input/output channels, width and depth.

Encoder: ``depth`` levels of (3x3 conv -> GroupNorm -> ReLU) x 2, max-pool 2 between levels,
channels ``width * 2**level``. Decoder: bilinear 2x upsampling, concatenation with the skip, the
same double conv. ``forward`` returns the full-resolution decoder features (``width`` channels)
and the logits of a 1x1 convolution on them. Inputs of any size work: they are padded to a
multiple of ``2**(depth - 1)`` and the outputs cropped back.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _groups(channels: int) -> int:
    for g in (8, 4, 2):
        if channels % g == 0:
            return g
    return 1


class DoubleConv(nn.Module):
    """(3x3 conv -> GroupNorm -> ReLU) x 2."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False),
            nn.GroupNorm(_groups(cout), cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.GroupNorm(_groups(cout), cout),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class UNet(nn.Module):
    """U-Net returning (features, logits).

    Args:
        in_channels: input channels (3 for RGB).
        out_channels: channels of the logits.
        width: channels of the first level (doubled per level).
        depth: number of resolution levels (>= 1; depth 1 is a plain double conv).
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 1, width: int = 16, depth: int = 3) -> None:
        super().__init__()
        if depth < 1 or width < 1:
            raise ValueError(f"UNet needs depth >= 1 and width >= 1, got depth={depth}, width={width}")
        self.in_channels, self.out_channels, self.width, self.depth = in_channels, out_channels, width, depth
        chans = [width * 2**i for i in range(depth)]
        self.down = nn.ModuleList([DoubleConv(in_channels, chans[0])] + [
            DoubleConv(chans[i - 1], chans[i]) for i in range(1, depth)
        ])
        self.up = nn.ModuleList([DoubleConv(chans[i] + chans[i - 1], chans[i - 1]) for i in range(depth - 1, 0, -1)])
        self.head = nn.Conv2d(width, out_channels, 1)

    @property
    def multiple(self) -> int:
        """Input sizes are padded to a multiple of this."""
        return 2 ** (self.depth - 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, in, H, W) -> features (B, width, H, W), logits (B, out, H, W)."""
        features, logits, _ = self.forward_all(x)
        return features, logits

    def forward_all(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Like :meth:`forward`, plus the bottleneck (B, width * 2**(depth-1), ~H/2**(depth-1), ~W/2**(depth-1))."""
        h, w = x.shape[-2:]
        m = self.multiple
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        x = skips.pop()
        bottleneck = x
        for block in self.up:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        x = x[..., :h, :w]
        return x, self.head(x), bottleneck
