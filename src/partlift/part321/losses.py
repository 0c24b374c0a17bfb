"""Losses of Part321 inference and training (torch).

- :func:`fg_bg_score_loss`: NeMo's render-and-compare loss with a background competitor
  (NeMo's ``loss_fg_bg``): ``L = 1 - [mean_p max(obj_p, clu_p) - mean_p clu_p]``,
  ``obj_p = <F_p, F^_p>``, ``clu_p = <F_p, mean clutter feature>``; means over the whole map.
- :func:`l2_recon_loss`: Eq. 4, ``sum_p ||F_p - F^_p||^2`` (reported as a mean over pixels).
- :func:`consistency_loss`: Eq. 5 on vertex pairs of different parts that were closer than tau.
- :func:`contrastive_loss`: Eq. 6 with NeMo's neighbourhood exclusion and clutter weighting.
"""

from __future__ import annotations

import math

import torch


def fg_bg_score_loss(rendered: torch.Tensor, feature: torch.Tensor, clutter_score: torch.Tensor) -> torch.Tensor:
    """NeMo foreground/clutter loss.

    Args:
        rendered: (B, C, H, W) or (C, H, W) rendered vertex features (0 on background).
        feature: (C, H, W) L2-normalised image features.
        clutter_score: (H, W) per-pixel similarity to the (normalised) mean clutter feature.

    Returns:
        (B,) or scalar loss.
    """
    obj = (rendered * feature).sum(-3)
    gain = torch.maximum(obj, clutter_score).mean(dim=(-2, -1)) - clutter_score.mean()
    return 1.0 - gain


def l2_recon_loss(rendered: torch.Tensor, feature: torch.Tensor) -> torch.Tensor:
    """Eq. 4 squared feature difference, averaged over pixels. Shapes as :func:`fg_bg_score_loss`."""
    return ((rendered - feature) ** 2).sum(-3).mean(dim=(-2, -1))


def consistency_loss(vertices: torch.Tensor, pairs: torch.Tensor, tau: float) -> torch.Tensor:
    """Eq. 5: ``mean_{(k,l)} (rho_kl - tau) * [rho_kl > tau]`` over the selected pairs.

    Args:
        vertices: (V, 3) current vertex positions (object frame).
        pairs: (M, 2) long vertex pairs from different parts whose template distance is < tau.
        tau: distance threshold (object units).

    The paper writes a sum; we average over pairs so the weight does not depend on mesh density.
    """
    if pairs.numel() == 0:
        return vertices.sum() * 0.0
    rho = (vertices[pairs[:, 0]] - vertices[pairs[:, 1]]).norm(dim=-1)
    return torch.relu(rho - tau).mean()


def contrastive_loss(
    feats: torch.Tensor,
    targets: torch.Tensor,
    bank: torch.Tensor,
    clutter: torch.Tensor,
    exclude: torch.Tensor | None,
    temperature: float = 0.07,
    weight_noise: float = 5e-3,
    hard_negatives: torch.Tensor | None = None,
    hard_weight: float = 1.0,
) -> torch.Tensor:
    """Eq. 6 (NeMo's form): cross-entropy of each visible vertex feature against all vertex features.

    Args:
        feats: (N, C) image features f_k at the projected positions of visible vertices.
        targets: (N,) long vertex index of each feature.
        bank: (K, C) vertex features Theta (no gradient).
        clutter: (Q, C) background features B (clutter queue, no gradient).
        exclude: (N, K) bool, True for other vertices in the 3D neighbourhood N_k of the target
            (their logits get -1e5, the target itself stays), or None.
        temperature: softmax temperature (T = 1 / kappa = 0.07).
        weight_noise: clutter logits are multiplied by this weight inside the softmax
            (NeMo subtracts -log(5e-3) from them).
        hard_negatives: (N,) long, one vertex per feature whose term in the softmax's denominator
            is multiplied by ``hard_weight`` (-1: none), e.g. the vertex a front/back flip puts
            at the target's place; or None.
        hard_weight: that weight (1 = Eq. 6 unchanged).

    Returns:
        scalar mean loss over the N features.
    """
    logits_v = feats @ bank.t() / temperature
    if exclude is not None:
        logits_v = logits_v.masked_fill(exclude, -1e5)
    if hard_negatives is not None and hard_weight != 1.0:
        rows = torch.nonzero(hard_negatives >= 0).squeeze(1)
        bonus = torch.zeros_like(logits_v)
        bonus[rows, hard_negatives[rows]] = math.log(hard_weight)
        logits_v = logits_v + bonus
    parts = [logits_v]
    if clutter is not None and clutter.numel():
        parts.append(feats @ clutter.t() / temperature + math.log(weight_noise))
    logits = torch.cat(parts, dim=1)
    return torch.nn.functional.cross_entropy(logits, targets)
