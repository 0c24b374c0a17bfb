"""Semantic mIoU (PartNetE protocol) against a point-by-point reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import assert_close
from partlift.errors import LabelMismatchError
from partlift.metrics.segmentation import semantic_miou, shape_part_ious


def ref_shape_ious(pred, gt, num_parts):
    """Loop over points: IoU of each part, NaN where the ground truth lacks it."""
    out = []
    for c in range(num_parts):
        inter = union = 0
        present = False
        for p, g in zip(pred.tolist(), gt.tolist(), strict=True):
            present |= g == c
            inter += p == c and g == c
            union += p == c or g == c
        out.append(inter / union if present else math.nan)
    return out


def ref_miou(preds, gts, names):
    """part = mean over shapes whose GT has it; category = mean over parts; overall = mean over categories."""
    per_part, per_cat = {}, {}
    for cat in gts:
        per_part[cat] = {}
        rows = [ref_shape_ious(p, g, len(names[cat])) for p, g in zip(preds[cat], gts[cat], strict=True)]
        for k, name in enumerate(names[cat]):
            vals = [r[k] for r in rows if not math.isnan(r[k])]
            per_part[cat][name] = sum(vals) / len(vals) if vals else math.nan
        vals = [v for v in per_part[cat].values() if not math.isnan(v)]
        per_cat[cat] = sum(vals) / len(vals) if vals else math.nan
    vals = [v for v in per_cat.values() if not math.isnan(v)]
    return per_part, per_cat, (sum(vals) / len(vals) if vals else math.nan)


def _random_set(rng):
    names, preds, gts = {}, {}, {}
    for c in range(rng.integers(1, 4)):
        cat = f"cat{c}"
        p = int(rng.integers(1, 5))
        names[cat] = [f"part{k}" for k in range(p)]
        preds[cat], gts[cat] = [], []
        for _ in range(rng.integers(1, 5)):
            n = int(rng.integers(1, 40))
            g = rng.integers(-1, p, n)
            noisy = rng.integers(-1, p, n)
            preds[cat].append(np.where(rng.random(n) < rng.random(), g, noisy))
            gts[cat].append(g)
    return names, preds, gts


def test_shape_ious_match_reference_on_random_shapes():
    rng = np.random.default_rng(0)
    for _ in range(300):
        p = int(rng.integers(1, 6))
        n = int(rng.integers(1, 60))
        gt, pred = rng.integers(-1, p, n), rng.integers(-1, p, n)
        assert_close(shape_part_ious(pred, gt, p), ref_shape_ious(pred, gt, p), atol=1e-12)


def test_semantic_miou_matches_reference_on_random_sets():
    rng = np.random.default_rng(1)
    for _ in range(200):
        names, preds, gts = _random_set(rng)
        res = semantic_miou(preds, gts, names)
        per_part, per_cat, overall = ref_miou(preds, gts, names)
        assert_close(res.table.overall, overall, atol=1e-6)
        for cat in names:
            assert_close(res.table.per_category[cat], per_cat[cat], atol=1e-6)
            assert_close([res.table.per_part[cat][n] for n in names[cat]], [per_part[cat][n] for n in names[cat]],
                         atol=1e-6)


def test_protocol_details_by_hand():
    # part 0 in GT at points 0,1; prediction puts 0 also on a GT -1 point (2): IoU = 2/3.
    # part 1 is predicted but absent from this shape's GT: no cost.
    gt = np.array([0, 0, -1, -1])
    pred = np.array([0, 0, 0, 1])
    ious = shape_part_ious(pred, gt, 2)
    assert ious[0] == pytest.approx(2 / 3)
    assert math.isnan(ious[1])
    # predicted -1 is "no part": it only shrinks the intersection
    assert shape_part_ious(np.array([-1, 0, -1, -1]), gt, 2)[0] == pytest.approx(1 / 2)


def test_part_absent_everywhere_is_left_out_of_the_category_mean():
    res = semantic_miou({"C": [np.array([0, 1, 1])]}, {"C": [np.array([0, 0, -1])]}, {"C": ["a", "b"]})
    assert math.isnan(res.table.per_part["C"]["b"])
    assert res.table.per_category["C"] == pytest.approx(0.5)
    assert res.part_counts["C"].tolist() == [1, 0]


def test_labels_out_of_range_and_count_mismatch_raise():
    with pytest.raises(LabelMismatchError, match="must lie in"):
        shape_part_ious(np.array([0, 2]), np.array([0, 1]), 2)
    with pytest.raises(LabelMismatchError, match="must lie in"):
        shape_part_ious(np.array([0, 1]), np.array([-2, 1]), 2)
    with pytest.raises(LabelMismatchError, match="points"):
        shape_part_ious(np.array([0, 1, 1]), np.array([0, 1]), 2)
