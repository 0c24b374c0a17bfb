"""Mesh-to-image correspondence training (Part321 section 4.3 and A.1.1; NeMo's constants, docs/REFERENCES.md).

For every training image we know the pose and the template's vertices placed on the imaged mesh
(the correspondence-deformed template). Each visible vertex k (depth test, Eq. 8) projects to a
feature cell giving f_k = Phi(I)(p_k). The feature extractor is trained with the contrastive loss
of Eq. 6: cross-entropy of f_k against all vertex features Theta (vertices in k's 3D
neighbourhood excluded) and the clutter queue B (down-weighted by 5e-3), temperature 0.07; 5
background features per image feed the queue and a regulariser (0.1 x mean clutter . Theta)
pushes them away from the vertex features. Theta itself is updated without gradient by momentum
(Eq. 7) and re-normalised.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy.spatial import cKDTree
from tqdm.auto import tqdm

from partlift.errors import ReadError
from partlift.geometry.atomic import atomic_torch_save
from partlift.geometry.safe_load import load_state_dict_checked, load_torch_checkpoint, one_line
from partlift.part321.inference import torch_threads
from partlift.part321.losses import contrastive_loss
from partlift.part321.neural_mesh import DeformableNeuralMesh, init_features
from partlift.render.camera import Camera
from partlift.render.visibility import vertex_visibility
from partlift.validation import bounded, validate_config


@dataclass(frozen=True)
class FeatureTrainingConfig:
    """Contrastive training of Phi and Theta (NeMo / Part321 defaults unless noted)."""

    epochs: int = bounded(40, ge=1)
    """Passes over the training images."""
    batch_size: int = bounded(8, ge=1)
    """Images per step."""
    lr: float = bounded(1e-3, gt=0)
    """Adam learning rate (NeMo: 1e-4 for a pretrained ResNet; ours trains from scratch)."""
    weight_decay: float = bounded(1e-4, ge=0)
    """Adam weight decay (NeMo's)."""
    lr_milestones: tuple[float, ...] = bounded((0.5, 0.75), ge=0, le=1)
    """Fractions of training after which the learning rate is multiplied by 0.2 (NeMo's 400/600 of 800)."""
    temperature: float = bounded(0.07, gt=0)
    """Softmax temperature T of Eq. 6."""
    momentum: float = bounded(0.9, ge=0, le=1)
    """sigma of Eq. 7 (NeMo: 0.9 orig, 0.96 new)."""
    num_background: int = bounded(5, ge=0)
    """Background (clutter) features sampled per image."""
    clutter_size: int = bounded(2560, ge=1)
    """Length of the clutter queue (5 x 512, NeMo)."""
    weight_noise: float = bounded(5e-3, ge=0)
    """Weight of the clutter terms inside the softmax."""
    reg_weight: float = bounded(0.1, ge=0)
    """Weight of the clutter-vertex regulariser."""
    exclusion_radius: float = bounded(0.05, ge=0)
    """Vertices within this 3D distance of the target (template units) are left out of the softmax.
    NeMo: 0.1 for meshes a few units long; ours are normalised to a unit box (see docs/PART321.md)."""
    flip_negative_weight: float = bounded(10.0, gt=0)
    """Weight, inside Eq. 6's softmax, of each vertex's front/back flip partner (the vertex
    nearest its position turned 180 deg about the up axis, +Y; docs/CONVENTIONS.md) as a negative:
    > 1 makes the features tell a view from its flip apart, the largest pose error of the
    neural mesh. 1 = Eq. 6 unchanged; 10 chosen on the validation split (docs/PART321.md,
    decision 19). Partners inside the exclusion radius (near the up axis) are left out."""
    visibility_eps: float = bounded(0.01, ge=0)
    """Relative depth tolerance tau_r of the visibility test (Eq. 8)."""
    max_anchors: int = bounded(384, ge=1)
    """At most this many visible vertices per image enter the loss (all update Theta)."""
    augment: bool = True
    """Colour jitter and pixel noise on the training images."""
    scale_jitter: float = bounded(0.0, ge=0, lt=1)
    """Random zoom of the training images by a factor in [1 - s, 1 + s] about the centre (0 = off);
    projected vertices move with the image. Off by default: with 40 epochs it lowered car pose
    accuracy on the embedded data (docs/PART321.md)."""
    shift_jitter: float = bounded(0.0, ge=0, le=1)
    """Random shift of the training images by up to this fraction of their size (0 = off)."""
    threads: int = bounded(1, ge=1)
    """Torch threads while training."""
    seed: int = bounded(0, ge=0)
    """Seed of initialisation, batching, sampling and augmentation."""

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass
class TrainingView:
    """One training image with its geometry.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        camera: the image's camera (object at the world origin).
        vertices: (K, 3) object-frame positions of the template's vertices on the imaged mesh.
        depth: (H, W) camera depth of the imaged mesh (``inf`` = background), for visibility.
        mask: (H, W) bool object mask; default ``depth < inf``.
        name: identifier.
    """

    image: np.ndarray
    camera: Camera
    vertices: np.ndarray
    depth: np.ndarray
    mask: np.ndarray | None = None
    name: str = ""


@dataclass
class _Prepared:
    image: torch.Tensor  # (3, H, W) float
    visible: np.ndarray  # (N,) vertex ids
    cells: np.ndarray  # (N,) flat feature-cell index
    background: np.ndarray  # (M,) flat cell indices outside the object
    uv: np.ndarray  # (N, 2) pixel positions of the visible vertices
    mask: torch.Tensor  # (1, H, W) float object mask


def _prepare(view: TrainingView, stride: int, cfg: FeatureTrainingConfig) -> _Prepared:
    h, w = view.image.shape[:2]
    if view.camera.width != w or view.camera.height != h:
        raise ValueError(
            f"training view {view.name!r}: camera {view.camera.width}x{view.camera.height} "
            f"does not match the image {w}x{h}"
        )
    vis = vertex_visibility(view.vertices, view.camera, view.depth, eps=cfg.visibility_eps, two_sided=True)
    ids = np.flatnonzero(vis)
    uv, _ = view.camera.project(view.vertices[ids])
    hw, ww = h // stride, w // stride
    cj = np.clip(np.floor(uv[:, 0] / stride).astype(np.int64), 0, ww - 1)
    ci = np.clip(np.floor(uv[:, 1] / stride).astype(np.int64), 0, hw - 1)
    mask = view.mask if view.mask is not None else np.isfinite(view.depth)
    # a cell is background if no object pixel falls in it (NeMo max-pools the object mask)
    obj_cells = mask[: hw * stride, : ww * stride].reshape(hw, stride, ww, stride).any(axis=(1, 3))
    bg = np.flatnonzero(~obj_cells.reshape(-1))
    img = torch.as_tensor(np.array(view.image, dtype=np.float32)).permute(2, 0, 1) / 255.0
    return _Prepared(img, ids, ci * ww + cj, bg, uv, torch.as_tensor(mask.astype(np.float32))[None])


def _cells(uv: np.ndarray, mask: torch.Tensor, stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature cells of pixel positions (keep: inside the image) and background cells of a mask."""
    h, w = mask.shape[-2:]
    hw, ww = h // stride, w // stride
    keep = (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
    cj = np.clip(np.floor(uv[:, 0] / stride).astype(np.int64), 0, ww - 1)
    ci = np.clip(np.floor(uv[:, 1] / stride).astype(np.int64), 0, hw - 1)
    m = mask[0, : hw * stride, : ww * stride].cpu().numpy() > 0.5
    obj = m.reshape(hw, stride, ww, stride).any(axis=(1, 3))
    return keep, ci * ww + cj, np.flatnonzero(~obj.reshape(-1))


def _geometric_augment(batch: list[_Prepared], stride: int, cfg, rng: np.random.Generator):
    """Zoom / shift every image of a batch; returns images and per-image (visible, cells, background)."""
    imgs = torch.stack([p.image for p in batch])
    masks = torch.stack([p.mask for p in batch])
    b, _, h, w = imgs.shape
    scale = 1.0 + cfg.scale_jitter * (2 * rng.random(b) - 1)
    shift = cfg.shift_jitter * (2 * rng.random((b, 2)) - 1) * np.array([w, h])
    theta = np.zeros((b, 2, 3))
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0 / scale
    theta[:, 0, 2] = -(2 * shift[:, 0] / w) / scale
    theta[:, 1, 2] = -(2 * shift[:, 1] / h) / scale
    grid = torch.nn.functional.affine_grid(torch.as_tensor(theta, dtype=torch.float32), [b, 3, h, w],
                                           align_corners=False)
    imgs = torch.nn.functional.grid_sample(imgs, grid, mode="bilinear", padding_mode="reflection",
                                           align_corners=False)
    masks = torch.nn.functional.grid_sample(masks, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    centre = np.array([w / 2.0, h / 2.0])
    geo = []
    for i, p in enumerate(batch):
        uv = scale[i] * (p.uv - centre) + centre + shift[i]
        keep, cells, bg = _cells(uv, masks[i], stride)
        geo.append((p.visible[keep], cells[keep], bg))
    return imgs, geo


def _augment(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    b = images.shape[0]
    # drawn on the CPU from the seeded generator: the same augmentation on every device
    gain = 1.0 + 0.4 * (torch.rand(b, 3, 1, 1, generator=gen, device="cpu") - 0.5)
    bias = 0.2 * (torch.rand(b, 1, 1, 1, generator=gen, device="cpu") - 0.5)
    noise = 0.02 * torch.randn(tuple(images.shape), generator=gen, device="cpu")
    return (images * gain.to(images.device) + bias.to(images.device) + noise.to(images.device)).clamp(0.0, 1.0)


@dataclass
class FeatureTrainingState:
    """What training returns besides the trained network: losses per epoch and timing."""

    epoch_losses: list = field(default_factory=list)
    seconds: float = 0.0
    epochs_done: int = 0


def train_features(
    net: torch.nn.Module,
    mesh: DeformableNeuralMesh,
    views: list[TrainingView],
    cfg: FeatureTrainingConfig = FeatureTrainingConfig(),
    checkpoint: str | Path | None = None,
    progress: bool = False,
    stop_after: int | None = None,
    device: str | torch.device = "cpu",
) -> FeatureTrainingState:
    """Train ``net`` (Phi) and the mesh's features Theta and clutter queue in place.

    Args:
        net: feature extractor with attributes ``stride`` and ``dim`` = mesh.feature_dim.
        mesh: the neural mesh; its ``features`` and ``clutter`` are replaced.
        views: training images with geometry.
        cfg: settings.
        checkpoint: file written after every epoch and resumed from if it exists.
        progress: show a progress bar.
        stop_after: train at most this many epochs in this call (resume later from ``checkpoint``).
        device: torch device of the network, the feature bank and the losses.
    """
    if not views:
        raise ValueError("feature training needs at least one training view")
    if net.dim != mesh.feature_dim:
        raise ValueError(f"feature extractor dim {net.dim} != neural mesh feature dim {mesh.feature_dim}")
    dev = torch.device(device)
    with torch_threads(cfg.threads), torch.device(dev):
        return _train(net.to(dev), mesh, views, cfg, checkpoint, progress, stop_after)


def _train(net, mesh, views, cfg, checkpoint, progress, stop_after) -> FeatureTrainingState:
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    stride = net.stride
    prepared = [_prepare(v, stride, cfg) for v in views]
    template = torch.as_tensor(mesh.vertices)
    partner = torch.as_tensor(flip_partners(mesh.vertices, cfg.exclusion_radius))
    bank = torch.as_tensor(mesh.features).clone()
    clutter = torch.as_tensor(init_features(cfg.clutter_size, mesh.feature_dim, cfg.seed + 1))
    clutter_ptr = 0
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(prepared) / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    milestones = [int(f * total) for f in cfg.lr_milestones]
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.2)
    state = FeatureTrainingState()
    start_epoch = 0
    if checkpoint is not None and Path(checkpoint).exists():
        what, hint = "feature-training checkpoint", "delete it to train from the start"
        ck = load_torch_checkpoint(checkpoint, what=what, hint=hint, keys=(
            "config", "num_views", "epoch", "net", "opt", "sched", "bank", "clutter", "clutter_ptr", "gen", "rng",
            "epoch_losses"))
        if ck["config"] == asdict(cfg) and ck["num_views"] == len(views):
            load_state_dict_checked(net, ck["net"], checkpoint, what=what, hint=hint)
            try:
                opt.load_state_dict(ck["opt"])
                sched.load_state_dict(ck["sched"])
                if ck["bank"].shape != bank.shape or ck["clutter"].shape != clutter.shape:
                    raise ValueError("feature bank shapes differ")
                bank, clutter = ck["bank"].to(bank.device), ck["clutter"].to(bank.device)
                clutter_ptr = int(ck["clutter_ptr"])
                gen.set_state(ck["gen"])
                rng.bit_generator.state = ck["rng"]
                state.epoch_losses = list(ck["epoch_losses"])
                start_epoch = int(ck["epoch"])
            except (AttributeError, KeyError, TypeError, ValueError, RuntimeError) as exc:
                msg = f"{checkpoint} is a damaged {what} ({type(exc).__name__}: {one_line(exc)}); {hint}"
                raise ReadError(msg) from exc
    net.train()
    bar = tqdm(total=cfg.epochs, initial=start_epoch, desc="features", disable=not progress, leave=False)
    end_epoch = cfg.epochs if stop_after is None else min(cfg.epochs, start_epoch + stop_after)
    for epoch in range(start_epoch, end_epoch):
        order = rng.permutation(len(prepared))
        losses = []
        for s in range(steps_per_epoch):
            batch = [prepared[i] for i in order[s * cfg.batch_size : (s + 1) * cfg.batch_size]]
            if cfg.augment and (cfg.scale_jitter > 0 or cfg.shift_jitter > 0):
                images, geo = _geometric_augment(batch, stride, cfg, rng)
            else:
                images = torch.stack([p.image for p in batch])
                geo = [(p.visible, p.cells, p.background) for p in batch]
            if cfg.augment:
                images = _augment(images, gen)
            fmap = net(images)  # (B, C, h, w)
            b, c, h, w = fmap.shape
            flat = fmap.flatten(2).transpose(1, 2)  # (B, h*w, C)
            loss = fmap.new_zeros(())
            vis_sum = torch.zeros_like(bank)
            vis_cnt = torch.zeros(len(bank))
            new_clutter = []
            for i, (visible, cells, background) in enumerate(geo):
                if len(visible):
                    feats = flat[i, torch.as_tensor(cells)]  # (N, C)
                    ids = torch.as_tensor(visible)
                    vis_sum.index_add_(0, ids, feats.detach())
                    vis_cnt.index_add_(0, ids, torch.ones(len(ids)))
                    if len(ids) > cfg.max_anchors:
                        sel = torch.as_tensor(np.sort(rng.choice(len(ids), cfg.max_anchors, replace=False)))
                        feats, ids = feats[sel], ids[sel]
                    d = torch.cdist(template[ids], template)
                    exclude = d <= cfg.exclusion_radius
                    exclude[torch.arange(len(ids)), ids] = False
                    loss = loss + contrastive_loss(
                        feats, ids, bank, clutter, exclude, cfg.temperature, cfg.weight_noise,
                        partner[ids], cfg.flip_negative_weight,
                    ) / len(batch)
                if len(background) and cfg.num_background > 0:
                    few = len(background) < cfg.num_background
                    pick = rng.choice(background, size=cfg.num_background, replace=few)
                    bgf = flat[i, torch.as_tensor(pick)]
                    new_clutter.append(bgf.detach())
                    loss = loss + cfg.reg_weight * (bgf @ bank.t()).mean() / len(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                seen = vis_cnt > 0
                # Eq. 7 with o_k = 1 for vertices seen in the batch (mean of their features)
                mean = vis_sum[seen] / vis_cnt[seen, None]
                bank[seen] = torch.nn.functional.normalize(
                    cfg.momentum * bank[seen] + (1.0 - cfg.momentum) * mean, dim=1
                )
                for bgf in new_clutter:
                    idx = (clutter_ptr + torch.arange(len(bgf))) % len(clutter)
                    clutter[idx] = bgf
                    clutter_ptr = int((clutter_ptr + len(bgf)) % len(clutter))
            losses.append(float(loss.detach()))
        state.epoch_losses.append(float(np.mean(losses)))
        bar.update(1)
        bar.set_postfix(loss=f"{state.epoch_losses[-1]:.3f}")
        if checkpoint is not None:
            atomic_torch_save({
                "config": asdict(cfg), "num_views": len(views), "epoch": epoch + 1, "net": net.state_dict(),
                "opt": opt.state_dict(), "sched": sched.state_dict(), "bank": bank.cpu(), "clutter": clutter.cpu(),
                "clutter_ptr": clutter_ptr, "gen": gen.get_state(), "rng": rng.bit_generator.state,
                "epoch_losses": state.epoch_losses,
            }, checkpoint)
    bar.close()
    net.eval()
    mesh.features = bank.cpu().numpy().astype(np.float32)
    mesh.clutter = clutter.cpu().numpy().astype(np.float32)
    mesh.invalidate()
    state.seconds = time.perf_counter() - t0
    state.epochs_done = end_epoch
    return state


def flip_partners(vertices: np.ndarray, exclusion_radius: float) -> np.ndarray:
    """(K,) int64: for each of the (K, 3) template vertices, the vertex nearest its position turned
    180 deg about the up axis ((x, y, z) -> (-x, y, -z), docs/CONVENTIONS.md), the vertex a
    front/back pose flip shows in its place; -1 where that partner lies within
    ``exclusion_radius`` of the vertex (it is already left out of Eq. 6)."""
    v = np.asarray(vertices, np.float64)
    turned = v * np.array([-1.0, 1.0, -1.0])
    _, idx = cKDTree(v).query(turned)
    idx = np.asarray(idx, np.int64)
    far = np.linalg.norm(v[idx] - v, axis=1) > exclusion_radius
    return np.where(far, idx, -1)


def config_json(cfg: FeatureTrainingConfig) -> str:
    return json.dumps(asdict(cfg), indent=2)
