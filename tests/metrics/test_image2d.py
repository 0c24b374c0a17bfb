"""2D mask IoU, box IoU and part-mask mIoU against pixel loops."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import assert_close
from partlift.errors import LabelMismatchError
from partlift.metrics.image2d import box_iou_2d, image_miou, mask_iou, part_mask_counts, part_mask_ious


def ref_part_ious(pred, gt, num_parts, include_background):
    classes = list(range(num_parts)) + ([-1] if include_background else [])
    out = []
    for c in classes:
        inter = union = 0
        for p, g in zip(pred.ravel().tolist(), gt.ravel().tolist(), strict=True):
            inter += p == c and g == c
            union += p == c or g == c
        out.append(inter / union if union else math.nan)
    return out


def ref_box_iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def test_part_mask_ious_match_reference():
    rng = np.random.default_rng(0)
    for case in range(200):
        p = int(rng.integers(1, 5))
        h, w = rng.integers(1, 12, 2)
        gt = rng.integers(-1, p, (h, w))
        pred = np.where(rng.random((h, w)) < 0.6, gt, rng.integers(-1, p, (h, w)))
        bg = bool(case % 2)
        ref = ref_part_ious(pred, gt, p, bg)
        assert_close(part_mask_ious(pred, gt, p, bg), ref, atol=1e-12)
        defined = [v for v in ref if not math.isnan(v)]
        assert_close(image_miou(pred, gt, p, bg), sum(defined) / len(defined) if defined else math.nan, atol=1e-12)


def test_counts_and_mask_iou():
    gt = np.array([[0, 0, -1], [1, 1, -1]])
    pred = np.array([[0, -1, -1], [1, 1, 1]])
    inter, union = part_mask_counts(pred, gt, 2, include_background=True)
    assert inter.tolist() == [1, 2, 1] and union.tolist() == [2, 3, 3]
    assert mask_iou(gt == 0, pred == 0) == pytest.approx(0.5)
    assert math.isnan(mask_iou(np.zeros((2, 2), bool), np.zeros((2, 2), bool)))
    with pytest.raises(LabelMismatchError):
        part_mask_counts(pred, gt[:, :2], 2)
    with pytest.raises(LabelMismatchError, match="must lie"):
        part_mask_counts(pred + 1, gt, 2)


def test_box_iou_matches_reference():
    rng = np.random.default_rng(1)
    lo = rng.uniform(0, 10, (30, 2))
    a = np.c_[lo, lo + rng.uniform(0, 6, (30, 2))]
    lo = rng.uniform(0, 10, (20, 2))
    b = np.c_[lo, lo + rng.uniform(0, 6, (20, 2))]
    b[0] = [1, 1, 1, 1]  # empty box
    got = box_iou_2d(a, b)
    assert_close(got, [[ref_box_iou(x, y) for y in b] for x in a], atol=1e-12)
    assert box_iou_2d([[0, 0, 2, 2]], [[1, 1, 3, 3]])[0, 0] == pytest.approx(1 / 7)
    with pytest.raises(ValueError):
        box_iou_2d([[2, 0, 1, 1]], [[0, 0, 1, 1]])
