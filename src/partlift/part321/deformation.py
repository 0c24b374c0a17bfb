"""Deformation network phi(V_k, z_k) -> offset (Part321 Eq. 2-3).

The template vertex V_k and its shape latent z_k (one-hot over the training meshes during
training, per-vertex and continuous at inference) give an offset; the deformed vertex is
``V_k + phi(V_k, z_k)``. Training minimises the L1 distance to the corresponded vertex of each
training mesh (Eq. 3) plus a normal-consistency term that keeps the deformed mesh smooth.

Decision (docs/PART321.md): the latent has one extra slot, index 0, for the template itself,
trained to give a zero offset. Inference then starts from z = e_0 (the undeformed template used by
the pose stage) and moves continuously on the simplex of the training shapes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from partlift.errors import ReadError
from partlift.geometry.atomic import atomic_torch_save, atomic_write_json
from partlift.geometry.safe_load import load_state_dict_checked, load_torch_checkpoint, one_line
from partlift.validation import bounded, validate_config


@dataclass(frozen=True)
class DeformationConfig:
    """Deformation network and its training (paper defaults where the paper gives them)."""

    hidden: int = bounded(128, ge=1)
    """Width of the MLP's hidden layers."""
    layers: int = bounded(4, ge=1)
    """Number of hidden layers."""
    frequencies: int = bounded(4, ge=0)
    """Fourier frequencies of the positional encoding of V_k (sin/cos(2^i pi x), i < frequencies)."""
    steps: int = bounded(1000, ge=1)
    """Adam steps."""
    lr: float = bounded(1e-3, gt=0)
    """Adam learning rate (cosine-decayed to 5 %)."""
    meshes_per_step: int = bounded(4, ge=1)
    """Training meshes per step."""
    vertices_per_step: int = bounded(1024, ge=1)
    """Template vertices per mesh and step in the L1 term (a random subset)."""
    pairs_per_step: int = bounded(256, ge=1)
    """Adjacent face pairs per mesh and step in the normal-consistency term (a random subset)."""
    normal_weight: float = bounded(0.01, ge=0)
    """Weight of the normal-consistency loss (mean 1 - cos over adjacent deformed faces)."""
    threads: int = bounded(1, ge=1)
    """Torch threads while training (small tensors: extra threads mostly spin on a shared CPU)."""
    seed: int = bounded(0, ge=0)
    """Seed of initialisation and mesh sampling."""

    def __post_init__(self) -> None:
        validate_config(self)


class DeformationNet(nn.Module):
    """MLP offset field. ``forward(vertices (V, 3), latents (V, D)) -> (V, 3)`` offsets."""

    freqs: torch.Tensor  # buffer

    def __init__(self, latent_dim: int, config: DeformationConfig = DeformationConfig()) -> None:
        super().__init__()
        self.latent_dim = int(latent_dim)
        self.config = config
        self.register_buffer("freqs", (2.0 ** torch.arange(config.frequencies, dtype=torch.float32)) * torch.pi)
        in_dim = 3 + 6 * config.frequencies + self.latent_dim
        dims = [in_dim] + [config.hidden] * config.layers
        mods: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            mods += [nn.Linear(a, b), nn.Softplus(beta=10.0)]
        self.body = nn.Sequential(*mods)
        self.head = nn.Linear(config.hidden, 3)
        nn.init.zeros_(self.head.weight)  # start at zero offset
        nn.init.zeros_(self.head.bias)

    def encode(self, vertices: torch.Tensor) -> torch.Tensor:
        ang = vertices[..., None] * self.freqs  # (V, 3, L)
        return torch.cat([vertices, torch.sin(ang).flatten(-2), torch.cos(ang).flatten(-2)], dim=-1)

    def forward(
        self, vertices: torch.Tensor, latents: torch.Tensor, encoded: torch.Tensor | None = None
    ) -> torch.Tensor:
        enc = self.encode(vertices) if encoded is None else encoded
        return self.head(self.body(torch.cat([enc, latents.to(enc.dtype)], dim=-1)))


def face_adjacency(faces: np.ndarray) -> np.ndarray:
    """(M, 2) int64 pairs of faces sharing an edge (each pair once)."""
    f = np.asarray(faces, dtype=np.int64)
    edges = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    edges.sort(axis=1)
    face_of = np.tile(np.arange(len(f)), 3)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    e, fo = edges[order], face_of[order]
    same = (e[1:] == e[:-1]).all(axis=1)
    return np.stack([fo[:-1][same], fo[1:][same]], axis=1)


def normal_consistency(vertices: torch.Tensor, faces: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
    """Mean of 1 - cos between the normals of adjacent faces (pytorch3d's mesh_normal_consistency)."""
    if adjacency.numel() == 0:
        return vertices.sum() * 0.0
    tri = vertices[faces]
    n = torch.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], dim=-1)
    n = n / n.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return (1.0 - (n[adjacency[:, 0]] * n[adjacency[:, 1]]).sum(-1)).mean()


class Deformer:
    """Fitted deformation network of one category (scikit-learn style: ``fit`` returns self).

    Latent slot 0 is the template (zero offset); slot ``y + 1`` is training mesh ``y``.
    """

    def __init__(self, config: DeformationConfig = DeformationConfig()) -> None:
        self.config = config
        self.net: DeformationNet | None = None
        self.latent_dim = 0
        self.history: list[float] = []

    def fit(
        self,
        template_vertices: np.ndarray,
        template_faces: np.ndarray,
        targets: list[np.ndarray],
        progress: bool = False,
    ) -> Deformer:
        """Train phi on corresponded positions.

        Args:
            template_vertices: (K, 3) template vertices V_k.
            template_faces: (F, 3) template faces (for the normal-consistency term).
            targets: per training mesh y, (K, 3) position of the corresponded vertex
                V_{y, Corr(y0, k, y)} of every template vertex.
        """
        prev = torch.get_num_threads()
        torch.set_num_threads(max(1, self.config.threads))
        try:
            return self._fit(template_vertices, template_faces, targets, progress)
        finally:
            torch.set_num_threads(prev)

    def _fit(self, template_vertices, template_faces, targets, progress) -> Deformer:
        cfg = self.config
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        self.latent_dim = len(targets) + 1
        self.net = DeformationNet(self.latent_dim, cfg)
        v = torch.as_tensor(np.asarray(template_vertices), dtype=torch.float32)
        faces = torch.as_tensor(np.asarray(template_faces), dtype=torch.long)
        adj = torch.as_tensor(face_adjacency(template_faces), dtype=torch.long)
        tgt = [torch.zeros_like(v)] + [torch.as_tensor(np.asarray(t), dtype=torch.float32) - v for t in targets]
        enc = self.net.encode(v)
        opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.steps, 1), eta_min=cfg.lr * 0.05)
        eye = torch.eye(self.latent_dim)
        self.history = []
        for _ in tqdm(range(cfg.steps), desc="deformation", disable=not progress, leave=False):
            chosen = rng.choice(self.latent_dim, size=min(cfg.meshes_per_step, self.latent_dim), replace=False)
            loss = v.new_zeros(())
            # a random vertex subset for the L1 term and random adjacent face pairs for the normal term
            vsel = torch.as_tensor(rng.choice(len(v), size=min(cfg.vertices_per_step, len(v)), replace=False))
            nc = None
            if cfg.normal_weight > 0 and len(adj):
                pairs = adj[torch.as_tensor(rng.choice(len(adj), size=min(cfg.pairs_per_step, len(adj)),
                                                       replace=False))]
                fids, pinv = torch.unique(pairs.reshape(-1), return_inverse=True)
                vids, tinv = torch.unique(faces[fids].reshape(-1), return_inverse=True)
                nc = (pinv.reshape(-1, 2), vids, tinv.reshape(-1, 3))
            for y in chosen:
                off = self.net(v[vsel], eye[y].expand(len(vsel), -1), enc[vsel])
                loss = loss + (off - tgt[y][vsel]).abs().sum(-1).mean()
                if nc is not None and y > 0:
                    pinv, vids, tinv = nc
                    offv = self.net(v[vids], eye[y].expand(len(vids), -1), enc[vids])
                    loss = loss + cfg.normal_weight * normal_consistency(v[vids] + offv, tinv, pinv)
            loss = loss / len(chosen)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            self.history.append(float(loss.detach()))
        self.net.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        return self

    def offsets(self, vertices: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        """(V, 3) offsets for per-vertex latents (V, D) (differentiable in both)."""
        if self.net is None:
            raise RuntimeError("Deformer is not fitted")
        return self.net(vertices, latents)

    def predict(self, vertices: np.ndarray, latents: np.ndarray) -> np.ndarray:
        """(V, 3) float32 deformed vertices ``V + phi(V, z)`` for (V, D) or (D,) latents."""
        dev = next(self.net.parameters()).device if self.net is not None else torch.device("cpu")
        v = torch.as_tensor(np.asarray(vertices), dtype=torch.float32, device=dev)
        z = torch.as_tensor(np.asarray(latents), dtype=torch.float32, device=dev)
        if z.ndim == 1:
            z = z.expand(len(v), -1)
        with torch.no_grad():
            return (v + self.offsets(v, z)).cpu().numpy()

    # ------------------------------------------------------------------ persistence
    def state(self) -> dict:
        if self.net is None:
            raise RuntimeError("Deformer is not fitted")
        net = {k: v.cpu() for k, v in self.net.state_dict().items()}
        return {"config": asdict(self.config), "latent_dim": self.latent_dim, "net": net}

    @staticmethod
    def from_state(state: dict, source: str | Path = "deformation state") -> Deformer:
        """Inverse of :meth:`state`; ``source`` (the file) names the culprit in errors."""
        try:
            d = Deformer(DeformationConfig(**state["config"]))
            d.latent_dim = int(state["latent_dim"])
            d.net = DeformationNet(d.latent_dim, d.config)
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"{source} has no valid deformation network settings ({type(exc).__name__}: {one_line(exc)})"
            raise ReadError(msg + "; retrain the model") from exc
        load_state_dict_checked(d.net, state["net"], source, what="deformation network")
        d.net.eval()
        for p in d.net.parameters():
            p.requires_grad_(False)
        return d

    def save(self, path: str | Path) -> None:
        atomic_torch_save(self.state(), path)
        atomic_write_json(str(path) + ".json", asdict(self.config), indent=2)

    @staticmethod
    def load(path: str | Path) -> Deformer:
        """Read a file written by :meth:`save`; ReadError naming it if it is missing, damaged or unsafe."""
        st = load_torch_checkpoint(path, what="deformation network", keys=("config", "latent_dim", "net"))
        return Deformer.from_state(st, path)
