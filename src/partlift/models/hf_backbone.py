"""Optional pretrained image backbone for Phi from the ``transformers`` library (local path only).

A ViT-style model (e.g. DINOv2) saved with ``save_pretrained`` is loaded from a local folder
(``local_files_only``; nothing is downloaded). Its patch tokens form a (hidden, H/p, W/p) map that
is upsampled to the output stride and projected to ``dim`` channels by a small trainable head, then
L2-normalised, so it is a drop-in replacement for :class:`partlift.models.feature_cnn.FeatureCNN`.
The backbone is frozen by default (only the head trains) to keep CPU training cheap.
``transformers`` is imported lazily; without it a clear error names the ``hf`` extra.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from partlift.errors import PartliftError, ReadError
from partlift.models.feature_cnn import IMAGENET_MEAN, IMAGENET_STD


def _transformers():
    try:
        import transformers
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise PartliftError(
            "the pretrained backbone needs the 'transformers' package: pip install 'partlift[hf]'"
        ) from exc
    return transformers


class HFBackbone(nn.Module):
    """``forward(images (B, 3, H, W) in [0, 1]) -> (B, dim, H / stride, W / stride)`` unit features.

    Args:
        path: local folder of a ``save_pretrained`` vision model with ``config.patch_size``.
        dim: output feature dimension.
        stride: output stride (the map is resampled from the patch grid).
        freeze: keep the backbone's weights fixed (train only the projection head).
    """

    mean: torch.Tensor  # buffers
    std: torch.Tensor

    def __init__(self, path: str | Path, dim: int = 64, stride: int = 4, freeze: bool = True) -> None:
        super().__init__()
        path = Path(path)
        if not path.is_dir():
            raise ReadError(f"pretrained backbone folder not found: {path}")
        tf = _transformers()
        try:
            self.model = tf.AutoModel.from_pretrained(str(path), local_files_only=True)
        except Exception as exc:
            raise ReadError(f"cannot load a transformers model from {path}: {type(exc).__name__}: {exc}") from exc
        cfg = self.model.config
        self.patch = int(getattr(cfg, "patch_size", 14))
        hidden = int(cfg.hidden_size)
        self.path, self.dim, self.stride, self.freeze = str(path), int(dim), int(stride), bool(freeze)
        if freeze:
            for p in self.model.parameters():
                p.requires_grad_(False)
        self.head = nn.Sequential(nn.Conv2d(hidden, 128, 1), nn.ReLU(inplace=True), nn.Conv2d(128, dim, 1))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        b, _, h, w = images.shape
        hp, wp = max(1, h // self.patch), max(1, w // self.patch)
        x = (images - self.mean) / self.std
        x = F.interpolate(x, size=(hp * self.patch, wp * self.patch), mode="bilinear", align_corners=False)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            tokens = self.model(pixel_values=x).last_hidden_state  # (B, 1 [+ registers] + hp*wp, hidden)
        grid = tokens[:, -hp * wp :].transpose(1, 2).reshape(b, -1, hp, wp)
        grid = F.interpolate(grid, size=(h // self.stride, w // self.stride), mode="bilinear", align_corners=False)
        return F.normalize(self.head(grid), dim=1)

    def describe(self) -> dict:
        return {"kind": "hf", "path": self.path, "dim": self.dim, "stride": self.stride, "freeze": self.freeze}
