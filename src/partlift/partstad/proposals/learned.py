"""The ``learned`` proposer: a compact CNN part segmenter trained on randomised renders of the
few-shot shapes, whose instance proposals PartSTAD lifts and re-weights.

Training (only the 8 few-shot shapes of the category are used): every step renders fresh views
of random shapes (random elevation / azimuth / distance / look-at jitter, or one of PartSLIP's
fixed views), with random point dropout and splat size, colour jitter, random Lambert shading and
occasional coloured or noisy backgrounds, and trains :class:`~partlift.models.proposal_net.ProposalNet`
with cross-entropy on (background, unlabelled object, parts) and a binary instance-boundary loss.

Proposals: for each part c and each threshold t in ``thresholds`` the pixels with P(c) > t,
minus predicted instance boundaries, are split into 4-connected components; each component (grown
back by one pixel into the thresholded region) is a proposal. Several thresholds give several,
partly redundant and sometimes wrong proposals per part, as a real detector does. Score = mean
P(c) over the mask. Feature = [mean decoder feature in the mask, mean bottleneck feature in the
box, mean class probabilities, mean P(c), t, sqrt(area fraction), fill ratio, mean boundary prob].
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from partlift.errors import ReadError
from partlift.geometry.atomic import atomic_torch_save, atomic_write_json
from partlift.geometry.normalize import unit_sphere_normalization
from partlift.geometry.part_names import mirror_label_map
from partlift.geometry.pointcloud import PartPointCloud
from partlift.geometry.safe_load import load_state_dict_checked, load_torch_checkpoint
from partlift.models.device import resolve_device
from partlift.models.proposal_net import ProposalNet
from partlift.partstad.config import LearnedProposerConfig, ViewConfig, config_from_dict
from partlift.partstad.normals import estimate_normals
from partlift.partstad.proposals.base import Proposals, mask_box
from partlift.partstad.threads import torch_threads
from partlift.partstad.views import ShapeViews, splat_radius_px
from partlift.render.camera import Camera

FOUR = ndimage.generate_binary_structure(2, 1)


class _Source:
    """A normalised few-shot shape ready for random rendering."""

    def __init__(self, cloud: PartPointCloud) -> None:
        norm = unit_sphere_normalization(cloud.points)
        self.points = norm.apply(cloud.points).astype(np.float64)
        n = len(self.points)
        self.colors = np.full((n, 3), 0.6) if cloud.colors is None else cloud.colors.astype(np.float64)
        self.normals = estimate_normals(self.points).astype(np.float64)
        self.labels = np.asarray(cloud.labels, np.int64)
        inst = np.asarray(cloud.instances, np.int64)
        key = np.where(inst >= 0, inst, -2 - self.labels)
        self.inst = np.where(self.labels >= 0, key, -1)


def instance_boundaries(inst: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of an instance (>= 0) with a 4-neighbour of a different instance (>= 0)."""
    b = np.zeros(inst.shape, bool)
    d = (inst[:, 1:] >= 0) & (inst[:, :-1] >= 0) & (inst[:, 1:] != inst[:, :-1])
    b[:, 1:] |= d
    b[:, :-1] |= d
    d = (inst[1:] >= 0) & (inst[:-1] >= 0) & (inst[1:] != inst[:-1])
    b[1:] |= d
    b[:-1] |= d
    return b


GEOMETRY_CHANNELS = 5
"""View-relative geometry channels: camera-frame normal (3), depth, foreground."""
FRAME_CHANNELS = 3
"""Object-frame coordinates (x, y, z) appended when the proposer uses the frame."""
FRAME_X = GEOMETRY_CHANNELS
"""Index of the object-frame x channel (negated in a mirrored image)."""


def geometry_channels(point_index: np.ndarray, camera: Camera, points: np.ndarray, normals: np.ndarray,
                      frame: bool = False) -> np.ndarray:
    """(H, W, 5) float32 per-pixel [camera-frame normal turned to face the camera (3), depth minus
    the camera's distance to the origin, foreground] from a view's pixel owners; with ``frame``
    (H, W, 8): then the owner's object-frame coordinates (x, y, z) as given (unit-sphere normalised)."""
    fg = point_index >= 0
    idx = np.maximum(point_index, 0)
    own = np.asarray(points, np.float64)[idx.reshape(-1)]
    pc = camera.to_camera(own).reshape(*idx.shape, 3)
    n = (np.asarray(normals, np.float64)[idx.reshape(-1)] @ camera.rotation.T).reshape(*idx.shape, 3)
    flip = np.einsum("hwk,hwk->hw", n, pc) > 0  # facing away from the camera (which sits at the origin)
    n = np.where(flip[..., None], -n, n)
    depth = np.clip(pc[..., 2] - np.linalg.norm(camera.center), -1.5, 1.5)
    parts = [n, depth[..., None], np.ones_like(depth)[..., None]]
    if frame:
        parts.append(own.reshape(*idx.shape, 3))
    out = np.concatenate(parts, axis=-1)
    return np.where(fg[..., None], out, 0.0).astype(np.float32)


def network_input(images: np.ndarray, geometry: np.ndarray) -> torch.Tensor:
    """(B, H, W, 3) uint8 RGB + (B, H, W, G) geometry -> (B, 3 + G, H, W) float network input."""
    rgb = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
    geo = torch.from_numpy(np.ascontiguousarray(geometry)).permute(0, 3, 1, 2).float()
    return torch.cat([rgb, geo], dim=1)


def render_training_view(
    src: _Source, rng: np.random.Generator, view_config: ViewConfig, fixed_views: Sequence[tuple[float, float]],
    frame: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One training render with a random camera, point dropout and splat size (appearance is
    randomised later, per batch, by :func:`augment_batch`). Returns the image (H, W, 3) uint8 on
    white, geometry (H, W, 5) float32 (:func:`geometry_channels`; 8 channels with ``frame``),
    classes (H, W) int64 and instance boundaries (H, W) bool."""
    from partlift.render.splat import splat_points

    s = view_config.image_size
    if rng.random() < 0.3:
        elev, azim = fixed_views[int(rng.integers(len(fixed_views)))]
        elev, azim = elev + rng.normal(0, 3), azim + rng.normal(0, 5)
        dist, target = view_config.distance, (0.0, 0.0, 0.0)
    else:
        elev, azim = rng.uniform(-35, 60), rng.uniform(0, 360)
        dist, target = view_config.distance * rng.uniform(0.85, 1.15), tuple(rng.normal(0, 0.05, 3))
    cam = Camera.look_at(azimuth=azim, elevation=elev, distance=dist, fov=view_config.fov, width=s, height=s,
                         target=target, degrees=True)
    keep = rng.random(len(src.points)) < rng.uniform(0.7, 1.0)
    pts = src.points[keep]
    col = np.clip(src.colors[keep] + rng.normal(0, 0.02, (len(pts), 3)), 0, 1)
    radius = splat_radius_px(pts, view_config) * rng.uniform(0.85, 1.2)
    res = splat_points(pts, col, [cam], radius_px=radius, num_threads=1)
    idx = res.point_index[0]
    bg = idx < 0
    sel = np.flatnonzero(keep)
    owner = np.where(bg, 0, sel[np.maximum(idx, 0)])
    lab = src.labels[owner]
    classes = np.where(bg, 0, np.where(lab >= 0, lab + 2, 1))
    inst = np.where(bg, -1, src.inst[owner])
    geo = geometry_channels(np.where(bg, -1, owner), cam, src.points, src.normals, frame)
    return res.image[0], geo, classes, instance_boundaries(inst)


def augment_batch(rgb: torch.Tensor, geo: torch.Tensor, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random appearance of a batch of training renders, and which images to mirror.

    Per image: channel gains U(0.75, 1.25) and offsets U(-0.08, 0.08) on the object, grey with
    p 0.15, Lambert shading from a random light with p 0.5 (ambient U(0.45, 0.9), from the normal
    channels), a background that stays white (p 0.75), becomes a random colour (0.15) or noise
    (0.1); a horizontal flip with p 0.5 is returned for the caller to apply.

    Args:
        rgb: (B, 3, H, W) float in [0, 1]; geo: (B, G, H, W) geometry channels (normals first,
            foreground fifth).
    Returns:
        (B, 3, H, W) RGB and a flip flag per image (B,) bool.
    """
    b = rgb.shape[0]
    fg = geo[:, 4:5] > 0
    gain = torch.from_numpy(rng.uniform(0.75, 1.25, (b, 3, 1, 1))).float()
    off = torch.from_numpy(rng.uniform(-0.08, 0.08, (b, 3, 1, 1))).float()
    obj = rgb * gain + off
    grey = torch.from_numpy(rng.random(b) < 0.15)[:, None, None, None]
    obj = torch.where(grey, obj.mean(1, keepdim=True).expand_as(obj), obj)
    light = rng.normal(size=(b, 3))
    light /= np.linalg.norm(light, axis=1, keepdims=True)
    amb = torch.from_numpy(rng.uniform(0.45, 0.9, (b, 1, 1))).float()
    lambert = (geo[:, :3] * torch.from_numpy(light).float()[:, :, None, None]).sum(1).abs()
    shade = amb + (1 - amb) * lambert
    lit = torch.from_numpy(rng.random(b) < 0.5)[:, None, None, None]
    obj = torch.where(lit, obj * shade[:, None], obj)
    pick = torch.from_numpy(rng.random(b))[:, None, None, None]
    solid = torch.from_numpy(rng.random((b, 3, 1, 1))).float().expand_as(rgb)
    noise = (torch.from_numpy(rng.uniform(0.25, 0.8, (b, 1, 1, 1))).float()
             + 0.15 * torch.from_numpy(rng.standard_normal(tuple(rgb.shape))).float())
    bgcol = torch.where(pick < 0.15, solid, torch.where(pick < 0.25, noise, torch.ones_like(rgb)))
    out = torch.where(fg, obj, bgcol).clamp(0, 1)
    return out, torch.from_numpy(rng.random(b) < 0.5)


def _flip(t: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Mirror (along the last axis) the images of the batch where ``flip`` is set."""
    return torch.where(flip.view(-1, *([1] * (t.dim() - 1))), t.flip(-1), t)


class LearnedProposer:
    """CNN instance proposals (see the module docstring).

    Args:
        part_names: the category's parts.
        config: :class:`LearnedProposerConfig`.
        view_config: the views the proposer will see (image size, camera distance, FoV).
        min_area_px: smallest proposal in pixels.
        device: torch device of the network (:func:`partlift.models.device.resolve_device`); renders
            and augmentation stay on the CPU so a seed gives the same batches on every device.
    """

    def __init__(
        self, part_names: Sequence[str], config: LearnedProposerConfig | None = None,
        view_config: ViewConfig | None = None, min_area_px: int = 4, device: str | torch.device = "cpu",
    ) -> None:
        self.device = resolve_device(device)
        self.part_names = tuple(part_names)
        self.config = config or LearnedProposerConfig()
        self.view_config = view_config or ViewConfig()
        self.min_area_px = int(min_area_px)
        self.frame = self.config.uses_frame(self.part_names)
        torch.manual_seed(self.config.seed)
        self.net = self._new_net()
        self.net.eval()
        c = len(self.part_names)
        self.feature_dim = self.config.width + self.net.bottleneck_channels + (c + 2) + 5
        self.trained = False
        self.history: list[float] = []
        self._key: str | None = None

    # ------------------------------------------------------------------------------ training
    def fit(self, shapes: Sequence[PartPointCloud], progress: bool = False,
            log: Callable[[str], None] | None = None) -> LearnedProposer:
        """Train on randomised renders of ``shapes`` (labelled clouds of one category)."""
        log = log or (lambda s: None)
        if not shapes:
            raise ValueError("LearnedProposer.fit needs at least one labelled shape")
        with torch_threads(), torch.device(self.device):
            return self._fit(shapes, progress, log)

    def _fit(self, shapes, progress, log) -> LearnedProposer:
        cfg = self.config
        sources = [_Source(s) for s in shapes]
        rng = np.random.default_rng(cfg.seed)
        torch.manual_seed(cfg.seed)
        pool = self._render_pool(sources, rng)
        self.net = self._new_net()
        counts = np.bincount(pool[2].reshape(-1), minlength=len(self.part_names) + 2).astype(np.float64)
        freq = counts / counts.sum()
        # inverse square-root class frequency (classes never rendered keep weight 1)
        w = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(freq, 1e-4)), 1.0)
        weights = torch.tensor(w / w[counts > 0].mean(), dtype=torch.float32, device=self.device)
        opt = torch.optim.AdamW(self.net.parameters(), lr=cfg.lr, weight_decay=1e-4)
        warm = max(1, cfg.steps // 20)

        def lr_at(step):
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, cfg.steps - warm)))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
        self.net.train()
        steps = range(cfg.steps)
        if progress:
            from tqdm import tqdm

            steps = tqdm(steps, desc="train proposer", leave=False)
        self.history = []
        for _ in steps:
            x, cls, bnd = (t.to(self.device) for t in self._batch(pool, rng, cfg.batch_size))
            out = self.net(x)
            loss = F.cross_entropy(out.semantic, cls, weight=weights)
            loss = loss + F.binary_cross_entropy_with_logits(out.boundary, bnd,
                                                             pos_weight=torch.tensor(4.0, device=self.device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            self.history.append(float(loss.detach()))
        self.net.eval()
        self.trained = True
        self._key = None
        tail = self.history[-20:]
        log(f"proposer trained: {cfg.steps} steps, final loss {np.mean(tail):.3f}")
        return self

    def _new_net(self) -> ProposalNet:
        # built on the CPU, then moved: the seeded initial weights are the same on every device
        with torch.device("cpu"):
            net = ProposalNet(len(self.part_names), self.config.width, self.config.depth,
                              GEOMETRY_CHANNELS + FRAME_CHANNELS * self.frame)
        return net.to(self.device)

    def _render_pool(self, sources, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``train_views`` renders of every shape: RGB (M, H, W, 3) uint8, geometry (M, H, W, G)
        float16, classes (M, H, W) int16, boundaries (M, H, W) bool."""
        out: list[list[np.ndarray]] = [[], [], [], []]
        for src in sources:
            for _ in range(self.config.train_views):
                for lst, a in zip(out, render_training_view(src, rng, self.view_config, self.view_config.views,
                                                            self.frame), strict=True):
                    lst.append(a)
        return (np.stack(out[0]), np.stack(out[1]).astype(np.float16), np.stack(out[2]).astype(np.int16),
                np.stack(out[3]))

    def _batch(self, pool, rng, n):
        """A batch from the render pool with random appearance and mirroring: network input
        (n, 3 + G, H, W), classes (n, H, W), boundaries (n, H, W)."""
        idx = rng.choice(len(pool[0]), size=n, replace=len(pool[0]) < n)
        with torch.device("cpu"):  # augmentation on the CPU: identical batches on every device
            return self._cpu_batch(pool, idx, rng)

    def _cpu_batch(self, pool, idx, rng):
        rgb = torch.from_numpy(pool[0][idx]).permute(0, 3, 1, 2).float() / 255.0
        geo = torch.from_numpy(pool[1][idx].astype(np.float32)).permute(0, 3, 1, 2)
        cls = torch.from_numpy(pool[2][idx].astype(np.int64))
        bnd = torch.from_numpy(pool[3][idx]).float()
        rgb, flip = augment_batch(rgb, geo, rng)
        perm = mirror_label_map(self.part_names)
        if perm is None:  # a left/right name without its counterpart: a mirrored label would be wrong
            flip = torch.zeros_like(flip)
        geo = _flip(geo, flip)
        geo[:, 0] = torch.where(flip[:, None, None], -geo[:, 0], geo[:, 0])  # mirrored normals
        if self.frame:  # the mirrored object is the reflection across its x = 0 plane
            geo[:, FRAME_X] = torch.where(flip[:, None, None], -geo[:, FRAME_X], geo[:, FRAME_X])
        if perm is not None and (perm != np.arange(len(perm))).any():
            # a mirrored object shows its left parts on the right: swap left/right labels too
            lut = torch.from_numpy(np.concatenate([[0, 1], perm + 2]))  # classes: 0 background, 1 unlabelled
            cls = torch.where(flip[:, None, None], lut[cls], cls)
        return torch.cat([_flip(rgb, flip), geo], dim=1), _flip(cls, flip), _flip(bnd, flip)

    # ------------------------------------------------------------------------------ inference
    def predict_maps(self, images: np.ndarray, geometry: np.ndarray) -> tuple[np.ndarray, np.ndarray, torch.Tensor,
                                                                              torch.Tensor]:
        """(V, H, W, 3) uint8 + (V, H, W, G) geometry -> class probabilities (V, C+2, H, W), boundary
        probabilities (V, H, W), decoder features, bottleneck."""
        x = network_input(images, geometry).to(self.device)
        with torch.no_grad(), torch_threads(), torch.device(self.device):
            out = self.net(x)
        return (torch.softmax(out.semantic, 1).cpu().numpy(), torch.sigmoid(out.boundary).cpu().numpy(),
                out.features.cpu(), out.bottleneck.cpu())

    def view_geometry(self, views: ShapeViews, shape: PartPointCloud) -> np.ndarray:
        """(V, H, W, G) geometry channels of the views (normals estimated if the shape has none)."""
        normals = shape.normals if shape.normals is not None else estimate_normals(shape.points)
        pts = np.asarray(shape.points, np.float64)
        return np.stack([geometry_channels(views.point_index[v], views.cameras[v], pts, normals, self.frame)
                         for v in range(views.num_views)])

    def propose(self, views: ShapeViews, shape: PartPointCloud) -> Proposals:
        """Instance proposals on the rendered views (ground truth is never read; the shape's points
        and normals give the geometry channels)."""
        if not self.trained:
            raise RuntimeError("the learned proposer is not trained; call fit() or load a saved model")
        h, w = views.size
        if views.image.shape[1:3] != (h, w):
            raise ValueError("the views' images were dropped; prepare the shape with its images")
        probs, bnd, feats, bott = self.predict_maps(views.image, self.view_geometry(views, shape))
        cfg = self.config
        c_count = len(self.part_names)
        out = []
        for v in range(views.num_views):
            masks, labels, scores, thr = [], [], [], []
            for c in range(c_count):
                for m, t in self._components(probs[v, c + 2], bnd[v] >= cfg.boundary_threshold):
                    masks.append(m)
                    labels.append(c)
                    scores.append(float(probs[v, c + 2][m].mean()))
                    thr.append(t)
            if not masks:
                continue
            order = np.argsort(-np.asarray(scores), kind="stable")[: cfg.max_proposals_per_view]
            m = np.stack([masks[i] for i in order])
            lab = np.asarray([labels[i] for i in order], np.int64)
            sc = np.asarray([scores[i] for i in order], np.float32)
            th = np.asarray([thr[i] for i in order], np.float32)
            box = np.stack([mask_box(x) for x in m])
            f = self._features(m, lab, sc, th, box, probs[v], bnd[v], feats[v], bott[v])
            out.append(Proposals(np.full(len(m), v), lab, sc, box, m, f))
        return Proposals.concat(out, h, w, self.feature_dim)

    def _components(self, prob: np.ndarray, boundary: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """Instance masks of one part in one view: 4-connected components of {prob > t} minus the
        boundary pixels, grown back by one pixel inside {prob > t}, for every threshold t; a mask
        that repeats one found at another threshold (IoU > 0.9) is skipped."""
        h, w = prob.shape
        found: list[tuple[np.ndarray, float]] = []
        for t in self.config.thresholds:
            region = prob > t
            if region.sum() < self.min_area_px:
                continue
            comps, n = ndimage.label(region & ~boundary, structure=FOUR)
            for i, sl in enumerate(ndimage.find_objects(comps), start=1):
                if sl is None:
                    continue
                r0, r1 = max(sl[0].start - 1, 0), min(sl[0].stop + 1, h)
                c0, c1 = max(sl[1].start - 1, 0), min(sl[1].stop + 1, w)
                sub = ndimage.binary_dilation(comps[r0:r1, c0:c1] == i, structure=FOUR) & region[r0:r1, c0:c1]
                if sub.sum() < self.min_area_px:
                    continue
                m = np.zeros((h, w), bool)
                m[r0:r1, c0:c1] = sub
                if any((m & s).sum() > 0.9 * (m | s).sum() for s, _ in found):
                    continue
                found.append((m, t))
        return found

    def _features(self, m, lab, sc, th, box, probs, bnd, feats, bott) -> np.ndarray:
        p, h, w = m.shape
        mf = torch.from_numpy(m.reshape(p, -1).astype(np.float32))
        area = mf.sum(1, keepdim=True)
        dec = (mf @ feats.reshape(feats.shape[0], -1).T) / area
        cls = (mf @ torch.from_numpy(probs.reshape(probs.shape[0], -1)).T) / area
        bmean = (mf @ torch.from_numpy(bnd.reshape(-1, 1))) / area
        bh, bw = bott.shape[-2:]
        sy, sx = bh / h, bw / w
        pooled = []
        for b in box:
            y0, y1 = int(b[1] * sy), max(int(math.ceil(b[3] * sy)), int(b[1] * sy) + 1)
            x0, x1 = int(b[0] * sx), max(int(math.ceil(b[2] * sx)), int(b[0] * sx) + 1)
            pooled.append(bott[:, y0:y1, x0:x1].mean((1, 2)))
        box_area = np.maximum((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1]), 1.0)
        extra = np.stack([sc, th, np.sqrt(area[:, 0].numpy() / (h * w)), area[:, 0].numpy() / box_area,
                          bmean[:, 0].numpy()], axis=1)
        return np.concatenate([dec.numpy(), torch.stack(pooled).numpy(), cls.numpy(), extra], axis=1).astype(np.float32)

    def with_config(self, config: LearnedProposerConfig) -> LearnedProposer:
        """A proposer sharing this one's trained network with other inference settings
        (thresholds, boundary threshold, proposal cap); the training settings must match."""
        if config.training_settings() != self.config.training_settings():
            raise ValueError("with_config changes only inference settings; the training settings differ")
        other = copy.copy(self)
        other.config, other._key = config, None
        return other

    def for_unweighted_voting(self) -> LearnedProposer:
        """This proposer with ``unweighted_thresholds`` as its thresholds (PartSLIP-style voting)."""
        if tuple(self.config.thresholds) == tuple(self.config.unweighted_thresholds):
            return self
        return self.with_config(replace(self.config, thresholds=tuple(self.config.unweighted_thresholds)))

    # ------------------------------------------------------------------------------ persistence
    def cache_key(self) -> str:
        """Hash of the weights and settings (keys cached proposals)."""
        if self._key is None:
            h = hashlib.sha1(json.dumps([asdict(self.config), self.part_names, self.min_area_px]).encode())
            for k, v in self.net.state_dict().items():
                h.update(k.encode())
                h.update(v.detach().cpu().numpy().tobytes())
            self._key = "learned-" + h.hexdigest()[:16]
        return self._key

    def save(self, path) -> None:
        """Write ``proposal_net.pt`` and, last (it marks the folder finished), ``proposer.json``."""
        path = Path(path)
        (path / "proposer.json").unlink(missing_ok=True)
        atomic_torch_save({k: v.cpu() for k, v in self.net.state_dict().items()}, path / "proposal_net.pt")
        meta = {"kind": "learned", "part_names": list(self.part_names), "config": asdict(self.config),
                "min_area_px": self.min_area_px, "trained": self.trained, "loss_history": self.history,
                "frame_channels": self.frame}
        atomic_write_json(path / "proposer.json", meta, indent=None)

    def load_state(self, path) -> None:
        path = Path(path)
        if not (path / "proposer.json").is_file():
            raise ReadError(f"{path} holds no finished learned proposer (no proposer.json: its save was "
                            "interrupted); train it again")
        try:
            meta = json.loads((path / "proposer.json").read_text())
        except (OSError, ValueError) as exc:
            raise ReadError(f"cannot read {path / 'proposer.json'}: {exc}") from None
        self.config = config_from_dict(LearnedProposerConfig, meta["config"], where=path / "proposer.json")
        # proposers saved before the object-frame channels existed have none
        self.frame = bool(meta.get("frame_channels", False))
        self.net = self._new_net()
        weights = path / "proposal_net.pt"
        state = load_torch_checkpoint(weights, what="proposal network")
        load_state_dict_checked(self.net, state, weights, what="proposal network")
        self.net.eval()
        self.trained = bool(meta.get("trained", True))
        self.history = meta.get("loss_history", [])
        self._key = None
