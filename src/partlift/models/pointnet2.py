"""PointNet++ (single-scale grouping) in plain torch, and a capsule/atlas reconstruction decoder.

Building blocks (Qi et al. 2017b): farthest-point sampling, ball query, set abstraction (sample,
group, shared MLP, max-pool) and feature propagation (3-NN inverse-distance interpolation + MLP).
:class:`PointNet2Encoder` maps (B, N, 3) points to (B, N, dim) per-point features and a global code.

:class:`CapsuleAtlasDecoder` reconstructs the cloud for self-supervised pretraining in the spirit
of Canonical Capsules (Sun et al., NeurIPS 2021; docs/REFERENCES.md): per-point features give a soft assignment to K
capsules; each capsule's pose is the attention-weighted mean of its points, its descriptor the
attention-weighted mean feature; an AtlasNet-style MLP per capsule folds a 2D grid into a surface
patch around the capsule. Trained with a Chamfer loss, this makes the per-point features
consistent across shapes of a category. Point coordinates are expected in a unit-box scale.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from partlift.validation import bounded, validate_config


def farthest_point_sample(xyz: torch.Tensor, npoint: int, start: int = 0) -> torch.Tensor:
    """(B, npoint) long indices of farthest-point samples of (B, N, 3) points, starting at ``start``."""
    b, n, _ = xyz.shape
    npoint = min(npoint, n)
    idx = torch.zeros(b, npoint, dtype=torch.long)
    dist = torch.full((b, n), float("inf"), dtype=xyz.dtype)
    far = torch.full((b,), int(start), dtype=torch.long)
    ar = torch.arange(b)
    for i in range(npoint):
        idx[:, i] = far
        d = ((xyz - xyz[ar, far][:, None]) ** 2).sum(-1)
        dist = torch.minimum(dist, d)
        far = dist.argmax(-1)
    return idx


def ball_query(radius: float, nsample: int, xyz: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """(B, S, nsample) long indices of up to ``nsample`` points within ``radius`` of each centre.

    The first ``nsample`` points in index order are taken; short groups repeat their first member
    (the reference CUDA kernel's rule). Every centre is one of the points, so no group is empty.
    """
    d = torch.cdist(centers, xyz) ** 2  # (B, S, N)
    n = xyz.shape[1]
    ar = torch.arange(n).expand_as(d)
    key = torch.where(d <= radius * radius, ar, torch.full_like(ar, n))
    key = key.sort(dim=-1).values[..., :nsample]
    first = key[..., :1]
    first = torch.where(first == n, d.argmin(-1, keepdim=True), first)  # safety: nearest point
    return torch.where(key == n, first.expand_as(key), key)


def _gather(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """x (B, N, C), idx (B, ...) -> (B, ..., C)."""
    b = x.shape[0]
    flat = idx.reshape(b, -1)
    out = torch.gather(x, 1, flat[..., None].expand(-1, -1, x.shape[-1]))
    return out.reshape(*idx.shape, x.shape[-1])


def _mlp2d(dims: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        layers += [nn.Conv2d(a, b, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


def _mlp1d(dims: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        layers += [nn.Conv1d(a, b, 1, bias=False), nn.BatchNorm1d(b), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class SetAbstraction(nn.Module):
    """Sample ``npoint`` centres (FPS), group within ``radius`` (or all points), shared MLP, max-pool."""

    def __init__(self, npoint: int | None, radius: float, nsample: int, in_ch: int, mlp: list[int]) -> None:
        super().__init__()
        self.npoint, self.radius, self.nsample = npoint, radius, nsample
        self.mlp = _mlp2d([in_ch + 3] + list(mlp))
        self.out_ch = mlp[-1]

    def forward(self, xyz: torch.Tensor, feats: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """xyz (B, N, 3), feats (B, N, C) or None -> centres (B, S, 3), features (B, S, C')."""
        if self.npoint is None:  # group all around the origin
            centers = xyz.new_zeros(xyz.shape[0], 1, 3)
            grouped = xyz[:, None]  # (B, 1, N, 3)
            gf = None if feats is None else feats[:, None]
        else:
            with torch.no_grad():
                cidx = farthest_point_sample(xyz.detach(), self.npoint)
            centers = _gather(xyz, cidx)
            with torch.no_grad():
                gidx = ball_query(self.radius, self.nsample, xyz.detach(), centers.detach())
            grouped = _gather(xyz, gidx) - centers[:, :, None]
            gf = None if feats is None else _gather(feats, gidx)
        x = grouped if gf is None else torch.cat([grouped, gf], dim=-1)  # (B, S, K, 3 + C)
        x = self.mlp(x.permute(0, 3, 1, 2))  # (B, C', S, K)
        return centers, x.max(dim=-1).values.transpose(1, 2)


def three_nn_interpolate(xyz: torch.Tensor, src_xyz: torch.Tensor, src_feats: torch.Tensor) -> torch.Tensor:
    """Features at ``xyz`` (B, N, 3) by inverse-distance weights over the 3 nearest ``src_xyz`` (B, S, 3)."""
    if src_xyz.shape[1] == 1:
        return src_feats.expand(-1, xyz.shape[1], -1)
    d = torch.cdist(xyz, src_xyz) ** 2
    k = min(3, src_xyz.shape[1])
    dk, ik = d.topk(k, dim=-1, largest=False)
    w = 1.0 / (dk + 1e-8)
    w = w / w.sum(-1, keepdim=True)
    return (_gather(src_feats, ik) * w[..., None]).sum(-2)


class FeaturePropagation(nn.Module):
    """Interpolate coarse features to fine points, concatenate the skip features, shared MLP."""

    def __init__(self, in_ch: int, mlp: list[int]) -> None:
        super().__init__()
        self.mlp = _mlp1d([in_ch] + list(mlp))
        self.out_ch = mlp[-1]

    def forward(self, xyz, src_xyz, skip, src_feats) -> torch.Tensor:
        x = three_nn_interpolate(xyz, src_xyz, src_feats)
        if skip is not None:
            x = torch.cat([x, skip], dim=-1)
        return self.mlp(x.transpose(1, 2)).transpose(1, 2)


@dataclass(frozen=True)
class PointNet2Config:
    """Architecture of :class:`PointNet2Encoder` (smaller than the paper's for a CPU)."""

    npoints: tuple[int, int] = bounded((256, 64), ge=1)
    """Centres of the two set-abstraction levels."""
    radii: tuple[float, float] = bounded((0.1, 0.25), gt=0)
    """Ball-query radii (unit-box scale)."""
    nsample: int = bounded(32, ge=1)
    """Neighbours per ball."""
    widths: tuple[int, int, int] = bounded((64, 128, 256), ge=1)
    """Output channels of SA1, SA2 and the global SA3."""
    dim: int = bounded(64, ge=1)
    """Per-point output feature dimension."""

    def __post_init__(self) -> None:
        validate_config(self)


class PointNet2Encoder(nn.Module):
    """``forward(xyz (B, N, 3)) -> (per-point features (B, N, dim), global code (B, widths[2]))``."""

    def __init__(self, config: PointNet2Config = PointNet2Config()) -> None:
        super().__init__()
        self.config = config
        w1, w2, w3 = config.widths
        self.sa1 = SetAbstraction(config.npoints[0], config.radii[0], config.nsample, 0, [w1 // 2, w1 // 2, w1])
        self.sa2 = SetAbstraction(config.npoints[1], config.radii[1], config.nsample, w1, [w2 // 2, w2 // 2, w2])
        self.sa3 = SetAbstraction(None, 0.0, 0, w2, [w2, w3, w3])
        self.fp3 = FeaturePropagation(w3 + w2, [w3, w2])
        self.fp2 = FeaturePropagation(w2 + w1, [w2, w2])
        self.fp1 = FeaturePropagation(w2 + 3, [w2, config.dim])
        self.dim = config.dim
        self.global_dim = w3

    def forward(self, xyz: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        l1_xyz, l1 = self.sa1(xyz, None)
        l2_xyz, l2 = self.sa2(l1_xyz, l1)
        l3_xyz, l3 = self.sa3(l2_xyz, l2)
        f2 = self.fp3(l2_xyz, l3_xyz, l2, l3)
        f1 = self.fp2(l1_xyz, l2_xyz, l1, f2)
        f0 = self.fp1(xyz, l1_xyz, xyz, f1)
        return f0, l3[:, 0]

    def describe(self) -> dict:
        return asdict(self.config)


class CapsuleAtlasDecoder(nn.Module):
    """Reconstruct a cloud from per-point features (module docstring).

    ``forward(xyz, feats, global_code, grid)`` with ``grid`` (B, K, M, 2) patch samples returns the
    (B, K * M, 3) reconstruction, the (B, N, K) attention and the (B, K, 3) capsule centres.
    """

    def __init__(self, feat_dim: int, global_dim: int, capsules: int = 10, hidden: int = 128) -> None:
        super().__init__()
        self.capsules = capsules
        self.attention = nn.Linear(feat_dim, capsules)
        self.fold = nn.ModuleList(
            nn.Sequential(
                nn.Linear(2 + feat_dim + global_dim, hidden), nn.ReLU(inplace=True),
                nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
                nn.Linear(hidden, 3), nn.Tanh(),
            )
            for _ in range(capsules)
        )

    def forward(self, xyz, feats, global_code, grid):
        att = torch.softmax(self.attention(feats), dim=-1)  # (B, N, K)
        mass = att.sum(1).clamp_min(1e-6)  # (B, K)
        centers = torch.einsum("bnk,bnc->bkc", att, xyz) / mass[..., None]
        desc = torch.einsum("bnk,bnc->bkc", att, feats) / mass[..., None]
        out = []
        for k, mlp in enumerate(self.fold):
            m = grid.shape[2]
            code = torch.cat([desc[:, k], global_code], dim=-1)[:, None].expand(-1, m, -1)
            out.append(centers[:, k, None] + 0.5 * mlp(torch.cat([grid[:, k], code], dim=-1)))
        return torch.cat(out, dim=1), att, centers
