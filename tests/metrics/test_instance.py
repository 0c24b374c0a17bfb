"""Instance mAP50 (part-aware / part-agnostic) against a set-based reference with exact fractions."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

from helpers import assert_close
from partlift.errors import LabelMismatchError
from partlift.metrics.instance import (
    InstancePrediction,
    average_precision_101,
    gt_instances,
    instance_map,
    instance_map_from_stats,
    predictions_from_labels,
    shape_instance_stats_from_labels,
)

# ------------------------------------------------------------------------------------ reference


def ref_ap(tp_flags, n_gt, origin=True):
    """101-point interpolated AP with exact rational recall/precision."""
    pts = [(Fraction(0), Fraction(1))] if origin else []
    tp = 0
    for k, flag in enumerate(tp_flags, start=1):
        tp += flag
        pts.append((Fraction(tp, n_gt), Fraction(tp, k)))
    if not tp_flags:
        return 0.0
    total = Fraction(0)
    for i in range(101):
        cands = [p for r, p in pts if r >= Fraction(i, 100)]
        total += max(cands) if cands else 0
    return float(total / 101)


def ref_shape(sem, ins):
    """Ground-truth instances as (label, set of points) sorted by id, plus the set of 'other' points."""
    groups = {}
    for i, (s, d) in enumerate(zip(sem.tolist(), ins.tolist(), strict=True)):
        if d >= 0:
            groups.setdefault(d, []).append((i, s))
    gts, other = [], set()
    for d in sorted(groups):
        counts = Counter(s for _, s in groups[d])
        best = max(counts.values())
        label = min(s for s, c in counts.items() if c == best)
        pts = {i for i, _ in groups[d]}
        if label < 0:
            other |= pts
        else:
            gts.append((label, pts))
    return gts, other


def ref_class_ap(shapes, plist, accept, thr, origin):
    """Greedy matching of the accepted predictions, ranked by (-score, shape, instance)."""
    entries = sorted((e for e in plist if accept(e[3])), key=lambda e: (e[0], e[1], e[2]))
    n_gt = sum(1 for g, _ in shapes for lab, _ in g if accept(lab))
    if n_gt == 0:
        return math.nan
    used, flags = set(), []
    for _, s, _, _, ppts in entries:
        best, best_iou = None, Fraction(-1)
        for gi, (lab, gpts) in enumerate(shapes[s][0]):
            if accept(lab) and (s, gi) not in used:
                iou = Fraction(len(ppts & gpts), len(ppts | gpts))
                if iou > best_iou:
                    best, best_iou = gi, iou
        hit = best is not None and best_iou > Fraction(thr)
        if hit:
            used.add((s, best))
        flags.append(hit)
    return ref_ap(flags, n_gt, origin)


def ref_map(gt, preds, names, thr=0.5, origin=True):
    """gt: cat -> [(sem, ins)]; preds: cat -> [[InstancePrediction]]. Returns (aware per part, agnostic per cat)."""
    aware, agnostic = {}, {}
    for cat in gt:
        shapes = [ref_shape(s, i) for s, i in gt[cat]]
        plist = []
        for s, pl in enumerate(preds[cat]):
            other = shapes[s][1]
            for j, p in enumerate(pl):
                if p.label >= 0:
                    plist.append((-p.score, s, j, p.label, set(np.flatnonzero(p.mask).tolist()) - other))
        aware[cat] = {n: ref_class_ap(shapes, plist, lambda lab, c=c: lab == c, thr, origin)
                      for c, n in enumerate(names[cat])}
        agnostic[cat] = ref_class_ap(shapes, plist, lambda lab: True, thr, origin)
    return aware, agnostic


# ------------------------------------------------------------------------------------ generators


def random_shape(rng, num_parts, n):
    """GT with instance labels that are mostly but not always consistent, and some -1 instances."""
    k = int(rng.integers(1, 6))
    ins = rng.integers(-1, k, n)
    inst_label = rng.integers(-1, num_parts, k)
    sem = np.where(ins >= 0, inst_label[np.maximum(ins, 0)], rng.integers(-1, num_parts, n))
    noise = rng.random(n) < 0.1
    sem = np.where(noise, rng.integers(-1, num_parts, n), sem)
    return sem, ins


def random_prediction_ids(rng, sem, ins, num_parts):
    """Disjoint predicted instances: perturbed GT ids plus random ones, one label/score per id."""
    n = len(sem)
    k = int(ins.max(initial=-1)) + 1 + int(rng.integers(0, 3))
    pid = np.where(rng.random(n) < 0.8, ins, rng.integers(-1, max(k, 1), n))
    pid = np.where(pid >= k, -1, pid)
    labels = rng.integers(-1, num_parts, k) if rng.random() < 0.3 else np.array(
        [Counter(sem[ins == j].tolist()).most_common(1)[0][0] if (ins == j).any() else 0 for j in range(k)])
    labels = np.clip(labels, -1, num_parts - 1)
    scores = rng.choice([0.2, 0.5, 0.9], k) if rng.random() < 0.5 else rng.random(k)
    return pid, labels, scores


def random_set(rng):
    names, gt, preds, ids = {}, {}, {}, {}
    for c in range(int(rng.integers(1, 3))):
        cat = f"c{c}"
        p = int(rng.integers(1, 4))
        names[cat] = [f"p{i}" for i in range(p)]
        gt[cat], preds[cat], ids[cat] = [], [], []
        for _ in range(int(rng.integers(1, 4))):
            n = int(rng.integers(3, 30))
            sem, ins = random_shape(rng, p, n)
            pid, lab, sc = random_prediction_ids(rng, sem, ins, p)
            gt[cat].append((sem, ins))
            ids[cat].append((pid, lab, sc))
            preds[cat].append(predictions_from_labels(pid, lab, sc))
    return names, gt, preds, ids


# ------------------------------------------------------------------------------------ tests


def test_average_precision_matches_reference_on_random_rankings():
    rng = np.random.default_rng(0)
    for _ in range(400):
        k = int(rng.integers(0, 25))
        flags = (rng.random(k) < rng.random()).tolist()
        n_gt = max(1, sum(flags) + int(rng.integers(0, 5)))
        origin = bool(rng.random() < 0.5)
        assert_close(average_precision_101(np.array(flags, bool), n_gt, origin), ref_ap(flags, n_gt, origin),
                     atol=1e-12)


def test_average_precision_by_hand():
    # ranks T, F, T with 2 GT: precision envelope 1 for recall <= 0.5 (51 thresholds), 2/3 above (50)
    assert average_precision_101(np.array([True, False, True]), 2) == pytest.approx((51 + 50 * 2 / 3) / 101)
    # the origin point gives an all-false ranking 1/101 (PartNet's code); without it 0
    assert average_precision_101(np.array([False]), 1) == pytest.approx(1 / 101)
    assert average_precision_101(np.array([False]), 1, origin_point=False) == 0.0
    assert average_precision_101(np.array([], bool), 3) == 0.0


def test_instance_map_matches_reference_on_random_sets():
    rng = np.random.default_rng(1)
    for case in range(250):
        names, gt, preds, ids = random_set(rng)
        thr = 0.5 if case % 4 else float(rng.choice([0.25, 0.75]))
        origin = bool(case % 3)
        aware, agnostic = ref_map(gt, preds, names, thr, origin)
        res = instance_map(gt, preds, names, iou_threshold=thr, origin_point=origin)
        stats = {c: [shape_instance_stats_from_labels(s, i, *ids[c][k], len(names[c]))
                     for k, (s, i) in enumerate(gt[c])] for c in gt}
        res2 = instance_map_from_stats(stats, names, thr, origin)
        for r in (res, res2):
            for cat in names:
                got = [r.part_aware.per_part[cat][n] for n in names[cat]]
                assert_close(got, [aware[cat][n] for n in names[cat]], atol=1e-6, msg=f"case {case} {cat}")
                assert_close(r.part_agnostic.per_category[cat], agnostic[cat], atol=1e-6, msg=f"case {case}")


def test_overlapping_predictions_and_other_points():
    # instance 1 is labelled -1: its points are removed from predictions before IoU
    sem = np.array([0, 0, 0, -1, -1, -1])
    ins = np.array([0, 0, 0, 1, 1, 1])
    masks, labels, other = gt_instances(sem, ins)
    assert labels.tolist() == [0] and other.tolist() == [False] * 3 + [True] * 3
    # prediction covers instance 0 and the 'other' points: IoU 1 after removal, 0.5 without
    pred = InstancePrediction(np.ones(6, bool), 0, 0.3)
    r = instance_map({"C": [(sem, ins)]}, {"C": [[pred]]}, {"C": ["a"]})
    assert r.part_aware.per_part["C"]["a"] == pytest.approx(1.0)


def test_ties_are_broken_by_shape_then_instance_order():
    # two predictions with equal score hit the same single GT; the first (instance index 0) is the TP
    sem, ins = np.array([0, 0, 0, 0]), np.array([0, 0, 0, 0])
    good = InstancePrediction(np.array([1, 1, 1, 1], bool), 0, 0.5)
    bad = InstancePrediction(np.array([1, 0, 0, 0], bool), 0, 0.5)
    first_good = instance_map({"C": [(sem, ins)]}, {"C": [[good, bad]]}, {"C": ["a"]})
    first_bad = instance_map({"C": [(sem, ins)]}, {"C": [[bad, good]]}, {"C": ["a"]})
    assert first_good.part_aware.overall == pytest.approx(1.0)  # T then F: precision 1 at recall 1
    assert first_bad.part_aware.overall == pytest.approx(0.5 * 100 / 101 + 1 / 101)  # F then T


def test_missing_predictions_score_zero_and_missing_gt_is_undefined():
    sem, ins = np.array([0, 0, 1]), np.array([0, 0, -1])  # part 1 has no instance
    r = instance_map({"C": [(sem, ins)]}, {"C": [[]]}, {"C": ["a", "b"]})
    assert r.part_aware.per_part["C"]["a"] == 0.0
    assert math.isnan(r.part_aware.per_part["C"]["b"])
    assert r.part_agnostic.per_category["C"] == 0.0


def test_bad_predictions_raise():
    sem, ins = np.array([0, 0]), np.array([0, 0])
    with pytest.raises(LabelMismatchError, match="finite"):
        instance_map({"C": [(sem, ins)]}, {"C": [[InstancePrediction(np.ones(2, bool), 0, float("nan"))]]},
                     {"C": ["a"]})
    with pytest.raises(LabelMismatchError, match="labels must lie"):
        instance_map({"C": [(sem, ins)]}, {"C": [[InstancePrediction(np.ones(2, bool), 3, 1.0)]]}, {"C": ["a"]})
    with pytest.raises(LabelMismatchError, match="points"):
        instance_map({"C": [(sem, ins)]}, {"C": [[InstancePrediction(np.ones(3, bool), 0, 1.0)]]}, {"C": ["a"]})
