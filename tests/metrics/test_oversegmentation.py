"""Superpoint purity and boundary scores against brute-force definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import assert_close
from partlift.metrics.oversegmentation import boundary_scores, superpoint_purity


def purity_reference(sp, lab) -> float:
    total = 0
    for k in set(sp.tolist()):
        members = lab[sp == k].tolist()
        total += max(members.count(c) for c in set(members))
    return total / len(sp)


def boundary_reference(points, sp, lab, k):
    part = cut = cross = 0
    for i in range(len(points)):
        d = np.linalg.norm(points - points[i], axis=1)
        d[i] = np.inf
        for j in np.argsort(d, kind="stable")[:k]:
            part += lab[i] != lab[j]
            cross += sp[i] != sp[j]
            cut += (lab[i] != lab[j]) and (sp[i] != sp[j])
    return (cut / part if part else math.nan), (cut / cross if cross else math.nan)


@pytest.mark.parametrize("seed", range(20))
def test_purity_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    sp = rng.integers(0, int(rng.integers(1, 30)), n) * 7  # ids need not be contiguous
    lab = rng.integers(-1, 4, n)
    assert_close(superpoint_purity(sp, lab), purity_reference(sp, lab), atol=1e-12)


def test_purity_bounds():
    lab = np.array([0, 0, 1, 1, -1])
    assert superpoint_purity(np.arange(5), lab) == 1.0  # singletons are pure
    assert superpoint_purity(np.zeros(5), lab) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="4 superpoint ids for 5 labels"):
        superpoint_purity(np.zeros(4), lab)


@pytest.mark.parametrize("seed", range(8))
def test_boundary_scores_match_reference(seed):
    rng = np.random.default_rng(seed)
    pts = rng.random((120, 3))  # continuous coordinates: no distance ties
    lab = (pts[:, 0] > 0.5).astype(np.int64) - (pts[:, 1] > 0.8)
    sp = (pts[:, 0] * 4).astype(np.int64) + 10 * (rng.random(120) < 0.1)
    got = boundary_scores(pts, sp, lab, k=6)
    r, p = boundary_reference(pts, sp, lab, 6)
    assert_close([got.recall, got.precision], [r, p], atol=1e-12)


def test_boundary_scores_of_a_perfect_and_of_a_blind_segmentation():
    rng = np.random.default_rng(0)
    pts = rng.random((200, 3))
    lab = (pts[:, 2] > 0.5).astype(np.int64)
    perfect = boundary_scores(pts, lab + 5, lab)
    assert perfect.recall == 1.0 and perfect.precision == 1.0 and perfect.part_boundary_edges > 0
    blind = boundary_scores(pts, np.zeros(200), lab)
    assert blind.recall == 0.0 and math.isnan(blind.precision)
    assert math.isnan(boundary_scores(pts[:1], [0], [0]).recall)
