"""The PartSTAD estimator: fit on the few-shot shapes of one category, predict any cloud.

``PartSTAD(config).fit(few_shot, val)`` trains the proposer if it is learned, preprocesses the
shapes (views, proposals, superpoints), then fits the proposal weights (Sec. 4): the weight network
and the null score with the mRIoU loss (or cross-entropy), AdamW, 400 epochs of batches of 2
shapes, keeping the epoch with the best validation mIoU. ``config.weights`` selects the variant:

- ``"learned"``: PartSTAD. Scores of Eq. 5, softmax with the learnable null score, label if its
  probability >= 0.5 - 1e-4 (PartSTAD ``score2seg``), small-part priority.
- ``"none"``: PartSLIP voting (Eq. 1): unit weights, the 98 % whole-object filter, views with >= 1
  visible point, label if its score >= 0.5. With ``use_masks=False`` this is PartSLIP; with masks
  it is PartSTAD's "w/o weight prediction" ablation.
- ``"confidence"``: weights tau * detector score (the supplementary ablation); only the null score
  is fitted.

``predict`` returns point labels (-1 = no part) and instances with confidences; NaN input rows
are labelled -1.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from partlift.errors import LabelMismatchError, ReadError
from partlift.geometry.atomic import atomic_torch_save, atomic_write_json
from partlift.geometry.pointcloud import PartPointCloud
from partlift.geometry.safe_load import load_state_dict_checked, load_torch_checkpoint
from partlift.metrics.partnete_meta import PARTNETE_PARTS
from partlift.metrics.segmentation import semantic_miou
from partlift.models.device import device_scope, resolve_device
from partlift.partstad.config import (
    PartSTADConfig,
    config_from_dict,
    config_to_dict,
)
from partlift.partstad.losses import ce_loss, mriou_loss, superpoint_soft_labels
from partlift.partstad.pipeline import LiftInputs, PreparedShape, Preprocessor, ShapeCache
from partlift.partstad.proposals import Proposer, build_proposer, proposer_from_state
from partlift.partstad.threads import torch_threads
from partlift.partstad.voting import (
    Instances,
    decide_labels,
    merge_instances,
    small_part_mask,
    small_parts_from_shapes,
)
from partlift.partstad.weight_net import WeightNet, proposal_geometry

MODEL_FORMAT = "partlift-partstad"
MODEL_VERSION = 1

T = TypeVar("T")


@dataclass
class Prediction:
    """Segmentation of one cloud.

    Attributes:
        semantic: (N,) int64 part label per input point, -1 = no part (and for NaN rows).
        instances: :class:`Instances` over the input points, with a confidence per instance.
        sp_labels: (K,) int64 superpoint labels; superpoints: (M,) int64 ids of the finite points.
        timings: seconds per stage.
    """

    semantic: np.ndarray
    instances: Instances
    sp_labels: np.ndarray
    superpoints: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _TrainShape:
    ps: PreparedShape
    lift: LiftInputs
    feats: torch.Tensor
    geom: torch.Tensor
    score: torch.Tensor
    soft: torch.Tensor  # (K, C+1)
    sizes: torch.Tensor
    valid: torch.Tensor


PARTNETE_PART_NAMES = frozenset(n for names in PARTNETE_PARTS.values() for n in names)
"""The PartNetE part vocabulary: these names keep PartSLIP's small-part list."""


class PartSTAD:
    """Few-shot part segmentation of point clouds by weighted lifting of 2D proposals.

    Args:
        config: :class:`PartSTADConfig` (paper defaults).
        proposer: an already built (and, if learned, trained) proposer to use instead of building
            one from ``config.proposer`` (lets variants share one detector).
        cache_dir: folder of the per-shape preprocessing cache (None = no cache).
        category, part_names: the category's name and parts (set by :meth:`fit` from the few-shot
            shapes when not given).
        device: torch device of the proposer network and the weight network
            (:func:`partlift.models.device.resolve_device`); rendering, superpoints and voting
            geometry stay on the CPU.
    """

    def __init__(self, config: PartSTADConfig | None = None, proposer: Proposer | None = None,
                 cache_dir: str | os.PathLike | None = None, *,
                 category: str = "", part_names: Sequence[str] = (), device: str | torch.device = "cpu") -> None:
        self.device = resolve_device(device)
        self.config = config or PartSTADConfig()
        self.proposer = proposer
        self.cache_dir = cache_dir
        self.category = category
        self.part_names: tuple[str, ...] = tuple(part_names)
        self.small_parts: tuple[str, ...] | None = None  # set by fit from the few-shot shapes
        self.net: WeightNet | None = None
        self.null = torch.nn.Parameter(torch.tensor(float(self.config.train.null_init), device=self.device))
        self.history: list[dict] = []
        self.best_epoch = -1
        self.split_superpoints = self.config.voting.split_superpoints == "on"
        """Whether superpoints are split along the proposals (set by :meth:`fit`; see
        ``VotingConfig.split_superpoints``)."""
        self._pre: Preprocessor | None = None
        self._pre_source: Proposer | None = None

    # ------------------------------------------------------------------------------ setup
    @property
    def num_parts(self) -> int:
        return len(self.part_names)

    @property
    def null_score(self) -> float:
        """The current unnormalised null score (before the floor)."""
        return float(self.null.detach())

    @property
    def is_fitted(self) -> bool:
        return bool(self.part_names) and self.proposer is not None

    def _partslip_mode(self) -> bool:
        return self.config.weights == "none"

    def _shape(self, ps: PreparedShape) -> PreparedShape:
        """``ps`` as this model lifts it: with its superpoints split along the proposals if
        :attr:`split_superpoints`."""
        if not self.split_superpoints:
            return ps
        vc = self.config.voting
        return ps.split_by_proposals(self.num_parts, vc.split_share, vc.split_min_points, vc.split_neighbours)

    def _lift_args(self) -> tuple[bool, int, float | None]:
        if self._partslip_mode():
            return self.config.use_masks, self.config.voting.min_visible, self.config.voting.whole_object_ratio
        return self.config.use_masks, self.config.train.min_visible, None

    def voting_proposer(self) -> Proposer:
        """The proposer whose proposals this model votes with: PartSLIP-style voting (unit weights)
        uses the learned proposer's ``unweighted_thresholds``, the weighted variants its
        ``thresholds`` (both chosen on the validation split; docs/PARTSTAD.md)."""
        if self.proposer is None:
            raise RuntimeError("this PartSTAD model has no proposer yet (fit or load it)")
        if self._partslip_mode() and hasattr(self.proposer, "for_unweighted_voting"):
            return self.proposer.for_unweighted_voting()
        return self.proposer

    def preprocessor(self) -> Preprocessor:
        if self._pre is None or self._pre_source is not self.proposer:
            prop = self.voting_proposer()
            self._pre = Preprocessor(
                self.config.views, self.config.superpoints, prop, prop.cache_key(), ShapeCache(self.cache_dir),
            )
            self._pre_source = self.proposer
        return self._pre

    def prepare(self, cloud: PartPointCloud | np.ndarray, colors: np.ndarray | None = None, name: str = "",
                keep_images: bool = False) -> PreparedShape:
        """Views, proposals and superpoints of one cloud (cached if ``cache_dir`` is set)."""
        return self.preprocessor().prepare(cloud, colors, name=name, category=self.category, keep_images=keep_images)

    # ------------------------------------------------------------------------------ fit
    def fit(
        self,
        few_shot: Sequence[PartPointCloud],
        val: Sequence[PartPointCloud] = (),
        progress: bool = False,
        log: Callable[[str], None] | None = None,
        prepared: tuple[list[PreparedShape], list[PreparedShape]] | None = None,
    ) -> PartSTAD:
        """Fit on labelled few-shot clouds of one category; ``val`` selects the best epoch.

        ``prepared`` passes already preprocessed (train, val) shapes (the benchmark shares them
        between variants). Returns self.
        """
        log = log or (lambda s: None)
        if not few_shot and prepared is None:
            raise LabelMismatchError("PartSTAD.fit needs at least one few-shot shape")
        ref = few_shot[0] if few_shot else None
        if ref is not None:
            self.category = ref.category
            self.part_names = tuple(ref.part_names)
            for s in list(few_shot) + list(val):
                if tuple(s.part_names) != self.part_names:
                    raise LabelMismatchError(
                        f"shape {s.name!r} has parts {list(s.part_names)}, expected {list(self.part_names)}"
                    )
        if not self.part_names:
            raise LabelMismatchError("few-shot shapes carry no part names")
        t0 = time.perf_counter()
        if self.proposer is None:
            self.proposer = build_proposer(self.config, self.part_names, self.device)
            if hasattr(self.proposer, "fit"):
                log(f"training the {self.config.proposer.kind} proposer on {len(few_shot)} shapes")
                self.proposer.fit(few_shot, progress=progress, log=log)
        self._pre = None
        if prepared is None:
            train_ps = [self.prepare(s) for s in few_shot]
            val_ps = [self.prepare(s) for s in val]
        else:
            train_ps, val_ps = prepared
        vc = self.config.voting
        self.small_parts = small_parts_from_shapes(
            self.part_names, [ps.labels for ps in train_ps if ps.labels is not None], vc.small_parts,
            vc.small_part_share, PARTNETE_PART_NAMES)
        log(f"preprocessed {len(train_ps)} + {len(val_ps)} shapes in {time.perf_counter() - t0:.1f} s")
        mode = self.config.voting.split_superpoints
        labelled_val = any(ps.labels is not None for ps in val_ps)
        choices = [mode == "on"] if mode != "auto" or not labelled_val else [False, True]
        fits = []
        for split in choices:
            self.split_superpoints = split
            tr, va = [self._shape(ps) for ps in train_ps], [self._shape(ps) for ps in val_ps]
            if self.config.weights == "none":
                self.history, self.best_epoch = [], 0
                val_ts = [self._train_shape(ps) for ps in va if ps.labels is not None]
                score = self._eval_miou(val_ts) if val_ts else None
            else:
                with torch_threads(), device_scope(self.device):
                    score = self._fit_weights(tr, va, progress, log)
            fits.append((score, split, self._state(), self.history, self.best_epoch))
        if len(fits) > 1:
            # the split is kept only if it does better on the validation shapes
            best = max(fits, key=lambda f: (f[0] if f[0] is not None else -np.inf, not f[1]))
            _, self.split_superpoints, state, self.history, self.best_epoch = best
            self._set_state(state)
            log(f"superpoints split along the proposals: {'yes' if self.split_superpoints else 'no'} "
                f"(val mIoU {fits[0][0]:.4f} unsplit, {fits[1][0]:.4f} split)")
        return self

    def _train_shape(self, ps: PreparedShape) -> _TrainShape:
        use_masks, min_vis, whole = self._lift_args()
        lift = ps.lift(self.num_parts, use_masks, min_vis, whole)
        props = ps.proposals
        geom = proposal_geometry(ps.views.view_dirs, props.view, props.box, ps.views.size)
        if ps.labels is None:
            soft = np.zeros((ps.num_superpoints, self.num_parts + 1))
        else:
            soft = superpoint_soft_labels(ps.labels, ps.superpoints, self.num_parts)
        tensors = (torch.from_numpy(props.features), torch.from_numpy(geom), torch.from_numpy(props.score),
                   torch.from_numpy(soft).float(), torch.from_numpy(lift.graph.sp_size),
                   torch.from_numpy(lift.graph.valid))
        return _TrainShape(ps, lift, *(t.to(self.device) for t in tensors))

    def _weights(self, ts: _TrainShape) -> torch.Tensor:
        if self.config.weights == "learned":
            assert self.net is not None  # built by fit for learned weights
            return self.net(ts.feats, ts.geom)
        if self.config.weights == "confidence":
            return self.config.weight_net.tau * ts.score
        return torch.ones(len(ts.score), device=ts.score.device)

    def _probs(self, ts: _TrainShape) -> torch.Tensor:
        """(K, C+1) probabilities [null, parts]; invalid superpoints are all-null."""
        from partlift.partstad.lifting import superpoint_scores

        s = superpoint_scores(ts.lift.graph, self._weights(ts))
        null = torch.clamp(torch.relu(self.null), min=self.config.train.null_floor)
        logits = torch.cat([null.expand(len(s), 1), s], dim=1)
        p = torch.softmax(logits, dim=1)
        invalid = torch.zeros_like(p)
        invalid[:, 0] = 1.0
        return torch.where(ts.valid[:, None], p, invalid)

    def _loss(self, ts: _TrainShape) -> torch.Tensor:
        p = self._probs(ts)
        if self.config.train.loss == "ce":
            v = ts.valid
            return ce_loss(p[v], ts.soft[v], ts.sizes[v])
        return mriou_loss(p[:, 1:], ts.soft[:, 1:], ts.sizes)

    def _fit_weights(self, train_ps: Sequence[PreparedShape], val_ps: Sequence[PreparedShape], progress: bool,
                     log: Callable[[str], None]) -> float | None:
        """Fit the weights (and the null score); returns the kept epoch's validation mIoU (None
        without validation shapes)."""
        tc = self.config.train
        if tc.loss not in ("mriou", "ce"):
            raise ValueError(f"unknown loss {tc.loss!r}; use 'mriou' or 'ce'")
        torch.manual_seed(tc.seed)
        rng = np.random.default_rng(tc.seed)
        assert self.proposer is not None  # set by fit
        feat_dim = self.proposer.feature_dim
        with torch.device("cpu"):  # seeded initial weights identical on every device
            net = WeightNet(feat_dim, self.config.weight_net) if self.config.weights == "learned" else None
        self.net = net.to(self.device) if net is not None else None
        self.null = torch.nn.Parameter(torch.tensor(float(tc.null_init), device=self.device))
        opts = [torch.optim.AdamW([self.null], lr=tc.null_lr, weight_decay=tc.weight_decay)]
        if self.net is not None:
            opts.append(torch.optim.AdamW(self.net.parameters(), lr=tc.lr, weight_decay=tc.weight_decay))
        train = [self._train_shape(ps) for ps in train_ps]
        val = [self._train_shape(ps) for ps in val_ps if ps.labels is not None]
        best = (-np.inf, self._state())
        self.history = []
        select_on = val if val else None
        if select_on:
            m = self._eval_miou(select_on)
            self.history.append({"epoch": 0, "loss": float("nan"), "val_miou": m})
            best = (m, self._state())
            self.best_epoch = 0
        bar = _progress(range(1, tc.epochs + 1), progress, "fit weights")
        for epoch in bar:
            order = rng.permutation(len(train))
            losses = []
            for i in range(0, len(order), tc.batch_size):
                batch = [train[j] for j in order[i : i + tc.batch_size]]
                loss = torch.stack([self._loss(t) for t in batch]).mean()
                for o in opts:
                    o.zero_grad()
                loss.backward()
                for o in opts:
                    o.step()
                losses.append(float(loss.detach()))
            rec = {"epoch": epoch, "loss": float(np.mean(losses)) if losses else float("nan")}
            if select_on and (epoch % tc.validate_every == 0 or epoch == tc.epochs):
                rec["val_miou"] = self._eval_miou(select_on)
                if rec["val_miou"] > best[0]:
                    best = (rec["val_miou"], self._state())
                    self.best_epoch = epoch
            self.history.append(rec)
        if select_on:
            self._set_state(best[1])
            log(f"best epoch {self.best_epoch} (val mIoU {best[0]:.4f}); null score {float(self.null.detach()):.3f}")
            return float(best[0])
        self.best_epoch = tc.epochs
        log(f"no validation shapes: kept the last epoch; null score {float(self.null.detach()):.3f}")
        return None

    def _state(self) -> dict:
        return {"null": self.null.detach().clone(), "net": copy.deepcopy(self.net.state_dict()) if self.net else None}

    def _set_state(self, st: dict) -> None:
        with torch.no_grad():
            self.null.copy_(st["null"])
        if self.net is not None and st["net"] is not None:
            self.net.load_state_dict(st["net"])

    def _eval_miou(self, shapes: Sequence[_TrainShape]) -> float:
        preds, gts = [], []
        with torch.no_grad():
            for t in shapes:
                preds.append(self._sp_labels(t)[0][t.ps.superpoints])
                assert t.ps.labels is not None  # training and validation shapes are labelled
                gts.append(t.ps.labels)
        names = [str(c) for c in range(self.num_parts)]
        return semantic_miou({"val": preds}, {"val": gts}, {"val": names}).table.overall

    # ------------------------------------------------------------------------------ predict
    def _sp_labels(self, ts: _TrainShape) -> tuple[np.ndarray, np.ndarray]:
        """Superpoint labels and their confidence."""
        listed = self.small_parts if self.small_parts is not None else self.config.voting.small_parts
        small = small_part_mask(self.part_names, listed)
        if self._partslip_mode():
            from partlift.partstad.lifting import superpoint_scores

            s = superpoint_scores(ts.lift.graph).cpu().numpy()
            lab = decide_labels(s, ts.lift.graph.valid, self.config.voting.null_threshold, small)
            conf = np.where(lab >= 0, s[np.arange(len(lab)), np.maximum(lab, 0)], 0.0)
            return lab, conf
        p = self._probs(ts).detach().cpu().numpy()
        lab = decide_labels(p[:, 1:], ts.lift.graph.valid, self.config.voting.null_threshold - 1e-4, small)
        conf = np.where(lab >= 0, p[np.arange(len(lab)), np.maximum(lab, 0) + 1], 0.0)
        return lab, conf

    def check_category(self, category: str) -> None:
        """Raise :class:`LabelMismatchError` if ``category`` is set and is not the model's."""
        if category and self.category and category != self.category:
            raise LabelMismatchError(
                f"this PartSTAD model was trained for category {self.category!r} (parts {list(self.part_names)}), "
                f"not {category!r}; train one with `partlift train partstad --category {category}`"
            )

    def predict(self, cloud: PartPointCloud | np.ndarray, colors: np.ndarray | None = None,
                instances: bool = True) -> Prediction:
        """Segment a :class:`PartPointCloud` or raw (N, 3) points (NaN rows allowed, labelled -1).

        The cloud is normalised to the unit sphere internally; labels refer to the input order.
        """
        if not self.is_fitted:
            raise RuntimeError("PartSTAD model is not fitted; call fit() or PartSTAD.load()")
        if isinstance(cloud, PartPointCloud):
            self.check_category(cloud.category)
        ps = self.prepare(cloud, colors)
        return self.predict_prepared(ps, instances=instances)

    def predict_prepared(self, ps: PreparedShape, instances: bool = True) -> Prediction:
        """Segment an already preprocessed shape."""
        ps = self._shape(ps)  # the split's seconds are its own stage, "split"
        t = time.perf_counter()
        ts = self._train_shape(ps)
        with torch.no_grad(), torch_threads(), device_scope(self.device):
            lab, conf = self._sp_labels(ts)
        point_lab = lab[ps.superpoints]
        ins = Instances.empty(len(ps.points))
        if instances:
            mask, w = ts.lift.keep, None
            if not self._partslip_mode():
                with torch.no_grad(), torch_threads(), device_scope(self.device):
                    w = self._weights(ts).cpu().numpy()
            ratios = ts.lift.ratios
            membership = self.config.voting.instance_membership
            if membership not in ("box", "mask"):
                raise ValueError(f"unknown instance_membership {membership!r}; use 'box' or 'mask'")
            if (membership == "box") == self.config.use_masks:
                _, min_vis, whole = self._lift_args()
                ratios = ps.lift(self.num_parts, membership == "mask", min_vis, whole).ratios
            ins = merge_instances(ps.points, ps.superpoints, lab, conf, ratios, ps.proposals, ps.views,
                                  self.config.voting, ratio_mask=mask, ratio_weights=w)
        timings = dict(ps.timings)
        timings["voting"] = time.perf_counter() - t + timings.pop("lift", 0.0)
        semantic = np.full(ps.num_input, -1, np.int64)
        semantic[ps.keep_index] = point_lab
        ids = np.full(ps.num_input, -1, np.int64)
        ids[ps.keep_index] = ins.ids
        return Prediction(semantic, Instances(ids, ins.labels, ins.scores), lab, ps.superpoints, timings)

    # ------------------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write the model folder: ``config.json``, ``weights.pt``, ``proposer/`` and, last, ``model.json``.

        ``model.json`` marks the folder finished: it is removed first and written after everything
        else, so a folder whose save was interrupted has none and :meth:`load` refuses it.
        """
        if not self.is_fitted:
            raise RuntimeError("cannot save an unfitted PartSTAD model")
        assert self.proposer is not None  # is_fitted
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "model.json").unlink(missing_ok=True)
        atomic_write_json(path / "config.json", config_to_dict(self.config), indent=2)
        net_state = {k: v.cpu() for k, v in self.net.state_dict().items()} if self.net else None
        atomic_torch_save({"null": self.null.detach().cpu(), "net": net_state,
                           "feature_dim": self.net.feature_dim if self.net else None}, path / "weights.pt")
        self.proposer.save(path / "proposer")
        meta = {
            "format": MODEL_FORMAT, "version": MODEL_VERSION, "category": self.category,
            "part_names": list(self.part_names), "small_parts": None if self.small_parts is None else
            list(self.small_parts), "best_epoch": self.best_epoch, "null_score": float(self.null.detach()),
            "split_superpoints": self.split_superpoints, "history": self.history,
        }
        atomic_write_json(path / "model.json", meta, indent=2)
        return path

    @staticmethod
    def load(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
             device: str | torch.device = "cpu") -> PartSTAD:
        """Load a folder written by :meth:`save`, its torch parts on ``device``."""
        path = Path(path)
        if (path / "config.json").is_file() and not is_saved_model(path):
            raise ReadError(f"{path} holds an unfinished PartSTAD model (no model.json: its save was interrupted); "
                            "train it again with `partlift train partstad`")
        for name in ("config.json", "model.json"):
            if not (path / name).is_file():
                raise ReadError(f"{path} is not a PartSTAD model folder (no {name}); train one with "
                                "`partlift train partstad`")
        try:
            cfg_d = json.loads((path / "config.json").read_text())
            meta = json.loads((path / "model.json").read_text())
        except (OSError, ValueError) as exc:
            bad = getattr(exc, "filename", None) or ("config.json" if "cfg_d" not in locals() else "model.json")
            raise ReadError(f"cannot read {path / Path(bad).name}: {exc}") from None
        if meta.get("format") != MODEL_FORMAT:
            raise ReadError(f"{path}/model.json is not a {MODEL_FORMAT} file")
        m = PartSTAD(config_from_dict(PartSTADConfig, cfg_d, where=path / "config.json"), cache_dir=cache_dir,
                     device=device)
        m.category, m.part_names = str(meta["category"]), tuple(meta["part_names"])
        m.history, m.best_epoch = meta.get("history", []), meta.get("best_epoch", -1)
        small = meta.get("small_parts")  # absent in models saved before it was derived from data
        m.small_parts = None if small is None else tuple(str(n) for n in small)
        m.split_superpoints = bool(meta.get("split_superpoints", False))  # absent: saved before the split existed
        wfile = path / "weights.pt"
        st = load_torch_checkpoint(wfile, what="PartSTAD weights", keys=("null", "net", "feature_dim"))
        if not isinstance(st["null"], torch.Tensor) or st["null"].numel() != 1:
            raise ReadError(f"{wfile} has no valid null score; retrain or copy the model again")
        m.null = torch.nn.Parameter(st["null"].float().to(m.device))
        if st["net"] is not None:
            try:
                m.net = WeightNet(int(st["feature_dim"]), m.config.weight_net)
            except (TypeError, ValueError) as exc:
                raise ReadError(f"{wfile} has an invalid feature_dim {st['feature_dim']!r}; retrain") from exc
            load_state_dict_checked(m.net, st["net"], wfile, what="PartSTAD weight network")
            m.net.to(m.device)
        m.proposer = proposer_from_state(m.config, m.part_names, path / "proposer", m.device)
        return m

    def variant(self, **changes: Any) -> PartSTAD:
        """An unfitted copy with ``config`` fields replaced, sharing this model's proposer."""
        return PartSTAD(replace(self.config, **changes), proposer=self.proposer, cache_dir=self.cache_dir,
                        category=self.category, part_names=self.part_names, device=self.device)


def is_saved_model(path: str | Path) -> bool:
    """Whether ``path`` holds a finished :meth:`PartSTAD.save` (its last file, ``model.json``, exists)."""
    return (Path(path) / "model.json").is_file()


def _progress(it: Iterable[T], enabled: bool, desc: str) -> Iterable[T]:
    if not enabled:
        return it
    from tqdm import tqdm

    return tqdm(it, desc=desc, leave=False)
