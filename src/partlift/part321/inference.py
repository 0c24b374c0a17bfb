"""Part321 inference by render-and-compare on features (section 4.4; NeMo's solver, docs/REFERENCES.md).

1. Score the 144 initial poses (12 azimuths x 4 elevations x 3 in-plane rotations) of the
   undeformed template without gradient and keep the best.
2. Optimise the object pose (azimuth, elevation, theta) with the template undeformed.
3. Optimise pose and, per part, T (axis-angle rotation + translation), S (log-scale along the part's
   principal axes) and the shape latent Z (one per part, on the simplex of the training shapes),
   minimising the reconstruction loss + w_consist * L_consist.

Both optimisation stages use Adam (lr 0.05, betas (0.4, 0.6)) with the learning rate multiplied
by 0.2 every 100 steps (NeMo's schedule; the paper's 300 steps for the part stage).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import torch
from scipy.spatial import cKDTree

from partlift.errors import ConfigError
from partlift.part321.feature_render import (
    rasterize_camera_points,
    render_features,
    render_features_nograd,
)
from partlift.part321.foreground import ForegroundHead
from partlift.part321.losses import consistency_loss, fg_bg_score_loss, l2_recon_loss
from partlift.part321.neural_mesh import DeformableNeuralMesh
from partlift.part321.pose import (
    apply_part_transforms,
    part_axes,
    world_to_camera_rotation_t,
)
from partlift.part321.silhouette import (
    SilhouetteTarget,
    extent_distance,
    foreground_map,
    outline_points,
    silhouette_loss,
)
from partlift.validation import bounded, validate_config


@dataclass(frozen=True)
class InferenceConfig:
    """Inference settings (paper / NeMo defaults unless noted in docs/PART321.md)."""

    azimuth_samples: int = bounded(12, ge=1)
    """Initial azimuths, linspace(0, 2 pi, 12, endpoint=False)."""
    elevation_range: tuple[float, float] = (-np.pi / 6, np.pi / 3)
    """Initial elevations span (radians), inclusive."""
    elevation_samples: int = bounded(4, ge=1)
    """Number of initial elevations ({-30, 0, 30, 60} degrees)."""
    theta_range: tuple[float, float] = (-np.pi / 6, np.pi / 6)
    """Initial in-plane rotations span (radians), inclusive."""
    theta_samples: int = bounded(3, ge=1)
    """Number of initial in-plane rotations."""
    distance_factors: tuple[float, ...] = bounded((0.9, 1.0, 1.12), gt=0)
    """Initial distances, as factors of the setup's distance (NeMo uses one fixed distance after
    rescaling the image with the ground-truth distance; we search it instead, docs/PART321.md)."""
    optimize_distance: bool = True
    """Estimate the camera distance (``distance_init``) and optimise it with the pose; False = the
    setup's distance is known and kept."""
    distance_init: Literal["extent", "grid"] = "extent"
    """How each initial pose gets its distance: "extent" sets it so that the template's projected
    area matches the object's area in the foreground map (:mod:`partlift.part321.silhouette`;
    ``distance_factors`` is then unused); "grid" tries ``distance_factors`` x the setup's distance."""
    extent_distance_range: tuple[float, float] = bounded((0.5, 2.0), gt=0)
    """Bounds of the extent distance, as factors of the setup's distance: a foreground that spills
    over the image (or an empty-looking one) must not put the camera inside the object."""
    hypotheses: int = bounded(2, ge=1)
    """Pose hypotheses carried through the pose stage: the best grid pose, its front/back flip
    (azimuth + pi), then the next best grid poses at least ``hypothesis_gap`` apart in azimuth;
    the one with the lowest loss after the pose stage is kept."""
    hypothesis_stage: Literal["pose", "parts"] = "pose"
    """Choose among the hypotheses by the loss after the pose stage, or after the part stage (each
    hypothesis then runs the part stage: slower)."""
    hypothesis_gap: float = bounded(np.pi / 4, ge=0)
    """Smallest azimuth difference (radians) between two hypotheses beyond the flip."""
    w_silhouette: float = bounded(0.1, ge=0)
    """Weight of the silhouette term (:func:`partlift.part321.silhouette.silhouette_loss`) in the
    grid scores and both optimisation stages (0 = NeMo's loss alone); 0.1 chosen on the validation
    split with the foreground head (docs/PART321.md, decision 11)."""
    foreground: Literal["head", "nearest"] = "head"
    """The object's foreground map (for ``distance_init="extent"`` and the silhouette term): "head"
    = the model's learned foreground head (:mod:`partlift.part321.foreground`; a model saved
    without one falls back to "nearest"), "nearest" = pixels whose nearest feature is a vertex
    feature rather than a clutter feature (:func:`partlift.part321.silhouette.foreground_map`)."""
    foreground_margin: float = 0.0
    """"nearest": a pixel is foreground when its best vertex similarity beats its best clutter-bank
    similarity by this."""
    silhouette_vertices: int = bounded(512, ge=1)
    """At most this many vertices (a fixed subset) in the silhouette term of the grid scores."""
    pose_steps: int = bounded(100, ge=0)
    """Steps of the pose-only stage (template undeformed). NeMo uses 300; see docs/PART321.md."""
    part_steps: int = bounded(300, ge=0)
    """Steps of the pose + part stage (the paper's 300)."""
    lr: float = bounded(0.05, gt=0)
    """Adam learning rate."""
    betas: tuple[float, float] = bounded((0.4, 0.6), ge=0, lt=1)
    """Adam betas."""
    lr_decay: float = bounded(0.2, gt=0)
    """Learning-rate factor applied every ``decay_every`` steps."""
    decay_every: int = bounded(100, ge=1)
    """Steps between learning-rate decays."""
    loss: Literal["fg_bg", "l2"] = "fg_bg"
    """Reconstruction loss: "fg_bg" (NeMo's foreground/clutter score) or "l2" (Eq. 4)."""
    w_consist: float = bounded(1.0, ge=0)
    """Weight of the geometry-consistency loss (Eq. 5)."""
    tau: float = bounded(0.03, ge=0)
    """Consistency threshold tau (object units; the template is normalised to a unit box)."""
    max_pairs: int = bounded(20000, ge=0)
    """At most this many consistency pairs (a seeded subset if there are more)."""
    optimize_parts: bool = True
    """Run the part stage at all (False = pose only)."""
    optimize_scale: bool = True
    """Optimise the per-part scale S (ablation "w/o scaling" sets False)."""
    optimize_deformation: bool = True
    """Optimise the per-part shape latent Z (ablation "w/o deformation" sets False)."""
    optimize_part_pose: bool = True
    """Optimise the per-part transformation T."""
    deformation_mode: Literal["network", "blend"] = "blend"
    """"network": evaluate phi(V, z) every step; "blend": linear blend of the per-shape offsets
    phi(V, e_y) (exact at the simplex corners, much faster)."""
    max_log_scale: float = bounded(0.0, ge=0)
    """If > 0, the per-part log-scales are projected onto [-max, max] after every step (0 = free,
    as the paper)."""
    max_part_translation: float = bounded(0.02, ge=0)
    """If > 0, each part's translation T is projected onto a ball of this radius (object units)
    after every step (0 = free, as the paper)."""
    max_part_rotation: float = bounded(0.05, ge=0)
    """If > 0, each part's rotation angle (radians) is clipped to this after every step (0 = free)."""
    part_lr_scale: float = bounded(0.05, ge=0)
    """Learning-rate factor of the per-part T and the distance (object units are ~10x smaller than angles)."""
    scale_lr_scale: float = bounded(0.05, ge=0)
    """Learning-rate factor of the per-part log-scales S."""
    seed: int = bounded(0, ge=0)
    """Seed for the consistency-pair subset."""
    threads: int = bounded(1, ge=1)
    """Torch threads during optimisation: its tensors are small, and extra threads mostly spin
    (10-50x slower on a shared 2-core machine)."""

    def __post_init__(self) -> None:
        validate_config(self)
        lo, hi = self.extent_distance_range
        if not lo <= 1.0 <= hi:
            raise ConfigError(f"InferenceConfig.extent_distance_range: ({lo}, {hi}) must hold 1.0")


@dataclass
class RenderSetup:
    """The feature map's camera: intrinsics (fx, fy, cx, cy) in feature pixels, size, distance."""

    intrinsics: tuple[float, float, float, float]
    width: int
    height: int
    distance: float


@dataclass
class InferenceResult:
    """Output of :func:`infer` (object frame = template frame; camera = OpenCV, docs/CONVENTIONS.md).

    Attributes:
        azimuth, elevation, theta, distance: object pose (radians, object units).
        vertices: (K, 3) float32 final object-frame vertices (deformed, parts moved).
        camera_vertices: (K, 3) float32 the same in the camera frame.
        part_rotvec, part_translation, part_log_scale: (P, 3) per-part T and S.
        part_latents: (P, D) per-part shape latents.
        initial_pose: (azimuth, elevation, theta) chosen from the grid.
        losses: dict of loss histories per stage (the last entry is the loss at the final values).
        seconds: dict of wall-clock seconds per stage.
        hypotheses: the pose hypotheses, kept one first: {"start": grid (az, el, theta, distance),
            "pose": after the pose stage, "loss": final pose-stage loss}.
        foreground: whether a foreground map was computed and found (it is only when the distance is
            estimated from the extent or the silhouette term is on).
    """

    azimuth: float
    elevation: float
    theta: float
    distance: float
    vertices: np.ndarray
    camera_vertices: np.ndarray
    part_rotvec: np.ndarray
    part_translation: np.ndarray
    part_log_scale: np.ndarray
    part_latents: np.ndarray
    initial_pose: tuple[float, float, float]
    losses: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    hypotheses: list[dict] = field(default_factory=list)
    foreground: bool = False

    @property
    def flip_margin(self) -> float | None:
        """Pose-stage loss of the runner-up hypothesis minus the kept one's (>= 0; None with one
        hypothesis): how clearly the image rules out the alternative, e.g. the front/back flip."""
        if len(self.hypotheses) < 2:
            return None
        return float(min(h["loss"] for h in self.hypotheses[1:]) - self.hypotheses[0]["loss"])

    def rotation(self) -> np.ndarray:
        """(3, 3) float64 world -> camera rotation."""
        with torch.no_grad():
            return world_to_camera_rotation_t(
                torch.tensor(self.azimuth, dtype=torch.float64),
                torch.tensor(self.elevation, dtype=torch.float64),
                torch.tensor(self.theta, dtype=torch.float64),
            ).cpu().numpy()


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Temporarily set torch's intra-op thread count (n <= 0 leaves it unchanged)."""
    prev = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(prev)


def initial_pose_grid(cfg: InferenceConfig) -> np.ndarray:
    """(A * E * T, 3) float64 (azimuth, elevation, theta) grid, azimuth-major."""
    az = np.linspace(0, 2 * np.pi, cfg.azimuth_samples, endpoint=False)
    el = np.linspace(cfg.elevation_range[0], cfg.elevation_range[1], cfg.elevation_samples)
    th = np.linspace(cfg.theta_range[0], cfg.theta_range[1], cfg.theta_samples)
    return np.stack(np.meshgrid(az, el, th, indexing="ij"), axis=-1).reshape(-1, 3)


def recon_loss(rendered: torch.Tensor, feature: torch.Tensor, clutter_score: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "fg_bg":
        return fg_bg_score_loss(rendered, feature, clutter_score)
    if kind == "l2":
        return l2_recon_loss(rendered, feature)
    raise ValueError(f"unknown reconstruction loss {kind!r}; use 'fg_bg' or 'l2'")


def clutter_score_map(feature: torch.Tensor, mesh: DeformableNeuralMesh) -> torch.Tensor:
    """(H, W) similarity of every pixel feature to the mesh's mean clutter feature."""
    return torch.einsum("chw,c->hw", feature, torch.as_tensor(mesh.clutter_mean(), dtype=feature.dtype))


def initial_candidates(cfg: InferenceConfig, distance: float) -> np.ndarray:
    """(D * N, 4) float64 initial (azimuth, elevation, theta, distance): the pose grid per distance."""
    grid = initial_pose_grid(cfg)
    out = [np.column_stack([grid, np.full(len(grid), distance * f)]) for f in cfg.distance_factors]
    return np.concatenate(out)


def _pose_maps(mesh: DeformableNeuralMesh, cands: np.ndarray, setup: RenderSetup) -> torch.Tensor:
    """(N, C, H, W) float16 pre-rendered feature maps of the undeformed template (cached on the mesh)."""
    key = ("pre_render", setup.intrinsics, setup.width, setup.height, cands.tobytes())
    if key in mesh._cache:
        return mesh._cache[key]
    for k in [k for k in mesh._cache if k[0] == "pre_render"]:  # keep one pre-rendering per mesh
        del mesh._cache[k]
    mesh._cache[key] = _render_candidates(mesh, cands, setup)
    return mesh._cache[key]


def _render_candidates(mesh: DeformableNeuralMesh, cands: np.ndarray, setup: RenderSetup) -> torch.Tensor:
    """(N, C, H, W) float16 feature maps of the undeformed template at (N, 4) candidates (no cache)."""
    rot = world_to_camera_rotation_t(*torch.as_tensor(cands[:, :3], dtype=torch.float64).unbind(-1)).cpu().numpy()
    v = mesh.vertices.astype(np.float64)
    feats = torch.as_tensor(mesh.features)
    maps = []
    for i in range(0, len(cands), 16):
        cams = [v @ r.T + np.array([0.0, 0.0, d]) for r, d in zip(rot[i : i + 16], cands[i : i + 16, 3], strict=True)]
        frags = rasterize_camera_points(cams, mesh.faces, setup.intrinsics, setup.width, setup.height, with_bary=True)
        assert frags.bary is not None
        maps.append(render_features_nograd(frags.face_ids, frags.bary, mesh.faces, feats).half())
    return torch.cat(maps)


def _silhouette_subset(mesh: DeformableNeuralMesh, n: int) -> np.ndarray:
    """A fixed, evenly spread subset of at most ``n`` vertex ids (for cheap grid scoring)."""
    k = len(mesh.vertices)
    return np.arange(k) if k <= n else np.linspace(0, k - 1, n).round().astype(np.int64)


def grid_silhouette_losses(mesh: DeformableNeuralMesh, cands: np.ndarray, setup: RenderSetup,
                           target: SilhouetteTarget, max_vertices: int, covered: torch.Tensor) -> np.ndarray:
    """(N,) :func:`silhouette_loss` of the undeformed template at every (N, 4) candidate
    (``covered``: (N, H, W) bool coverage of each candidate's render)."""
    idx = _silhouette_subset(mesh, max_vertices)
    v = torch.as_tensor(mesh.vertices[idx], dtype=torch.float64)
    rot = world_to_camera_rotation_t(*torch.as_tensor(cands[:, :3], dtype=torch.float64).unbind(-1))
    out = []
    with torch.no_grad():
        for r, d, cov in zip(rot, cands[:, 3], covered, strict=True):
            cam = v @ r.T + torch.tensor([0.0, 0.0, float(d)], dtype=torch.float64)
            out.append(float(silhouette_loss(cam, setup.intrinsics, target, cov)))
    return np.asarray(out)


def score_initial_poses(
    mesh: DeformableNeuralMesh, feature: torch.Tensor, clutter_score: torch.Tensor, setup: RenderSetup,
    cfg: InferenceConfig, target: SilhouetteTarget | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Loss of every initial candidate (no gradient). Returns ((N, 4) candidates, (N,) losses).

    With ``cfg.distance_init == "extent"``, ``cfg.optimize_distance`` and a foreground ``target``,
    each grid pose is placed at the distance where the template covers as many pixels as the foreground; with
    ``cfg.w_silhouette > 0`` the silhouette term is added to the reconstruction loss.
    """
    extent = cfg.distance_init == "extent" and target is not None and cfg.optimize_distance
    one_distance = extent or not cfg.optimize_distance  # a known distance is not searched either
    cands = initial_candidates(replace(cfg, distance_factors=(1.0,)) if one_distance else cfg, setup.distance)
    with torch.no_grad():
        maps = _pose_maps(mesh, cands, setup)
        if extent:
            assert target is not None
            area = (maps.abs().amax(dim=1) > 0).sum(dim=(1, 2)).cpu().numpy()
            cands = cands.copy()
            lo, hi = cfg.extent_distance_range
            cands[:, 3] = np.clip(extent_distance(area, cands[:, 3], float(target.area)), lo * setup.distance,
                                  hi * setup.distance)
            maps = _render_candidates(mesh, cands, setup)
        losses = torch.cat(
            [recon_loss(maps[i : i + 32].to(feature.dtype), feature, clutter_score, cfg.loss)
             for i in range(0, len(maps), 32)]
        ).cpu().numpy().astype(np.float64)
        if target is not None and cfg.w_silhouette > 0:
            covered = maps.abs().amax(dim=1) > 0
            losses = losses + cfg.w_silhouette * grid_silhouette_losses(mesh, cands, setup, target,
                                                                        cfg.silhouette_vertices, covered)
    return cands, losses


def _azimuth_gap(a: float, b: float) -> float:
    return abs((a - b + np.pi) % (2 * np.pi) - np.pi)


def select_hypotheses(cands: np.ndarray, losses: np.ndarray, k: int, gap: float) -> list[int]:
    """Indices of up to ``k`` starting candidates: the best, its front/back flip (the best-scoring
    candidate with azimuth + pi and the same elevation and in-plane angle), then the next best
    whose azimuth is at least ``gap`` from every chosen one."""
    order = np.argsort(losses, kind="stable")
    chosen = [int(order[0])]
    if k >= 2:
        best = cands[order[0]]
        flips = [int(i) for i in order
                 if _azimuth_gap(cands[i, 0], best[0] + np.pi) < 1e-6
                 and abs(cands[i, 1] - best[1]) < 1e-9 and abs(cands[i, 2] - best[2]) < 1e-9]
        if flips:
            chosen.append(flips[0])
    for i in order:
        if len(chosen) >= k:
            break
        if all(_azimuth_gap(cands[i, 0], cands[j, 0]) >= gap for j in chosen):
            chosen.append(int(i))
    return chosen


def consistency_pairs(mesh: DeformableNeuralMesh, tau: float, max_pairs: int, seed: int) -> np.ndarray:
    """(M, 2) int64 template vertex pairs of different parts closer than ``tau`` (Eq. 5)."""
    key = ("pairs", tau, max_pairs, seed)
    if key in mesh._cache:
        return mesh._cache[key]
    pairs = cKDTree(mesh.vertices).query_pairs(tau, output_type="ndarray").astype(np.int64)
    g = mesh.groups()
    if len(pairs):
        pairs = pairs[g[pairs[:, 0]] != g[pairs[:, 1]]]
    if len(pairs) > max_pairs:
        pairs = pairs[np.sort(np.random.default_rng(seed).choice(len(pairs), max_pairs, replace=False))]
    mesh._cache[key] = pairs
    return pairs


def project_to_simplex(x: torch.Tensor) -> torch.Tensor:
    """Euclidean projection of each row of (N, D) onto the probability simplex."""
    u, _ = torch.sort(x, dim=-1, descending=True)
    css = u.cumsum(-1) - 1.0
    k = torch.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    cond = u - css / k > 0
    rho = cond.to(x.dtype).cumsum(-1).argmax(-1, keepdim=True)  # last index where cond holds
    theta = css.gather(-1, rho) / (rho + 1).to(x.dtype)
    return torch.clamp(x - theta, min=0.0)


class _Scene:
    """The differentiable forward model of one image: parameters -> camera-frame vertices."""

    def __init__(self, mesh: DeformableNeuralMesh, cfg: InferenceConfig, dtype=torch.float32) -> None:
        t = mesh.tensors(dtype)
        self.mesh, self.cfg, self.dtype = mesh, cfg, dtype
        self.v, self.faces, self.feats, self.groups = t["vertices"], t["faces"], t["features"], t["groups"]
        self.num_parts = mesh.num_parts
        dev = torch.get_default_device()
        key = ("axes", dtype, dev)
        if key not in mesh._cache:
            mesh._cache[key] = torch.as_tensor(part_axes(mesh.vertices, mesh.groups(), mesh.num_parts), dtype=dtype)
        self.axes = mesh._cache[key]
        self.deformer = mesh.deformer
        self.basis = None
        if self.deformer is not None:
            assert self.deformer.net is not None  # a mesh holds fitted deformers only
            key = ("basis", dtype, dev)
            if key not in mesh._cache:
                with torch.no_grad():
                    eye = torch.eye(self.deformer.latent_dim, dtype=torch.float32)
                    v32 = self.v.float()
                    enc = self.deformer.net.encode(v32)
                    mesh._cache[key] = torch.stack(
                        [self.deformer.net(v32, eye[y].expand(len(v32), -1), enc) for y in range(len(eye))]
                    ).to(dtype)  # (D, K, 3)
                    mesh._cache[("enc", dtype, dev)] = enc
            self.basis = mesh._cache[key]
            self.enc = mesh._cache[("enc", dtype, dev)]

    def object_vertices(self, params: dict) -> torch.Tensor:
        v = self.v
        if "latents" in params and self.deformer is not None:
            rest = torch.zeros(1, self.deformer.latent_dim, dtype=self.dtype)
            rest[0, 0] = 1.0
            z = torch.cat([params["latents"], rest])[self.groups]  # (K, D); the no-part rest keeps the template
            if self.cfg.deformation_mode == "blend":
                off = torch.einsum("kd,dkc->kc", z, self.basis)
            else:
                assert self.deformer.net is not None  # a mesh holds fitted deformers only
                off = self.deformer.net(v.float(), z.float(), self.enc.float()).to(self.dtype)
            v = v + off
        if "rotvec" in params:
            v = apply_part_transforms(
                v, self.groups, self.axes, params["rotvec"], params["translation"], params["log_scale"]
            )
        return v

    def camera_vertices(self, params: dict, obj: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        obj = self.object_vertices(params) if obj is None else obj
        rot = world_to_camera_rotation_t(params["azimuth"], params["elevation"], params["theta"]).to(self.dtype)
        cam = obj @ rot.t()
        cam = cam + torch.stack([torch.zeros_like(params["distance"]), torch.zeros_like(params["distance"]),
                                 params["distance"]]).to(self.dtype)
        return cam, obj


_SMALL_STEP = ("rotvec", "translation", "log_scale", "distance")


def _total_loss(scene: _Scene, current: dict, feature, clutter_score, setup, cfg, pairs_t, target) -> torch.Tensor:
    """Reconstruction + w_consist * L_consist + w_silhouette * silhouette term at ``current``."""
    cam, obj = scene.camera_vertices(current)
    rendered, fid = render_features(cam, scene.faces, scene.feats, setup.intrinsics, setup.width, setup.height)
    loss = recon_loss(rendered, feature, clutter_score, cfg.loss)
    if pairs_t is not None and cfg.w_consist > 0:
        loss = loss + cfg.w_consist * consistency_loss(obj, pairs_t, cfg.tau)
    if target is not None and cfg.w_silhouette > 0:
        pts = outline_points(cam, scene.faces)
        loss = loss + cfg.w_silhouette * silhouette_loss(pts, setup.intrinsics, target, fid >= 0)
    return loss


def _run_stage(scene: _Scene, params: dict, trainable: list, feature, clutter_score, setup, steps, cfg, pairs,
               target: SilhouetteTarget | None = None):
    # One Adam over raw tensors with value = scale * raw: Adam's steps are scale-invariant, so a
    # parameter scaled by s moves s times the learning rate per step (part_lr_scale for the
    # object-unit parameters), and a single parameter group keeps the step cheap.
    scale = {n: (cfg.scale_lr_scale if n == "log_scale" else cfg.part_lr_scale if n in _SMALL_STEP else 1.0)
             for n in trainable}
    raw = {n: (params[n].detach() / scale[n]).requires_grad_() for n in trainable}
    fixed = {n: v.detach() for n, v in params.items() if n not in raw}
    opt = torch.optim.Adam(list(raw.values()), lr=cfg.lr, betas=cfg.betas, foreach=True)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.decay_every, gamma=cfg.lr_decay)
    pairs_t = torch.as_tensor(pairs, dtype=torch.long) if pairs is not None else None
    history = []
    for _ in range(steps):
        current = {**fixed, **{n: r * scale[n] for n, r in raw.items()}}
        loss = _total_loss(scene, current, feature, clutter_score, setup, cfg, pairs_t, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            if "latents" in raw:
                raw["latents"].copy_(project_to_simplex(raw["latents"]))
            if "log_scale" in raw and cfg.max_log_scale > 0:
                bound = cfg.max_log_scale / scale["log_scale"]
                raw["log_scale"].clamp_(-bound, bound)
            for name, limit in (("translation", cfg.max_part_translation), ("rotvec", cfg.max_part_rotation)):
                if name in raw and limit > 0:
                    bound = limit / scale[name]
                    norm = raw[name].norm(dim=-1, keepdim=True)
                    raw[name].mul_(torch.clamp(bound / norm.clamp_min(1e-12), max=1.0))
        history.append(float(loss.detach()))
    for n, r in raw.items():
        params[n] = (r.detach() * scale[n]).requires_grad_(params[n].requires_grad)
    with torch.no_grad():  # the loss at the final parameters (the history lags one step)
        history.append(float(_total_loss(scene, params, feature, clutter_score, setup, cfg, pairs_t, target)))
    return history


def infer(
    mesh: DeformableNeuralMesh,
    feature: torch.Tensor,
    setup: RenderSetup,
    cfg: InferenceConfig = InferenceConfig(),
    initial_pose: tuple[float, ...] | None = None,
    fix_pose: bool = False,
    foreground: ForegroundHead | None = None,
) -> InferenceResult:
    """Recover pose and part configuration from one image's feature map.

    Args:
        mesh: the trained deformable neural mesh.
        feature: (C, H, W) L2-normalised image features (H, W = ``setup.height, setup.width``).
        setup: the feature map's camera.
        cfg: inference settings.
        initial_pose: skip the grid search and start from this (azimuth, elevation, theta[, distance])
            (distance default: ``setup.distance``).
        fix_pose: keep ``initial_pose`` fixed (no pose stage; only the parts move): a diagnostic.
        foreground: the model's learned foreground head (``cfg.foreground``), if it has one.
    """
    return infer_variants(mesh, feature, setup, {"result": cfg}, initial_pose, fix_pose, foreground)["result"]


def infer_variants(
    mesh: DeformableNeuralMesh,
    feature: torch.Tensor,
    setup: RenderSetup,
    configs: dict[str, InferenceConfig],
    initial_pose: tuple[float, ...] | None = None,
    fix_pose: bool = False,
    foreground: ForegroundHead | None = None,
) -> dict[str, InferenceResult]:
    """Run the grid search and pose stage once (settings of the first config), then the part stage
    of every config (e.g. the Table 5 ablations). Returns {name: result}."""
    first = next(iter(configs.values()))
    if fix_pose and initial_pose is None:
        raise ValueError("fix_pose needs an initial_pose")
    with torch_threads(first.threads):
        if feature.shape[1:] != (setup.height, setup.width):
            raise ValueError(
                f"feature map {tuple(feature.shape)} does not match the render size {setup.height}x{setup.width}"
            )
        feature = feature.detach().float()
        clu = clutter_score_map(feature, mesh)
        target = silhouette_target(feature, mesh, first, foreground)
        if fix_pose:
            first = replace(first, pose_steps=0)
        runs, losses, seconds = _pose_stage(mesh, feature, clu, setup, first, initial_pose, target)
        hyps = [{"start": [float(x) for x in r["start"]], "loss": r["loss"],
                 "pose": [float(r["params"][n].detach()) for n in ("azimuth", "elevation", "theta", "distance")]}
                for r in runs]
        chosen = None
        if first.hypothesis_stage == "parts" and len(runs) > 1:
            # every hypothesis through the first config's part stage; the lowest final loss wins
            t0 = time.perf_counter()
            finals = [_part_stage(mesh, feature, clu, setup, first, _clone(r["params"]), r["start"],
                                  {**losses, "pose": r["history"]}, dict(seconds), target, fix_pose) for r in runs]
            for h, f in zip(hyps, finals, strict=True):
                h["part_loss"] = f.losses["parts"][-1] if "parts" in f.losses else h["loss"]
            k = int(np.argmin([h["part_loss"] for h in hyps]))
            chosen = finals[k]
            chosen.seconds["parts"] = time.perf_counter() - t0
            runs, hyps = [runs[k]] + runs[:k] + runs[k + 1 :], [hyps[k]] + hyps[:k] + hyps[k + 1 :]
        best = runs[0]
        losses["pose"] = best["history"]
        out = {}
        for i, (name, cfg) in enumerate(configs.items()):
            if i == 0 and chosen is not None:
                res = chosen
            else:
                res = _part_stage(mesh, feature, clu, setup, cfg, _clone(best["params"]), best["start"], dict(losses),
                                  dict(seconds), target, fix_pose)
            res.hypotheses = hyps
            res.foreground = target is not None
            out[name] = res
        return out


def feature_foreground(feature: torch.Tensor, mesh: DeformableNeuralMesh, cfg: InferenceConfig,
                       head: ForegroundHead | None = None) -> np.ndarray:
    """(h, w) bool foreground of a feature map: ``head``'s when ``cfg.foreground == "head"`` and
    there is one, else the nearest-feature rule."""
    if cfg.foreground == "head" and head is not None:
        return head.predict(feature)
    bank = mesh.clutter if mesh.clutter is not None and len(mesh.clutter) else mesh.clutter_mean()[None]
    return foreground_map(feature, torch.as_tensor(mesh.features), torch.as_tensor(bank), cfg.foreground_margin)


def silhouette_target(feature: torch.Tensor, mesh: DeformableNeuralMesh, cfg: InferenceConfig,
                      head: ForegroundHead | None = None) -> SilhouetteTarget | None:
    """The image's foreground as a silhouette target, or None when unused or empty (a known
    distance needs no extent, so without the silhouette term nothing is computed)."""
    uses_extent = cfg.distance_init == "extent" and cfg.optimize_distance
    if cfg.w_silhouette <= 0 and not uses_extent:
        return None
    fg = feature_foreground(feature, mesh, cfg, head)
    return SilhouetteTarget.from_mask(fg) if fg.any() else None


def _pose_params(start: np.ndarray, cfg: InferenceConfig, fixed: bool) -> dict[str, torch.Tensor]:
    grad = not fixed
    return {
        "azimuth": torch.tensor(float(start[0]), requires_grad=grad),
        "elevation": torch.tensor(float(start[1]), requires_grad=grad),
        "theta": torch.tensor(float(start[2]), requires_grad=grad),
        "distance": torch.tensor(float(start[3]), requires_grad=grad and cfg.optimize_distance),
    }


def _pose_stage(
    mesh: DeformableNeuralMesh, feature: torch.Tensor, clu: torch.Tensor, setup: RenderSetup, cfg: InferenceConfig,
    initial_pose: tuple[float, ...] | None, target: SilhouetteTarget | None,
) -> tuple[list[dict], dict[str, list], dict[str, float]]:
    """The grid search and the pose stage of every hypothesis: runs sorted by final loss, each
    {"loss", "params", "start", "history"}, and the grid's losses and the seconds."""
    seconds: dict[str, float] = {}
    losses: dict[str, list] = {}
    t0 = time.perf_counter()
    if initial_pose is None:
        cands, init_losses = score_initial_poses(mesh, feature, clu, setup, cfg, target)
        starts = [cands[i] for i in select_hypotheses(cands, init_losses, cfg.hypotheses, cfg.hypothesis_gap)]
        losses["init"] = init_losses.tolist()
    else:
        pose = np.asarray(initial_pose, dtype=np.float64)
        starts = [pose[:4] if len(pose) >= 4 else np.append(pose[:3], setup.distance)]
    seconds["init"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    scene = _Scene(mesh, cfg)
    runs = []
    for start in starts:
        params = _pose_params(start, cfg, fixed=cfg.pose_steps == 0 and initial_pose is not None)
        hist = _run_stage(scene, params, _pose_names(cfg), feature, clu, setup, cfg.pose_steps, cfg, None, target)
        runs.append({"loss": hist[-1], "params": params, "start": start, "history": hist})
    runs.sort(key=lambda r: r["loss"])
    seconds["pose"] = time.perf_counter() - t0
    return runs, losses, seconds


def _clone(params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone().requires_grad_(v.requires_grad) for k, v in params.items()}


def _pose_names(cfg: InferenceConfig) -> list[str]:
    return ["azimuth", "elevation", "theta"] + (["distance"] if cfg.optimize_distance else [])


def _part_stage(mesh, feature, clu, setup, cfg, params, best, losses, seconds, target=None,
                fix_pose: bool = False) -> InferenceResult:
    t0 = time.perf_counter()
    scene = _Scene(mesh, cfg)
    num_parts = mesh.num_parts
    params["distance"].requires_grad_(cfg.optimize_distance and not fix_pose)
    params.update({
        "rotvec": torch.zeros(num_parts, 3, requires_grad=cfg.optimize_part_pose),
        "translation": torch.zeros(num_parts, 3, requires_grad=cfg.optimize_part_pose),
        "log_scale": torch.zeros(num_parts, 3, requires_grad=cfg.optimize_scale),
    })
    trainable = [] if fix_pose else _pose_names(cfg)
    if cfg.optimize_part_pose:
        trainable += ["rotvec", "translation"]
    if cfg.optimize_scale:
        trainable.append("log_scale")
    if mesh.deformer is not None:
        z = torch.zeros(num_parts, mesh.deformer.latent_dim)
        z[:, 0] = 1.0
        params["latents"] = z.requires_grad_(cfg.optimize_deformation)
        if cfg.optimize_deformation:
            trainable.append("latents")
    if cfg.optimize_parts and cfg.part_steps > 0 and num_parts > 0:
        pairs = consistency_pairs(mesh, cfg.tau, cfg.max_pairs, cfg.seed) if cfg.w_consist > 0 else None
        losses["parts"] = _run_stage(scene, params, trainable, feature, clu, setup, cfg.part_steps, cfg, pairs,
                                     target)
    seconds["parts"] = time.perf_counter() - t0

    with torch.no_grad():
        cam, obj = scene.camera_vertices(params)
    p = {k: v.detach() for k, v in params.items()}
    return InferenceResult(
        azimuth=float(p["azimuth"]), elevation=float(p["elevation"]), theta=float(p["theta"]),
        distance=float(p["distance"]), vertices=obj.cpu().numpy().astype(np.float32),
        camera_vertices=cam.cpu().numpy().astype(np.float32),
        part_rotvec=p["rotvec"].cpu().numpy(), part_translation=p["translation"].cpu().numpy(),
        part_log_scale=p["log_scale"].cpu().numpy(),
        part_latents=p["latents"].cpu().numpy() if "latents" in p else np.zeros((num_parts, 0), np.float32),
        initial_pose=(float(best[0]), float(best[1]), float(best[2])), losses=losses, seconds=seconds,
    )


def ablation_config(cfg: InferenceConfig, name: str) -> InferenceConfig:
    """The Table 5 ablations: "wo_scaling", "wo_constraint", "wo_deformation" (or "part321" = cfg)."""
    if name == "part321":
        return cfg
    if name == "wo_scaling":
        return replace(cfg, optimize_scale=False)
    if name == "wo_constraint":
        return replace(cfg, w_consist=0.0)
    if name == "wo_deformation":
        return replace(cfg, optimize_deformation=False)
    raise ValueError(f"unknown ablation {name!r}")
