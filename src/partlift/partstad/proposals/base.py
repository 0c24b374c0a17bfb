"""The common proposal container and the proposer interface.

Every proposer returns, for the views of one shape, a flat list of 2D part proposals: the view it
belongs to, a binary mask, its box, a part label, a detector confidence and a feature vector (what
PartSTAD's weight network reads; GLIP's box feature in the paper).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from partlift.geometry.pointcloud import PartPointCloud
from partlift.partstad.views import ShapeViews


@dataclass
class Proposals:
    """2D part proposals of one shape, P of them over all views.

    Attributes:
        view: (P,) int64 view index.
        label: (P,) int64 part label (index into the category's part names).
        score: (P,) float32 detector confidence in [0, 1].
        box: (P, 4) float32 (x1, y1, x2, y2) in pixels, x = column, y = row; the box spans the
            continuous range [x1, x2) x [y1, y2).
        masks: (P, H, W) bool foreground mask of each proposal (for a box-only detector: the box).
        features: (P, F) float32 feature vector.
    """

    view: np.ndarray
    label: np.ndarray
    score: np.ndarray
    box: np.ndarray
    masks: np.ndarray
    features: np.ndarray

    def __post_init__(self) -> None:
        p = len(self.view)
        self.view = np.asarray(self.view, dtype=np.int64).reshape(p)
        self.label = np.asarray(self.label, dtype=np.int64).reshape(p)
        self.score = np.asarray(self.score, dtype=np.float32).reshape(p)
        self.box = np.asarray(self.box, dtype=np.float32).reshape(p, 4)
        self.masks = np.asarray(self.masks, dtype=bool)
        f = np.asarray(self.features, dtype=np.float32)
        self.features = f.reshape(p, f.shape[-1] if f.ndim >= 2 else -1)
        if self.masks.ndim != 3 or len(self.masks) != p:
            raise ValueError(f"masks must be (P={p}, H, W), got {self.masks.shape}")

    def __len__(self) -> int:
        return len(self.view)

    @property
    def feature_dim(self) -> int:
        return int(self.features.shape[1])

    @staticmethod
    def empty(height: int, width: int, feature_dim: int) -> Proposals:
        """No proposals (for a view set of ``height`` x ``width`` images)."""
        return Proposals(
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros((0, 4), np.float32),
            np.zeros((0, height, width), bool), np.zeros((0, feature_dim), np.float32),
        )

    def select(self, index) -> Proposals:
        """The proposals at ``index`` (bool mask or integer indices)."""
        return Proposals(
            self.view[index], self.label[index], self.score[index], self.box[index], self.masks[index],
            self.features[index],
        )

    @staticmethod
    def concat(parts: list[Proposals], height: int, width: int, feature_dim: int) -> Proposals:
        """Concatenate proposal sets (e.g. one per view)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return Proposals.empty(height, width, feature_dim)
        return Proposals(
            np.concatenate([p.view for p in parts]), np.concatenate([p.label for p in parts]),
            np.concatenate([p.score for p in parts]), np.concatenate([p.box for p in parts]),
            np.concatenate([p.masks for p in parts]), np.concatenate([p.features for p in parts]),
        )

    def box_masks(self) -> np.ndarray:
        """(P, H, W) bool: the pixels whose centres lie strictly inside each box."""
        p, h, w = self.masks.shape
        cols = np.arange(w) + 0.5
        rows = np.arange(h) + 0.5
        inx = (cols[None] > self.box[:, 0:1]) & (cols[None] < self.box[:, 2:3])
        iny = (rows[None] > self.box[:, 1:2]) & (rows[None] < self.box[:, 3:4])
        return iny[:, :, None] & inx[:, None, :]


def mask_box(mask: np.ndarray) -> np.ndarray:
    """(4,) float32 tight box (x1, y1, x2, y2) of a non-empty (H, W) bool mask (pixel edges)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float32)


class Proposer(Protocol):
    """Anything that turns the views of a shape into :class:`Proposals`."""

    feature_dim: int

    def propose(self, views: ShapeViews, shape: PartPointCloud) -> Proposals:
        """Proposals for ``views`` of ``shape`` (only ground-truth proposers read ``shape``'s labels)."""
        ...

    def cache_key(self) -> str:
        """Names the settings and weights the proposals depend on (a preprocessing-cache key)."""
        ...

    def save(self, path: Path) -> None:
        """Write the folder :func:`~partlift.partstad.proposals.proposer_from_state` reads."""
        ...
