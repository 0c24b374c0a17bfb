"""PartSTAD: few-shot 3D part segmentation by task-adapted lifting of 2D part proposals
(docs/PARTSTAD.md), with the PartSLIP and SATR baselines.

Main entry points (imported lazily): :class:`PartSTAD` (``fit`` / ``predict`` / ``save`` / ``load``),
:class:`PartSTADConfig` and its parts, :func:`compute_superpoints`, :func:`render_views`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the real types for type checkers and editors; at run time names load on first use
    from partlift.partstad.config import (
        LearnedProposerConfig,
        NoiseConfig,
        PartSTADConfig,
        ProposerConfig,
        SuperpointConfig,
        TrainConfig,
        ViewConfig,
        VotingConfig,
        WeightNetConfig,
    )
    from partlift.partstad.model import PartSTAD, Prediction
    from partlift.partstad.proposals.base import Proposals
    from partlift.partstad.superpoints import compute_superpoints
    from partlift.partstad.views import ShapeViews, render_views
    from partlift.partstad.voting import Instances

_EXPORTS = {
    "PartSTAD": "partlift.partstad.model",
    "Prediction": "partlift.partstad.model",
    "PartSTADConfig": "partlift.partstad.config",
    "ViewConfig": "partlift.partstad.config",
    "SuperpointConfig": "partlift.partstad.config",
    "ProposerConfig": "partlift.partstad.config",
    "LearnedProposerConfig": "partlift.partstad.config",
    "NoiseConfig": "partlift.partstad.config",
    "VotingConfig": "partlift.partstad.config",
    "WeightNetConfig": "partlift.partstad.config",
    "TrainConfig": "partlift.partstad.config",
    "Instances": "partlift.partstad.voting",
    "Proposals": "partlift.partstad.proposals.base",
    "compute_superpoints": "partlift.partstad.superpoints",
    "render_views": "partlift.partstad.views",
    "ShapeViews": "partlift.partstad.views",
}

__all__ = [
    "Instances",
    "LearnedProposerConfig",
    "NoiseConfig",
    "PartSTAD",
    "PartSTADConfig",
    "Prediction",
    "Proposals",
    "ProposerConfig",
    "ShapeViews",
    "SuperpointConfig",
    "TrainConfig",
    "ViewConfig",
    "VotingConfig",
    "WeightNetConfig",
    "compute_superpoints",
    "render_views",
]


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'partlift.partstad' has no attribute {name!r}")
