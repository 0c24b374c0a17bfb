"""Chamfer distance between two point sets, with every convention explicit.

For point sets A (N, 3) and B (M, 3) and d(x, Y) = min_{y in Y} ||x - y||_2::

    D(A -> B) = (1/N) sum_{a in A} d(a, B)^k          k = 2 if squared else 1
    CD(A, B)  = scale * (D(A -> B) + D(B -> A))        reduction = "sum"
              = scale * (D(A -> B) + D(B -> A)) / 2    reduction = "mean"

Default (:class:`ChamferOptions`): squared distances, mean per direction, the two directions summed
(PyTorch3D's ``chamfer_distance`` and Canonical Capsules), reported x 10^2 as in Part321's tables
("CD (10^-2)"). Units are those of the coordinates (partlift normalises objects to the unit box).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.spatial import cKDTree

from partlift.errors import InvalidGeometryError
from partlift.validation import bounded, validate_config

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class ChamferOptions:
    """How a Chamfer distance is computed and reported."""

    squared: bool = True
    """Square the nearest-neighbour distances before averaging (PyTorch3D default)."""
    reduction: Literal["sum", "mean"] = "sum"
    """Combine the two directions by ``"sum"`` (PyTorch3D) or ``"mean"``."""
    scale: float = bounded(100.0, gt=0)
    """Multiply the result by this for reporting (100 = Part321's "CD (10^-2)" column)."""

    def __post_init__(self) -> None:
        validate_config(self)

    def to_dict(self) -> dict:
        return asdict(self)


def _points(x: np.ndarray, what: str) -> np.ndarray:
    p = np.asarray(x, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3 or len(p) == 0:
        raise InvalidGeometryError(f"Chamfer distance: {what} must be a non-empty (N, 3) array, got {p.shape}")
    if not np.all(np.isfinite(p)):
        raise InvalidGeometryError(f"Chamfer distance: {what} contains NaN/Inf")
    return p


def nearest_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,) float64 Euclidean distance from each point of ``a`` (N, 3) to its nearest point of ``b`` (M, 3)."""
    a, b = _points(a, "a"), _points(b, "b")
    d, _ = cKDTree(b).query(a, k=1)
    return np.asarray(d, dtype=np.float64)


def chamfer_distance(a: np.ndarray, b: np.ndarray, options: ChamferOptions = ChamferOptions()) -> float:
    """Chamfer distance between (N, 3) and (M, 3) point sets (module docstring). Symmetric."""
    k = 2 if options.squared else 1
    d_ab = float(np.mean(nearest_distances(a, b) ** k))
    d_ba = float(np.mean(nearest_distances(b, a) ** k))
    total = d_ab + d_ba if options.reduction == "sum" else (d_ab + d_ba) / 2.0
    return options.scale * total


def chamfer_distance_torch(a: torch.Tensor, b: torch.Tensor, squared: bool = True,
                           reduction: str = "sum") -> torch.Tensor:
    """Differentiable Chamfer distance (a training loss too; no ``scale``): ``a`` (B, N, 3) or (N, 3),
    ``b`` (B, M, 3) or (M, 3) torch tensors; returns a (B,) tensor or a scalar. Same conventions as
    :func:`chamfer_distance`; memory O(B N M) (dense distance matrix)."""
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
