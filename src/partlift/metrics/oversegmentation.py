"""Quality of an over-segmentation (superpoints) against ground-truth part labels.

- **Purity**: the share of points whose superpoint's majority ground-truth label is their own,
  sum_k max_c |S_k ∩ G_c| / N. 1 means no superpoint straddles two parts (the ceiling on the mIoU of
  any labelling that is constant per superpoint).
- **Boundary recall / precision** on the k-nearest-neighbour graph: an edge (i, j), j one of i's k
  nearest other points, is a *part boundary* edge if the ground-truth labels of i and j differ and a
  *superpoint boundary* edge if their superpoints differ. Recall = cut part-boundary edges / part-
  boundary edges (did the superpoints follow the parts' borders); precision = part-boundary edges
  among superpoint-boundary edges (low for any fine over-segmentation, by design). NaN when the
  denominator is empty. Ground-truth -1 ("no part") counts as a label of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree


def superpoint_purity(superpoints: np.ndarray, labels: np.ndarray) -> float:
    """Purity of (N,) int superpoint ids against (N,) int labels (-1 allowed); 1.0 for N = 0."""
    sp = np.asarray(superpoints, np.int64).reshape(-1)
    lab = np.asarray(labels, np.int64).reshape(-1)
    if len(sp) != len(lab):
        raise ValueError(f"{len(sp)} superpoint ids for {len(lab)} labels")
    if len(sp) == 0:
        return 1.0
    _, sp_idx = np.unique(sp, return_inverse=True)
    _, lab_idx = np.unique(lab, return_inverse=True)
    counts = np.zeros((sp_idx.max() + 1, lab_idx.max() + 1), np.int64)
    np.add.at(counts, (sp_idx, lab_idx), 1)
    return float(counts.max(axis=1).sum() / len(sp))


@dataclass(frozen=True)
class BoundaryScores:
    """Edge-level boundary agreement on the kNN graph (see the module docstring)."""

    recall: float
    precision: float
    part_boundary_edges: int
    superpoint_boundary_edges: int


def boundary_scores(points: np.ndarray, superpoints: np.ndarray, labels: np.ndarray, k: int = 10) -> BoundaryScores:
    """Boundary recall and precision of superpoints on the ``k``-NN graph of (N, 3) ``points``."""
    p = np.asarray(points, np.float64)
    sp = np.asarray(superpoints, np.int64).reshape(-1)
    lab = np.asarray(labels, np.int64).reshape(-1)
    if not (len(p) == len(sp) == len(lab)):
        raise ValueError(f"{len(p)} points, {len(sp)} superpoint ids and {len(lab)} labels")
    kk = min(int(k), len(p) - 1)
    if kk <= 0:
        return BoundaryScores(float("nan"), float("nan"), 0, 0)
    _, nn = cKDTree(p).query(p, k=kk + 1)
    src, dst = np.repeat(np.arange(len(p)), kk), nn[:, 1:].reshape(-1)
    part_b = lab[src] != lab[dst]
    sp_b = sp[src] != sp[dst]
    both = int((part_b & sp_b).sum())
    n_part, n_sp = int(part_b.sum()), int(sp_b.sum())
    return BoundaryScores(both / n_part if n_part else float("nan"), both / n_sp if n_sp else float("nan"),
                          n_part, n_sp)
