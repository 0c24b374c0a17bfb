"""2D metrics: binary mask IoU, box IoU and part-mask mIoU.

Part masks are (H, W) int label maps indexing the category's part list, -1 = background (PNG
files store label + 1, docs/CONVENTIONS.md). For part k of one image::

    IoU_k = |pred = k & gt = k| / |pred = k | gt = k|       undefined (NaN) if the union is empty

- per-image mIoU: mean of IoU_k over the parts with a non-empty union in that image;
- per-part IoU over a set of images: sum of intersections / sum of unions over the images (the
  usual semantic-segmentation protocol: large and small images weigh by their pixels);
- category mIoU: mean of the per-part IoUs; overall: mean over categories.

``include_background=True`` adds the background (label -1) as one more class named ``"background"``.
Boxes are (x0, y0, x1, y1) in continuous pixel coordinates, area (x1 - x0) (y1 - y0).
"""

from __future__ import annotations

import numpy as np

from partlift.errors import LabelMismatchError


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two same-shape boolean masks; NaN if both are empty."""
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if a.shape != b.shape:
        raise LabelMismatchError(f"mask shapes differ: {a.shape} vs {b.shape}")
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else float("nan")


def box_iou_2d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) float64 IoU between (N, 4) and (M, 4) boxes (x0, y0, x1, y1); 0 where the union is empty."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if np.any(a[:, 2:] < a[:, :2]) or np.any(b[:, 2:] < b[:, :2]):
        raise ValueError("boxes must satisfy x1 >= x0 and y1 >= y0")
    wh = np.clip(np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2]), 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def part_mask_counts(
    pred: np.ndarray, gt: np.ndarray, num_parts: int, include_background: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class pixel (intersection, union) counts of one image, each (C,) int64 with
    C = num_parts (+1 for the background, last, if ``include_background``)."""
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape or pred.ndim != 2:
        raise LabelMismatchError(f"part masks must be equal-shape (H, W) maps, got {pred.shape} and {gt.shape}")
    for what, m in (("prediction", pred), ("ground truth", gt)):
        if m.size and (m.min() < -1 or m.max() >= num_parts):
            raise LabelMismatchError(
                f"{what} mask labels must lie in [-1, {num_parts - 1}], found {int(m.min())}..{int(m.max())}"
            )
    k = num_parts + 1
    conf = np.bincount((gt.astype(np.int64).ravel() + 1) * k + pred.astype(np.int64).ravel() + 1,
                       minlength=k * k).reshape(k, k)
    inter = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - inter
    # index 0 of the confusion matrix is the background; move it last
    order = np.r_[1:k, 0] if include_background else np.arange(1, k)
    return inter[order].astype(np.int64), union[order].astype(np.int64)


def part_mask_ious(pred: np.ndarray, gt: np.ndarray, num_parts: int, include_background: bool = False) -> np.ndarray:
    """(C,) float64 per-class IoU of one image, NaN where the class is in neither mask."""
    inter, union = part_mask_counts(pred, gt, num_parts, include_background)
    out = np.full(len(inter), np.nan)
    out[union > 0] = inter[union > 0] / union[union > 0]
    return out


def image_miou(pred: np.ndarray, gt: np.ndarray, num_parts: int, include_background: bool = False) -> float:
    """Per-image mIoU: mean of :func:`part_mask_ious` over the defined classes (NaN if none)."""
    v = part_mask_ious(pred, gt, num_parts, include_background)
    v = v[~np.isnan(v)]
    return float(v.mean()) if len(v) else float("nan")
