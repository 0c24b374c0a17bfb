"""A learned foreground head on the frozen Part321 features: object or background per feature pixel.

The nearest-feature rule (:func:`partlift.part321.silhouette.foreground_map`: a pixel is object
when its nearest feature is a vertex feature rather than a clutter feature) needs no training but
is weak: contrastive training separates the vertices from each other and from the clutter bank,
not the object's outline from the background. This head is a two-layer perceptron over the
(C,) feature of each pixel, fitted with binary cross-entropy after the feature network, on the
training images' object masks at feature resolution (a feature pixel is object when most of its
image pixels are). It adds nothing to the features or to the neural mesh, so the method stays
Part321; inference uses it for the object's extent (distance) and the silhouette term
(docs/PART321.md, decision 11 "Foreground and silhouette").
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from partlift.errors import ReadError
from partlift.geometry.atomic import atomic_torch_save
from partlift.geometry.safe_load import load_state_dict_checked, load_torch_checkpoint, one_line
from partlift.part321.silhouette import largest_component
from partlift.validation import bounded, validate_config


@dataclass(frozen=True)
class ForegroundHeadConfig:
    """Settings of :class:`ForegroundHead`."""

    hidden: int = bounded(32, ge=1)
    """Hidden units of the perceptron."""
    steps: int = bounded(300, ge=1)
    """Full-batch Adam steps."""
    lr: float = bounded(1e-2, gt=0)
    """Adam learning rate."""
    max_pixels: int = bounded(200_000, ge=1)
    """Training pixels at most (a seeded random subset of all images' feature pixels)."""
    seed: int = bounded(0, ge=0)
    """Seed of the initialisation and the pixel subset."""

    def __post_init__(self) -> None:
        validate_config(self)


def mask_at(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """(height, width) float32 share of object pixels of an (H, W) bool ``mask`` in each cell of a
    height x width grid over the image (cells of unequal size when H, W are not multiples)."""
    m = torch.as_tensor(np.asarray(mask, dtype=np.float32))[None, None]
    return torch.nn.functional.adaptive_avg_pool2d(m, (height, width))[0, 0].numpy()


class ForegroundHead:
    """Object / background classifier of feature pixels. ``fit(features, masks)``, ``predict(feature)``."""

    def __init__(self, config: ForegroundHeadConfig = ForegroundHeadConfig()) -> None:
        self.config = config
        self.net: torch.nn.Sequential | None = None
        self.train_loss = float("nan")

    def _new_net(self, channels: int) -> torch.nn.Sequential:
        torch.manual_seed(self.config.seed)
        return torch.nn.Sequential(torch.nn.Linear(channels, self.config.hidden), torch.nn.ReLU(),
                                   torch.nn.Linear(self.config.hidden, 1))

    def fit(self, features: Sequence[torch.Tensor], masks: Sequence[np.ndarray]) -> ForegroundHead:
        """Fit on (C, h, w) feature maps and their images' (H, W) bool object masks."""
        if not features or len(features) != len(masks):
            raise ValueError(f"ForegroundHead.fit: {len(features)} feature maps for {len(masks)} masks")
        xs, ys = [], []
        for f, m in zip(features, masks, strict=True):
            c, h, w = f.shape
            xs.append(f.detach().float().reshape(c, h * w).T.cpu())
            ys.append(torch.from_numpy(mask_at(m, h, w).reshape(-1) >= 0.5).float())
        x, y = torch.cat(xs), torch.cat(ys)
        if len(x) > self.config.max_pixels:
            keep = torch.from_numpy(np.sort(np.random.default_rng(self.config.seed).choice(
                len(x), self.config.max_pixels, replace=False)))
            x, y = x[keep], y[keep]
        net = self._new_net(x.shape[1])
        # objects fill a fifth of a view or less: weighting the classes equally gives a generous
        # foreground, which served the silhouette term better on validation than plain
        # cross-entropy did, despite a lower IoU (docs/PART321.md, decision 11)
        pos = float(y.mean().clamp(1e-3, 1 - 1e-3))
        weight = torch.tensor((1 - pos) / pos)
        opt = torch.optim.Adam(net.parameters(), lr=self.config.lr)
        loss = torch.zeros(())
        for _ in range(self.config.steps):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x)[:, 0], y, pos_weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
        self.net, self.train_loss = net.eval(), float(loss.detach())
        return self

    def logits(self, feature: torch.Tensor) -> torch.Tensor:
        """(h, w) object logits of a (C, h, w) feature map."""
        if self.net is None:
            raise ValueError("the foreground head is not fitted")
        c, h, w = feature.shape
        with torch.no_grad():
            return self.net(feature.detach().float().reshape(c, h * w).T.cpu())[:, 0].reshape(h, w)

    def predict(self, feature: torch.Tensor) -> np.ndarray:
        """(h, w) bool: the largest connected component of the pixels with logit > 0."""
        return largest_component(self.logits(feature).numpy() > 0)

    def state(self) -> dict:
        """Weights-only checkpoint content: {"channels", "config", "state"} (tensors and plain values)."""
        if self.net is None:
            raise ValueError("the foreground head is not fitted")
        first = self.net[0]
        assert isinstance(first, torch.nn.Linear)
        return {"channels": int(first.in_features), "config": dict(vars(self.config)),
                "state": {k: v.cpu() for k, v in self.net.state_dict().items()}}

    def save(self, path: str | os.PathLike) -> None:
        """Write the weights-only checkpoint (:meth:`state`) atomically."""
        atomic_torch_save(self.state(), path)

    @staticmethod
    def load(path: str | os.PathLike) -> ForegroundHead:
        """Read :meth:`save`'s file (weights only, never unpickled); ReadError naming it when bad."""
        ck = load_torch_checkpoint(path, what="Part321 foreground head", keys=("channels", "config", "state"))
        try:
            config = ForegroundHeadConfig(**dict(ck["config"]))
            channels = int(ck["channels"])
        except (TypeError, ValueError) as exc:
            raise ReadError(f"{path}: not a Part321 foreground head ({one_line(exc)})") from exc
        head = ForegroundHead(config)
        head.net = head._new_net(channels)
        load_state_dict_checked(head.net, ck["state"], path, what="Part321 foreground head")
        head.net.eval()
        return head
