"""Mesh-to-mesh correspondence (Part321 section 4.2, A.1.2) and its self-supervised pretraining.

- :func:`pretrain_pointnet`: a PointNet++ encoder trained by reconstruction on procedural shapes
  of all Part321 categories (capsule/atlas decoder + Chamfer loss, plus a per-point position
  head and Canonical-Capsules-style locality / equilibrium terms). No part labels are used.
- :class:`MeshCorrespondence`: per-vertex features (1024 sampled points -> PointNet++ ->
  inverse-distance softmax interpolation to every vertex) and the correspondence
  ``Corr(y1, k, y2) = argmax_k' cos(gamma_{y1,k}, gamma_{y2,k'})`` (Eq. 1). ``method="geometric"``
  is the baseline: nearest neighbour in unit-box-normalised canonical coordinates;
  ``method="hybrid"`` concatenates both (features and weighted coordinates).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from scipy.spatial import cKDTree
from tqdm.auto import tqdm

from partlift.errors import PartliftError, ReadError
from partlift.geometry.atomic import atomic_torch_save
from partlift.geometry.normalize import unit_box_normalization
from partlift.geometry.partmesh import PartMesh
from partlift.geometry.safe_load import load_state_dict_checked, load_torch_checkpoint, one_line
from partlift.geometry.sampling import sample_surface
from partlift.metrics.chamfer import chamfer_distance_torch
from partlift.models.pointnet2 import CapsuleAtlasDecoder, PointNet2Config, PointNet2Encoder
from partlift.part321.inference import torch_threads
from partlift.validation import bounded, validate_config


# ----------------------------------------------------------------------------------- pretraining
@dataclass(frozen=True)
class PretrainConfig:
    """Self-supervised reconstruction pretraining of the PointNet++ encoder."""

    categories: tuple[str, ...] | None = None
    """Procedural categories to train on (None = all Part321 categories)."""
    shapes_per_category: int = bounded(24, ge=1)
    """Generated shapes per category (seeds ``seed_offset + i``, disjoint from the datasets' seeds)."""
    seed_offset: int = bounded(900_000, ge=0)
    """First shape seed."""
    num_points: int = bounded(1024, ge=1)
    """Points sampled per shape (the paper's 1024)."""
    steps: int = bounded(1000, ge=1)
    """Adam steps."""
    batch_size: int = bounded(8, ge=1)
    """Shapes per step."""
    lr: float = bounded(1e-3, gt=0)
    """Adam learning rate (Canonical Capsules' 1e-3), cosine-decayed."""
    capsules: int = bounded(10, ge=1)
    """Capsules of the decoder (Canonical Capsules' 10)."""
    position_weight: float = bounded(1.0, ge=0)
    """Weight of the per-point position regression (features must encode where a point is)."""
    locality_weight: float = bounded(1.0, ge=0)
    """Weight of the capsule locality term (attention-weighted squared distance to the capsule centre)."""
    equilibrium_weight: float = bounded(1e-3, ge=0)
    """Weight of the capsule equilibrium term (variance of capsule masses)."""
    scale_jitter: float = bounded(0.15, ge=0, lt=1)
    """Random anisotropic scaling 1 +- this per axis (robustness to proportions)."""
    encoder: PointNet2Config = field(default_factory=PointNet2Config)
    """Encoder architecture."""
    threads: int = bounded(1, ge=1)
    """Torch threads (1: extra threads mostly spin on a shared 2-core machine)."""
    seed: int = bounded(0, ge=0)
    """Seed of initialisation, sampling and augmentation."""

    def __post_init__(self) -> None:
        validate_config(self)

    def key(self) -> str:
        """Short hash naming the cached weights of this configuration."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True, default=str).encode()).hexdigest()[:12]


def pretraining_shapes(cfg: PretrainConfig) -> list[PartMesh]:
    """The procedural shapes of the pretraining set (geometry only is used)."""
    from partlift.shapes.registry import generate, list_categories

    cats = list(cfg.categories) if cfg.categories else list_categories("part321")
    return [generate(c, cfg.seed_offset + i) for c in cats for i in range(cfg.shapes_per_category)]


@dataclass
class PretrainResult:
    encoder: PointNet2Encoder
    history: list
    seconds: float


RESTART = "delete it to train from the start"


def pretrain_pointnet(
    cfg: PretrainConfig = PretrainConfig(),
    shapes: list[PartMesh] | None = None,
    checkpoint: str | Path | None = None,
    progress: bool = False,
) -> PretrainResult:
    """Train a PointNet++ encoder by reconstruction (no labels). Resumes from ``checkpoint``."""
    with torch_threads(cfg.threads):
        return _pretrain(cfg, shapes, checkpoint, progress)


def _pretrain(cfg, shapes, checkpoint, progress) -> PretrainResult:
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    shapes = pretraining_shapes(cfg) if shapes is None else shapes
    if not shapes:
        raise PartliftError("pointnet pretraining needs at least one shape")
    # a pool of point sets per shape (4 samplings each), normalised to the unit box
    sets = []
    for i, m in enumerate(shapes):
        v = unit_box_normalization(m.vertices).apply(m.vertices)
        mm = m.copy(vertices=v)
        sets.append(np.stack([sample_surface(mm, cfg.num_points, seed=cfg.seed * 7919 + i * 4 + j).points
                              for j in range(4)]))
    pool = torch.as_tensor(np.stack(sets))  # (S, 4, N, 3)
    enc = PointNet2Encoder(cfg.encoder)
    dec = CapsuleAtlasDecoder(enc.dim, enc.global_dim, cfg.capsules)
    pos_head = torch.nn.Linear(enc.dim, 3)
    params = list(enc.parameters()) + list(dec.parameters()) + list(pos_head.parameters())
    opt = torch.optim.Adam(params, lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.steps, eta_min=cfg.lr * 0.05)
    history: list[float] = []
    start = 0
    if checkpoint is not None and Path(checkpoint).exists():
        ck = load_torch_checkpoint(checkpoint, what="PointNet++ pretraining checkpoint", hint=RESTART,
                                   keys=("config", "enc", "dec", "pos", "opt", "sched", "rng", "torch_rng",
                                         "history", "step"))
        if ck["config"] == asdict(cfg):
            what = "PointNet++ pretraining checkpoint"
            load_state_dict_checked(enc, ck["enc"], checkpoint, what=what, hint=RESTART)
            load_state_dict_checked(dec, ck["dec"], checkpoint, what=what, hint=RESTART)
            load_state_dict_checked(pos_head, ck["pos"], checkpoint, what=what, hint=RESTART)
            try:
                opt.load_state_dict(ck["opt"])
                sched.load_state_dict(ck["sched"])
                rng.bit_generator.state = ck["rng"]
                torch.set_rng_state(ck["torch_rng"])
                history, start = list(ck["history"]), int(ck["step"])
            except (KeyError, TypeError, ValueError, RuntimeError) as exc:
                raise ReadError(f"{checkpoint} is a damaged {what} ({type(exc).__name__}); {RESTART}") from exc
    per = cfg.num_points // cfg.capsules
    enc.train()
    dec.train()
    for step in tqdm(range(start, cfg.steps), desc="pointnet++", disable=not progress, leave=False,
                     initial=start, total=cfg.steps):
        pick = rng.integers(0, len(pool), size=cfg.batch_size)
        which = rng.integers(0, 4, size=cfg.batch_size)
        xyz = pool[torch.as_tensor(pick), torch.as_tensor(which)].float()
        scale = torch.as_tensor(1.0 + cfg.scale_jitter * (2 * rng.random((cfg.batch_size, 1, 3)) - 1), dtype=xyz.dtype)
        xyz = xyz * scale
        feats, glob = enc(xyz)
        grid = torch.rand(cfg.batch_size, cfg.capsules, per, 2)
        recon, att, centers = dec(xyz, feats, glob, grid)
        loss = chamfer_distance_torch(recon, xyz).mean()
        if cfg.position_weight > 0:
            loss = loss + cfg.position_weight * ((pos_head(feats) - xyz) ** 2).sum(-1).mean()
        if cfg.locality_weight > 0:
            d = ((xyz[:, :, None] - centers[:, None]) ** 2).sum(-1)  # (B, N, K)
            loss = loss + cfg.locality_weight * (att * d).sum(1).div(att.sum(1).clamp_min(1e-6)).mean()
        if cfg.equilibrium_weight > 0:
            mass = att.mean(1)  # (B, K)
            loss = loss + cfg.equilibrium_weight * ((mass - 1.0 / cfg.capsules) ** 2).sum(-1).mean() * cfg.capsules
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        history.append(float(loss.detach()))
        if checkpoint is not None and ((step + 1) % 100 == 0 or step + 1 == cfg.steps):
            atomic_torch_save({"config": asdict(cfg), "enc": enc.state_dict(), "dec": dec.state_dict(),
                               "pos": pos_head.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                               "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                               "history": history, "step": step + 1}, checkpoint)
    enc.eval()
    return PretrainResult(enc, history, time.perf_counter() - t0)


def save_encoder(encoder: PointNet2Encoder, path: str | Path, extra: dict | None = None) -> None:
    atomic_torch_save({"config": asdict(encoder.config), "state": encoder.state_dict(), "extra": extra or {}}, path)


def load_encoder(path: str | Path) -> PointNet2Encoder:
    """Read a file written by :func:`save_encoder`; ReadError naming it if it is missing, damaged or unsafe."""
    hint = "delete it to pretrain again"
    ck = load_torch_checkpoint(path, what="PointNet++ encoder", hint=hint, keys=("config", "state"))
    try:
        cfg = dict(ck["config"])
        kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()}
        enc = PointNet2Encoder(PointNet2Config(**kwargs))
    except (TypeError, ValueError) as exc:
        msg = f"{path} has no valid PointNet++ settings ({type(exc).__name__}: {one_line(exc)}); {hint}"
        raise ReadError(msg) from exc
    load_state_dict_checked(enc, ck["state"], path, what="PointNet++ encoder", hint=hint)
    return enc.eval()


def default_cache_dir() -> Path:
    """Where pretrained weights are cached: ``$PARTLIFT_CACHE`` or ``~/.cache/partlift``."""
    import os

    return Path(os.environ.get("PARTLIFT_CACHE", Path.home() / ".cache" / "partlift"))


def pretrained_encoder(
    cfg: PretrainConfig = PretrainConfig(), cache_dir: str | Path | None = None, progress: bool = False
) -> PointNet2Encoder:
    """The pretrained encoder of ``cfg``, trained once and cached (``<cache>/part321/pointnet2_<key>.pt``)."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = root / "part321" / f"pointnet2_{cfg.key()}.pt"
    if path.exists():
        return load_encoder(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    res = pretrain_pointnet(cfg, checkpoint=path.with_suffix(".ckpt"), progress=progress)
    save_encoder(res.encoder, path, {"pretrain": asdict(cfg), "seconds": res.seconds,
                                     "final_loss": float(np.mean(res.history[-50:]))})
    return res.encoder


# ----------------------------------------------------------------------------------- correspondence
CorrespondenceMethod = Literal["pointnet", "geometric", "hybrid"]


@dataclass(frozen=True)
class CorrespondenceConfig:
    """Mesh-to-mesh correspondence settings."""

    method: CorrespondenceMethod = "geometric"
    """"pointnet" (Eq. 1 on PointNet++ features, the paper's choice), "geometric" (nearest neighbour
    in unit-box coordinates) or "hybrid" (both, concatenated). Default "geometric": it transfers
    parts best on the embedded data (docs/PART321.md, Table 3 figures)."""
    num_points: int = bounded(1024, ge=1)
    """Surface points fed to PointNet++ (the paper's 1024)."""
    neighbours: int = bounded(3, ge=1)
    """Sampled points N(k) used to interpolate a vertex's feature (A.1.2)."""
    hybrid_weight: float = bounded(4.0, ge=0)
    """Weight of the unit-box coordinates in "hybrid" (features are unit vectors)."""
    seed: int = bounded(0, ge=0)
    """Seed of the surface sampling."""

    def __post_init__(self) -> None:
        validate_config(self)


def interpolate_point_features(
    vertices: np.ndarray, points: np.ndarray, features: np.ndarray, neighbours: int = 3
) -> np.ndarray:
    """A.1.2: ``gamma_k = sum_j softmax_j(1 / ||V_k - p_j||) Gamma_j`` over the ``neighbours`` nearest points.

    Args:
        vertices: (V, 3) mesh vertices; points: (N, 3) sampled points; features: (N, C).

    Returns:
        (V, C) float32 vertex features.
    """
    k = min(neighbours, len(points))
    dist, idx = cKDTree(points).query(vertices, k=k)
    dist, idx = dist.reshape(len(vertices), k), idx.reshape(len(vertices), k)
    w = 1.0 / np.maximum(dist, 1e-9)
    w = np.exp(w - w.max(axis=1, keepdims=True))  # stable softmax of the reciprocal distances
    w /= w.sum(axis=1, keepdims=True)
    return np.einsum("vk,vkc->vc", w, features[idx]).astype(np.float32)


def _normalised_vertices(mesh: PartMesh) -> np.ndarray:
    return unit_box_normalization(mesh.vertices).apply(mesh.vertices).astype(np.float32)


class MeshCorrespondence:
    """Dense vertex correspondence between meshes of one category (scikit-learn style)."""

    def __init__(self, config: CorrespondenceConfig = CorrespondenceConfig(), encoder: PointNet2Encoder | None = None):
        self.config = config
        self.encoder = encoder
        if config.method not in ("pointnet", "geometric", "hybrid"):
            raise ValueError(f"unknown correspondence method {config.method!r}")
        if config.method != "geometric" and encoder is None:
            raise ValueError(f"correspondence method {config.method!r} needs a PointNet++ encoder")

    def fit(self, meshes: list[PartMesh] | None = None) -> MeshCorrespondence:
        """Nothing to fit per category (the encoder is pretrained); kept for the estimator API."""
        return self

    def vertex_features(self, mesh: PartMesh) -> np.ndarray:
        """(V, C) float32 unit descriptors of every vertex (method-dependent, see the module docstring)."""
        v = _normalised_vertices(mesh)
        parts = []
        if self.config.method in ("pointnet", "hybrid"):
            pc = sample_surface(mesh.copy(vertices=v), self.config.num_points, seed=self.config.seed)
            assert self.encoder is not None  # checked in __init__
            with torch.no_grad(), torch_threads(2):
                f, _ = self.encoder(torch.as_tensor(pc.points)[None])
            f = interpolate_point_features(v, pc.points, f[0].numpy(), self.config.neighbours)
            parts.append(f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12))
        if self.config.method in ("geometric", "hybrid"):
            parts.append(v * (self.config.hybrid_weight if self.config.method == "hybrid" else 1.0))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def match_features(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """(Vs,) index of the best ``dst`` row for every ``src`` row (cosine argmax or Euclidean NN)."""
        if self.config.method == "pointnet":
            a = torch.as_tensor(src)
            b = torch.nn.functional.normalize(torch.as_tensor(dst), dim=1)
            a = torch.nn.functional.normalize(a, dim=1)
            out = [(a[i : i + 2048] @ b.t()).argmax(1) for i in range(0, len(a), 2048)]
            return torch.cat(out).numpy().astype(np.int64)
        _, idx = cKDTree(dst).query(src)
        return idx.astype(np.int64)

    def match(self, src: PartMesh, dst: PartMesh) -> np.ndarray:
        """Eq. 1: (V_src,) int64 index of the corresponding ``dst`` vertex of every ``src`` vertex."""
        return self.match_features(self.vertex_features(src), self.vertex_features(dst))

    def transfer_labels(self, template: PartMesh, mesh: PartMesh) -> np.ndarray:
        """(V_mesh,) part labels of ``mesh`` from the template: each vertex takes its match's label."""
        assert template.labels is not None  # set by PartMesh.__post_init__
        return template.labels[self.match(mesh, template)]


def correspondence_errors(mesh: PartMesh, predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-source-vertex distance on ``mesh`` between predicted and true matches (NaN where truth is -1)."""
    out = np.full(len(predicted), np.nan)
    ok = truth >= 0
    out[ok] = np.linalg.norm(mesh.vertices[predicted[ok]] - mesh.vertices[truth[ok]], axis=1)
    return out
