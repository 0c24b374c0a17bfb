"""Training losses shared by the methods' networks (torch imported lazily)."""

from __future__ import annotations


def chamfer_distance_torch(a, b, squared: bool = True, reduction: str = "sum"):
    """Differentiable Chamfer distance for training losses (no ``scale``): ``a`` (B, N, 3) or (N, 3),
    ``b`` (B, M, 3) or (M, 3) torch tensors; returns a (B,) tensor or a scalar. Same conventions as
    :func:`partlift.metrics.chamfer.chamfer_distance`; memory O(B N M) (dense distance matrix)."""
    import torch

    single = a.dim() == 2
    if single:
        a, b = a[None], b[None]
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    if squared:  # expanded form: finite gradients even where points coincide
        d = ((a * a).sum(-1)[:, :, None] + (b * b).sum(-1)[:, None, :] - 2 * a @ b.transpose(1, 2)).clamp_min(0.0)
    else:
        d = torch.cdist(a, b)
    d_ab, d_ba = d.min(dim=2).values.mean(1), d.min(dim=1).values.mean(1)
    out = d_ab + d_ba if reduction == "sum" else (d_ab + d_ba) / 2
    return out[0] if single else out
