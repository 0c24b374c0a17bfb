"""The ``grounding-dino`` proposer: a prompt-tuned transformers Grounding DINO gives part boxes
and query features; SAM (optional) turns each box into a mask, as in PartSTAD (GLIP + SAM).

``fit`` tunes the prompt offsets on the few-shot shapes' renders (PartSLIP's 10 views) against the
ground-truth part boxes read from the renders (the oracle's instances). Proposals: every query
whose best part probability exceeds ``box_threshold``; label = that part, score = that
probability, feature = the query embedding. Without SAM the mask is the box.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from partlift.errors import ReadError
from partlift.geometry.atomic import atomic_torch_save, atomic_write_json
from partlift.geometry.normalize import unit_sphere_normalization
from partlift.geometry.pointcloud import PartPointCloud
from partlift.geometry.safe_load import load_torch_checkpoint
from partlift.partstad.config import ProposerConfig, ViewConfig
from partlift.partstad.proposals.base import Proposals
from partlift.partstad.proposals.oracle import OracleProposer
from partlift.partstad.threads import torch_threads
from partlift.partstad.views import ShapeViews, render_views


class HFProposer:
    """Prompt-tuned Grounding DINO (+ SAM) proposals. Weights come from ``config.model_path`` (and
    ``config.sam_path``); their licences are reported in :attr:`licences`."""

    def __init__(
        self, part_names: Sequence[str], config: ProposerConfig, view_config: ViewConfig | None = None
    ) -> None:
        from partlift.models.hf.grounding_dino import PromptTunedGroundingDino

        self.part_names = tuple(part_names)
        self.config = config
        self.view_config = view_config or ViewConfig()
        self.detector = PromptTunedGroundingDino(config.model_path, self.part_names, config.hf_input_size or None)
        self.masker = None
        if config.sam_path:
            from partlift.models.hf.sam import SamBoxMasker

            self.masker = SamBoxMasker(config.sam_path)
        self.feature_dim = self.detector.feature_dim
        self.history: list[float] = []
        self._key: str | None = None

    @property
    def licences(self) -> dict[str, str]:
        out = {"grounding-dino": f"{self.detector.path} (licence: {self.detector.licence})"}
        if self.masker is not None:
            out["sam"] = f"{self.masker.path} (licence: {self.masker.licence})"
        return out

    def fit(self, shapes: Sequence[PartPointCloud], progress: bool = False,
            log: Callable[[str], None] | None = None) -> HFProposer:
        """Prompt-tune on renders of ``shapes`` with their ground-truth part boxes."""
        log = log or (lambda s: None)
        for name, text in self.licences.items():
            log(f"{name} weights: {text}")
        oracle = OracleProposer(len(self.part_names))
        images, boxes, labels = [], [], []
        for s in shapes:
            p = unit_sphere_normalization(s.points).apply(s.points)
            views = render_views(p, s.colors, self.view_config)
            gt = oracle.propose(views, PartPointCloud(p, labels=s.labels, instances=s.instances, name=s.name))
            for v in range(views.num_views):
                sel = gt.view == v
                images.append(views.image[v])
                boxes.append(gt.box[sel])
                labels.append(gt.label[sel])
        if self.config.prompt_steps > 0 and images:
            with torch_threads():
                self.history = self._tune(np.stack(images), boxes, labels, log)
        self._key = None
        return self

    def _tune(self, images, boxes, labels, log) -> list[float]:
        return self.detector.tune_prompts(images, boxes, labels, steps=self.config.prompt_steps,
                                          seed=self.config.seed, log=log)

    def propose(self, views: ShapeViews, shape: PartPointCloud | None = None) -> Proposals:
        h, w = views.size
        with torch_threads():
            probs, boxes, feats = self.detector.detect(views.image)
        out = []
        for v in range(views.num_views):
            best = probs[v].max(1)
            keep = np.flatnonzero(best > self.config.box_threshold)
            bx = boxes[v, keep]
            ok = ((bx[:, 2] - bx[:, 0]) >= 1) & ((bx[:, 3] - bx[:, 1]) >= 1)
            keep, bx = keep[ok], bx[ok]
            if len(keep) == 0:
                continue
            if self.masker is not None:
                masks = self.masker.masks(views.image[v], bx)
            else:
                masks = Proposals(np.zeros(len(keep)), np.zeros(len(keep)), np.zeros(len(keep)), bx,
                                  np.zeros((len(keep), h, w), bool), np.zeros((len(keep), 1))).box_masks()
            out.append(Proposals(np.full(len(keep), v), probs[v, keep].argmax(1), best[keep], bx, masks,
                                 feats[v, keep]))
        return Proposals.concat(out, h, w, self.feature_dim)

    def cache_key(self) -> str:
        if self._key is None:
            h = hashlib.sha1(json.dumps([str(self.detector.path), self.config.sam_path, self.config.box_threshold,
                                         self.detector.input_size, self.part_names]).encode())
            h.update(self.detector.offsets.detach().numpy().tobytes())
            self._key = "grounding-dino-" + h.hexdigest()[:16]
        return self._key

    def save(self, path) -> None:
        path = Path(path)
        (path / "proposer.json").unlink(missing_ok=True)
        atomic_torch_save(self.detector.state(), path / "prompt_offsets.pt")
        meta = {"kind": "grounding-dino", "model_path": str(self.detector.path), "sam_path": self.config.sam_path,
                "licences": self.licences, "prompt_loss": self.history}
        atomic_write_json(path / "proposer.json", meta, indent=2)  # last: marks the folder finished

    def load_state(self, path) -> None:
        f = Path(path) / "prompt_offsets.pt"
        off = load_torch_checkpoint(f, what="prompt offsets", keys=("offsets",))["offsets"]
        want = tuple(self.detector.offsets.shape)
        if not isinstance(off, torch.Tensor) or tuple(off.shape) != want:
            got = tuple(off.shape) if isinstance(off, torch.Tensor) else type(off).__name__
            raise ReadError(f"{f} holds prompt offsets {got}, this detector needs {want} (another model or part "
                            "list); retrain or copy the model again")
        self.detector.load_offsets(off)
        self._key = None
