"""Ground-truth correspondence: identity on itself, same part, exact for same-style pairs, vs brute force."""

from __future__ import annotations

import numpy as np
import pytest

from partlift.errors import LabelMismatchError
from partlift.shapes import generate, ground_truth_correspondence, list_categories


def brute_force_correspondence(a, b) -> np.ndarray:
    """Slow reference: for each vertex of a, scan every vertex of b with the same key."""
    ka, ca = a.extras["part_instance_key"], a.extras["corr"].astype(np.float64)
    kb, cb = b.extras["part_instance_key"], b.extras["corr"].astype(np.float64)
    out = np.full(len(ka), -1, dtype=np.int64)
    for i in range(len(ka)):
        cand = np.flatnonzero(kb == ka[i])
        if len(cand):
            out[i] = cand[np.argmin(((cb[cand] - ca[i]) ** 2).sum(axis=1))]
    return out


@pytest.mark.parametrize("category", list_categories())
def test_identity_on_itself_and_same_part_across_instances(category):
    a, b = generate(category, 3), generate(category, 4)
    np.testing.assert_array_equal(ground_truth_correspondence(a, a), np.arange(len(a.vertices)))
    m = ground_truth_correspondence(a, b)
    assert m.shape == (len(a.vertices),) and m.dtype == np.int64
    ok = m >= 0
    assert ok.mean() > 0.3, f"{category}: too few vertices have a counterpart"
    assert (m[ok] < len(b.vertices)).all()
    np.testing.assert_array_equal(a.labels[ok], b.labels[m[ok]])  # a vertex and its match lie in the same part
    np.testing.assert_array_equal(a.extras["part_instance_key"][ok], b.extras["part_instance_key"][m[ok]])
    # unmatched vertices are exactly those whose sub-part is absent from b
    absent = ~np.isin(a.extras["part_instance_key"], b.extras["part_instance_key"])
    np.testing.assert_array_equal(~ok, absent)


@pytest.mark.parametrize(
    "category,seeds", [("hammer", (0, 1)), ("Chair", (0, 5)), ("car", (1, 2)), ("StorageFurniture", (3, 8))]
)
def test_matches_brute_force(category, seeds):
    a, b = generate(category, seeds[0]), generate(category, seeds[1])
    fast, slow = ground_truth_correspondence(a, b), brute_force_correspondence(a, b)
    np.testing.assert_array_equal(fast >= 0, slow >= 0)
    ok = fast >= 0
    # ties may pick different vertices: compare the parameter distances instead of the indices
    ca, cb = a.extras["corr"].astype(np.float64), b.extras["corr"].astype(np.float64)
    d_fast = np.linalg.norm(cb[fast[ok]] - ca[ok], axis=1)
    d_slow = np.linalg.norm(cb[slow[ok]] - ca[ok], axis=1)
    np.testing.assert_allclose(d_fast, d_slow, atol=1e-6)


def test_exact_for_two_instances_of_one_style():
    # mountain bikes of the same discrete style share every primitive resolution
    by_style: dict = {}
    for seed in range(40):
        m = generate("mountain_bike", seed)
        key = tuple(sorted((k, v) for k, v in m.extras["style"].items() if isinstance(v, str)))
        by_style.setdefault(key, []).append(m)
    a, b = next(v for v in by_style.values() if len(v) >= 2)[:2]
    assert len(a.vertices) == len(b.vertices)
    m = ground_truth_correspondence(a, b)
    assert (m >= 0).all()
    assert len(np.unique(m)) == len(m), "same-style correspondence should be a bijection"
    np.testing.assert_allclose(b.extras["corr"][m], a.extras["corr"], atol=1e-6)


@pytest.mark.parametrize("category", ["car", "airliner", "Chair", "kettle", "Lamp"])
def test_corresponding_points_are_geometrically_close(category):
    """Matched vertices of two instances lie much closer than random vertex pairs (normalised frame)."""
    rng = np.random.default_rng(0)
    ratios = []
    for s in range(8):
        a, b = generate(category, s), generate(category, s + 10)
        m = ground_truth_correspondence(a, b)
        ok = m >= 0
        if ok.mean() < 0.3:  # different styles (e.g. a pendant and a desk lamp) share few sub-parts
            continue
        matched = np.linalg.norm(a.vertices[ok] - b.vertices[m[ok]], axis=1).mean()
        rand = np.linalg.norm(a.vertices[ok] - b.vertices[rng.integers(len(b.vertices), size=ok.sum())], axis=1).mean()
        ratios.append(matched / rand)
    assert len(ratios) >= 2 and np.median(ratios) < 0.4, ratios


def test_missing_parts_map_to_minus_one():
    chairs = [generate("Chair", s) for s in range(40)]
    with_arms = next(c for c in chairs if c.part_mask("arm").any())
    without = next(c for c in chairs if not c.part_mask("arm").any())
    m = ground_truth_correspondence(with_arms, without)
    assert (m[with_arms.part_mask("arm")] == -1).all()


def test_rejects_other_categories_and_foreign_meshes():
    a, b = generate("hammer", 0), generate("hatchet", 0)
    with pytest.raises(LabelMismatchError, match="category"):
        ground_truth_correspondence(a, b)
    bare = a.copy(extras={})
    with pytest.raises(LabelMismatchError, match="part_instance_key"):
        ground_truth_correspondence(bare, a)
