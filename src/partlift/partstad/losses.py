"""PartSTAD's training objectives on superpoint label probabilities.

mRIoU (Eq. 2-4): with n_k points in superpoint k, g_kc the fraction of them labelled c in the
ground truth and p_kc the predicted probability (l_hat = M p, so point sums become n_k-weighted
superpoint sums)::

    RIoU_c = sum_k n_k g_kc p_kc / (sum_k n_k g_kc + sum_k n_k p_kc - sum_k n_k g_kc p_kc)
    L      = mean over the C part labels of (1 - RIoU_c)

Sums run over all superpoints (unlabelled ones have p = 0), so the loss equals 1 - mIoU of Eq. 2
for hard predictions. Parts absent from a shape contribute a constant 1 (no gradient), as in the
public code; a tiny epsilon keeps 0/0 at 0.
Cross-entropy (supplementary ablation): -sum_k n_k sum_c g_kc log p_kc / sum_k n_k over the covered
superpoints, the null column included (g_k0 = fraction of unlabelled points).
"""

from __future__ import annotations

import numpy as np
import torch

EPS = 1e-8


def superpoint_soft_labels(labels: np.ndarray, superpoints: np.ndarray, num_labels: int) -> np.ndarray:
    """(K, C+1) float64 fraction of each superpoint's points per ground-truth label; column 0 is
    "no part" (-1), column c+1 is part c."""
    sp = np.asarray(superpoints, np.int64)
    lab = np.asarray(labels, np.int64)
    k = int(sp.max()) + 1 if len(sp) else 0
    cnt = np.bincount(sp * (num_labels + 1) + (lab + 1), minlength=k * (num_labels + 1))
    cnt = cnt.reshape(k, num_labels + 1).astype(np.float64)
    return cnt / np.maximum(cnt.sum(1, keepdims=True), 1)


def mriou_loss(probs: torch.Tensor, soft: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
    """1 - mean_c RIoU_c.

    Args:
        probs: (K, C) predicted probability of each part (null column excluded); rows of
            unlabelled superpoints are 0.
        soft: (K, C) ground-truth fractions of each part (:func:`superpoint_soft_labels` [:, 1:]).
        sizes: (K,) points per superpoint.
    """
    n = sizes.to(probs.dtype)[:, None]
    inter = (n * soft * probs).sum(0)
    union = (n * soft).sum(0) + (n * probs).sum(0) - inter
    riou = inter / (union + EPS)
    return 1.0 - riou.mean()


def ce_loss(probs_with_null: torch.Tensor, soft_with_null: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
    """Size-weighted cross-entropy of (K, C+1) probabilities against (K, C+1) soft labels."""
    n = sizes.to(probs_with_null.dtype)
    if len(n) == 0:
        return probs_with_null.sum() * 0.0
    per_sp = -(soft_with_null * torch.log(probs_with_null.clamp_min(1e-12))).sum(1)
    return (n * per_sp).sum() / n.sum().clamp_min(1.0)
