"""Frozen configuration dataclasses of the PartSTAD pipeline, with the papers' defaults.

Constants come from the public PartSLIP / PartSTAD code (``Colin97/PartSLIP``,
``KAIST-Visual-AI-Group/PartSTAD``; file by file in docs/REFERENCES.md); deviations made for a CPU
are marked "CPU default" and explained in docs/PARTSTAD.md.
Every config round-trips through JSON (:func:`config_to_dict` /
:func:`partlift.validation.config_from_dict`, re-exported here), and
:func:`config_hash` keys the on-disk preprocessing cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from partlift.geometry.part_names import has_sided_pairs
from partlift.render.camera import PARTSLIP_VIEWS
from partlift.validation import bounded, validate_config
from partlift.validation import config_from_dict as config_from_dict  # re-exported: the one JSON loader

# PartSLIP's small-part priority list (bbox2seg.py): a superpoint that passes the null threshold for
# one of these parts takes it even if a larger part scores higher.
SMALL_PARTS: tuple[str, ...] = (
    "handle", "button", "wheel", "knob", "switch", "bulb", "shaft", "touchpad", "camera", "screw",
)
PARTSLIP_IMAGE_SIZE = 800
PARTSLIP_RADIUS_NDC = 0.005  # PyTorch3D point radius in NDC units: 2 px at 800 px


@dataclass(frozen=True)
class ViewConfig:
    """Rendering of the point cloud into PartSLIP's fixed views."""

    image_size: int = bounded(128, ge=16, le=4096)
    """Square image side in pixels. PartSLIP: 800. CPU default 128 (docs/PARTSTAD.md, "Views")."""
    radius_px: float | None = bounded(None, gt=0)
    """Splat radius in pixels; None = from the point density (neighbouring splats overlap, so back
    surfaces do not leak through holes), never below PartSLIP's 0.005 NDC (2 px at 800 px)."""
    fov: float = bounded(60.0, gt=0, lt=180)
    """Full vertical field of view in degrees (PyTorch3D FoVPerspectiveCameras default)."""
    distance: float = bounded(2.2, gt=0)
    """Camera distance from the origin (the cloud is normalised to the unit sphere)."""
    views: tuple[tuple[float, float], ...] = PARTSLIP_VIEWS
    """(elevation, azimuth) in degrees of each view; PartSLIP's 10 views."""

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass(frozen=True)
class SuperpointConfig:
    """L0 cut-pursuit over-segmentation (PartSLIP ``gen_superpoint``)."""

    k: int = bounded(10, ge=1)
    """Neighbours per point of the cut-pursuit graph (directed edges i -> its k NN)."""
    reg: float = bounded(0.05, ge=0)
    """Cut-pursuit regularisation strength; larger = fewer, bigger superpoints."""
    color_weight: float = bounded(0.3, ge=0)
    """Node features are [normal, color_weight * rgb]."""
    edge_lambda: float = bounded(1.0, gt=0)
    """lambda_e of the edge weight (1 / (lambda_e + d/mean d + |df|/mean |df|))^2."""
    min_size: int = bounded(10, ge=0)
    """Components with at most this many points are merged into their nearest bigger component."""
    normal_radius: float = bounded(0.1, gt=0)
    """Radius of the normal-estimation neighbourhood (Open3D hybrid search, unit-sphere units)."""
    normal_max_nn: int = bounded(30, ge=1)
    """At most this many neighbours (within ``normal_radius``) per normal estimate."""

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass(frozen=True)
class VotingConfig:
    """PartSLIP voting (Eq. 1) and instance merging constants."""

    null_threshold: float = bounded(0.5, ge=0, le=1)
    """A superpoint whose best score (or best label probability) is below this stays unlabelled."""
    whole_object_ratio: float = bounded(0.98, ge=0, le=1)
    """Proposals containing at least this fraction of all projected points are dropped (whole object)."""
    small_parts: tuple[str, ...] = SMALL_PARTS
    """PartSLIP's small-part priority list (reverse label order scan), applied to PartNetE part names."""
    small_part_share: float = bounded(0.05, gt=0, le=1)
    """Any other part name (a user's taxonomy, ``wheel_front_left``) counts as small when its median
    share of the labelled points of the few-shot shapes that contain it is below this."""
    adjacency_threshold: float = bounded(0.02, ge=0)
    """Superpoints are adjacent if their 3D boxes overlap or are closer than this along every axis."""
    ratio_distance: float = bounded(0.2, ge=0)
    """PartSLIP instance merge: maximum box-ratio distance of two superpoints."""
    size_ratio: float = bounded(100.0, ge=1)
    """PartSLIP instance merge: maximum size ratio of two superpoints."""
    instance_iou: float = bounded(0.5, ge=0, le=1)
    """PartSLIP keeps a merged instance if some view's 2D box of it has IoU > this with a proposal."""
    min_visible: int = bounded(1, ge=1)
    """A view counts for a superpoint only if it sees at least this many of its points (PartSLIP 1,
    PartSTAD's training code 2; see :class:`TrainConfig`)."""
    instance_membership: Literal["box", "mask"] = "box"
    """Proposal membership compared when merging superpoints into instances: "box" (PartSLIP's
    in-box ratios; chosen on the validation split, docs/PARTSTAD.md) or "mask"."""
    split_superpoints: Literal["auto", "on", "off"] = "auto"
    """Split superpoints that straddle parts along the 2D proposals (docs/PARTSTAD.md, "Superpoints
    split by the proposals"): every point gets the label its proposals vote for, smoothed over its
    nearest neighbours, and a label held by at least ``split_share`` of a superpoint's points becomes
    a superpoint of its own. "auto": the model is fitted both ways and keeps the split only if it
    raises the validation mIoU (no validation shapes: off); "on" / "off" force it."""
    split_share: float = bounded(0.05, gt=0, le=1)
    """Smallest share of a superpoint's points (and at least ``split_min_points``) a label needs to
    be split off (chosen on the car validation shapes: 0.05 / 0.1 / 0.2 gave 57.0 / 55.0 / 50.6)."""
    split_min_points: int = bounded(10, ge=1)
    """Smallest piece split off a superpoint (PartSLIP's smallest superpoint is 11 points)."""
    split_neighbours: int = bounded(10, ge=0)
    """Neighbours whose point labels smooth a point's own (majority vote; 0 = no smoothing)."""

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass(frozen=True)
class WeightNetConfig:
    """PartSTAD's weight network (``WeightPredNetworkCNe``, ``--network linear_cn``)."""

    tau: float = 10.0
    """Offset of phi(x) = max(tau + x, 0)."""
    pos_enc: bool = True
    """Append a NeRF positional encoding of [view direction, box / image size]."""
    num_freqs: int = bounded(10, ge=0)
    """Frequencies 2^0 .. 2^(num_freqs-1) of the positional encoding."""
    init_std: float = bounded(1e-4, ge=0)
    """Standard deviation of the initial Linear weights (biases start at 0), so W(b) ~ tau at init."""
    cn_eps: float = bounded(1e-6, gt=0)
    """Added to the context-norm std: the public code divides by 0 for a shape with one proposal."""

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass(frozen=True)
class TrainConfig:
    """PartSTAD optimisation (``run_partstad.py`` defaults)."""

    epochs: int = bounded(400, ge=1)
    """Passes over the few-shot shapes."""
    batch_size: int = bounded(2, ge=1)
    """Shapes per step (8 shapes -> 4 steps per epoch)."""
    lr: float = bounded(1e-4, gt=0)
    """AdamW learning rate of the weight network."""
    null_lr: float = bounded(0.05, gt=0)
    """AdamW learning rate of the null score."""
    weight_decay: float = bounded(0.01, ge=0)
    """AdamW weight decay (PyTorch default) for both parameter groups."""
    null_init: float = 10.0
    """Initial unnormalised null score."""
    null_floor: float = bounded(5e-4, ge=0)
    """Null logit = max(relu(theta_null), null_floor)."""
    loss: Literal["mriou", "ce"] = "mriou"
    """"mriou" (Eq. 2-4) or "ce" (cross-entropy on superpoint soft labels; supplementary ablation)."""
    min_visible: int = bounded(2, ge=1)
    """A view counts for a superpoint only if it sees at least this many of its points."""
    validate_every: int = bounded(1, ge=1)
    """Validate (mIoU on the validation shapes) every this many epochs; the best epoch is kept."""
    seed: int = bounded(0, ge=0)
    """Seed of the network initialisation and the batch order."""

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass(frozen=True)
class NoiseConfig:
    """Corruption of ground-truth proposals (``noisy-oracle``)."""

    drop_rate: float = bounded(0.2, ge=0, le=1)
    """Probability that a ground-truth instance mask is dropped."""
    false_positive_rate: float = bounded(0.2, ge=0)
    """Expected number of spurious proposals per true proposal (random blobs with random labels)."""
    label_swap_rate: float = bounded(0.1, ge=0, le=1)
    """Probability that a kept proposal gets a wrong random label."""
    box_jitter: float = bounded(0.1, ge=0)
    """Box sides move by up to this fraction of the box size; the mask is cut to the jittered box."""

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass(frozen=True)
class ProposerConfig:
    """2D part proposals (``partlift.partstad.proposals``)."""

    kind: Literal["learned", "oracle", "noisy-oracle", "grounding-dino"] = "learned"
    """"learned" (default), "oracle", "noisy-oracle", "grounding-dino"."""
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    """Noise of ``noisy-oracle``."""
    min_area_px: int = bounded(4, ge=0)
    """Proposals (instance masks) smaller than this many pixels are discarded."""
    seed: int = bounded(0, ge=0)
    """Seed of the noisy oracle (combined with the shape name and view)."""
    model_path: str = ""
    """Local folder of the transformers Grounding DINO (``grounding-dino``)."""
    sam_path: str = ""
    """Local folder of the transformers ``SamModel`` turning detector boxes into masks ("" = box masks)."""
    box_threshold: float = bounded(0.3, ge=0, le=1)
    """Detector score threshold of the transformers proposers (PartSLIP keeps GLIP boxes above 0.5)."""
    prompt_steps: int = bounded(100, ge=0)
    """Prompt-tuning steps of the transformers detector on the few-shot renders (0 = zero-shot)."""
    hf_input_size: int = bounded(0, ge=0, le=4096)
    """Image side fed to the transformers detector (0 = the model folder's setting, else 800)."""

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass(frozen=True)
class LearnedProposerConfig:
    """The compact CNN part detector/segmenter (``partlift.models.proposal_net``) and its training."""

    width: int = bounded(16, ge=1)
    """Channels of the first U-Net level (doubled per level)."""
    depth: int = bounded(4, ge=1)
    """Number of U-Net resolution levels."""
    train_views: int = bounded(48, ge=1)
    """Random views rendered per few-shot shape into the training pool (appearance is randomised
    per batch)."""
    steps: int = bounded(600, ge=0)
    """Optimiser steps (batches drawn from the pool of ``train_views`` renders per shape)."""
    batch_size: int = bounded(8, ge=1)
    """Images per step."""
    lr: float = bounded(3e-3, gt=0)
    """AdamW learning rate (cosine decay)."""
    thresholds: tuple[float, ...] = bounded((0.1, 0.3, 0.5, 0.7), ge=0, le=1)
    """Part-probability thresholds; connected components at each give the instance proposals that
    PartSTAD's learned weights vote with. Chosen for PartSTAD on the validation split
    (docs/PARTSTAD.md): the low threshold adds loose, low-confidence proposals the weights can use
    or discount."""
    unweighted_thresholds: tuple[float, ...] = bounded((0.3, 0.5, 0.7), ge=0, le=1)
    """Thresholds of the proposals voted with unit weights (PartSLIP, "w/o weight prediction",
    SATR in the benchmark), chosen for PartSLIP on the validation split: without weights the
    loose low-threshold proposals only blur the vote."""
    boundary_threshold: float = bounded(0.5, ge=0, le=1)
    """Pixels with instance-boundary probability above this split touching instances."""
    max_proposals_per_view: int = bounded(40, ge=1)
    """Keep at most this many proposals per view (highest score first)."""
    seed: int = bounded(0, ge=0)
    """Seed of the render sampling, augmentation and initialisation."""
    frame_channels: Literal["auto", "on", "off"] = "auto"
    """Three more input channels: the object-frame coordinates (x, y, z, unit-sphere normalised) of
    the point owning each pixel. A part named by side (``wheel_front_left``) is defined in the object
    frame (docs/CONVENTIONS.md), which view-relative inputs (colour, camera-frame normals, depth)
    only show through the object's facing direction; a car's side views look alike whichever way it
    faces, and without the frame the network never learns the sides (docs/PARTSTAD.md, "Parts named
    by side"). "auto": on when some part's side counterpart is also a part (``door_left`` and
    ``door_right``; :func:`partlift.geometry.part_names.has_sided_pairs`), else off, so the PartNetE
    categories keep the 5 geometry channels (a chair's lone ``back`` is a backrest, not a side)."""

    def __post_init__(self) -> None:
        validate_config(self)

    def uses_frame(self, part_names: Sequence[str]) -> bool:
        """Whether a proposer for ``part_names`` gets the object-frame channels (``frame_channels``)."""
        if self.frame_channels != "auto":
            return self.frame_channels == "on"
        return has_sided_pairs(part_names)

    def training_settings(self) -> dict:
        """The fields that affect training (a trained network is valid for any value of the rest)."""
        inference_only = ("thresholds", "unweighted_thresholds", "boundary_threshold", "max_proposals_per_view")
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in inference_only}


@dataclass(frozen=True)
class PartSTADConfig:
    """Everything that defines a PartSTAD model (saved as JSON beside its weights)."""

    views: ViewConfig = field(default_factory=ViewConfig)
    superpoints: SuperpointConfig = field(default_factory=SuperpointConfig)
    proposer: ProposerConfig = field(default_factory=ProposerConfig)
    learned: LearnedProposerConfig = field(default_factory=LearnedProposerConfig)
    voting: VotingConfig = field(default_factory=VotingConfig)
    weight_net: WeightNetConfig = field(default_factory=WeightNetConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    use_masks: bool = True
    """Lift proposal masks (PartSTAD, SAM integration); False lifts their boxes (PartSLIP)."""
    weights: Literal["learned", "confidence", "none"] = "learned"
    """"learned" (the weight network), "none" (all 1, PartSLIP voting), "confidence" (tau * score,
    only the null score is fitted)."""

    def __post_init__(self) -> None:
        validate_config(self)


# ---------------------------------------------------------------------------------------------- JSON


def config_to_dict(cfg: Any) -> dict:
    """A JSON-ready dict of a (nested) config dataclass; tuples become lists."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def config_hash(*parts: object) -> str:
    """A short stable hash of configs / plain values (keys the preprocessing cache)."""
    blob = json.dumps(
        [config_to_dict(p) if dataclasses.is_dataclass(p) else p for p in parts], sort_keys=True, default=str
    )
    return hashlib.sha1(blob.encode()).hexdigest()[:12]
