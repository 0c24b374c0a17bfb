"""2D part proposals behind one interface (:class:`~partlift.partstad.proposals.base.Proposer`).

Kinds (``ProposerConfig.kind``): ``learned`` (default, a compact CNN trained on renders of the
few-shot shapes), ``oracle`` / ``noisy-oracle`` (ground truth from the renders), ``grounding-dino``
(a transformers detector with prompt tuning, optionally SAM masks).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from partlift.partstad.config import PartSTADConfig
from partlift.partstad.proposals.base import Proposals, Proposer, mask_box
from partlift.partstad.proposals.oracle import OracleProposer

if TYPE_CHECKING:
    import torch

KINDS = ("learned", "oracle", "noisy-oracle", "grounding-dino")


def build_proposer(config: PartSTADConfig, part_names: tuple[str, ...], device: str | torch.device = "cpu") -> Proposer:
    """A new proposer of ``config.proposer.kind`` (learned ones still need ``fit``); ``device`` is
    the torch device of a learned proposer's network."""
    pc = config.proposer
    if pc.kind == "oracle":
        return OracleProposer(len(part_names), None, pc.min_area_px, pc.seed)
    if pc.kind == "noisy-oracle":
        return OracleProposer(len(part_names), pc.noise, pc.min_area_px, pc.seed)
    if pc.kind == "learned":
        from partlift.partstad.proposals.learned import LearnedProposer

        return LearnedProposer(part_names, config.learned, config.views, pc.min_area_px, device=device)
    if pc.kind == "grounding-dino":
        from partlift.partstad.proposals.hf import HFProposer

        return HFProposer(part_names, pc, config.views)
    raise ValueError(f"unknown proposer kind {pc.kind!r}; use one of {', '.join(KINDS)}")


def proposer_from_state(config: PartSTADConfig, part_names: tuple[str, ...], path: str | Path,
                        device: str | torch.device = "cpu") -> Proposer:
    """Rebuild a saved proposer (the folder written by its ``save``)."""
    proposer = build_proposer(config, part_names, device)
    if hasattr(proposer, "load_state"):
        proposer.load_state(Path(path))
    return proposer


__all__ = ["KINDS", "OracleProposer", "Proposals", "Proposer", "build_proposer", "mask_box", "proposer_from_state"]
