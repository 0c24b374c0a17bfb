"""Normals and cut-pursuit superpoints against slow references and geometric facts."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import toy_table

from helpers import assert_close
from partlift.partstad.config import SuperpointConfig
from partlift.partstad.normals import estimate_normals, orient_normals, pca_normals
from partlift.partstad.superpoints import (
    compute_superpoints,
    edge_weights,
    graph_edges,
    merge_small_components,
    relabel_by_first_occurrence,
    superpoint_members,
)


def _sphere(n, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal((n, 3))
    return p / np.linalg.norm(p, axis=1, keepdims=True)


def _reference_normals(p, radius, max_nn):
    out = np.zeros_like(p)
    for i in range(len(p)):
        d = np.linalg.norm(p - p[i], axis=1)
        order = np.argsort(d, kind="stable")[:max_nn]
        nb = p[order[d[order] <= radius]]
        if len(nb) < 3:
            out[i] = [0, 1, 0]
            continue
        cov = np.cov((nb - nb.mean(0)).T, bias=True)
        w, v = np.linalg.eigh(cov)
        out[i] = v[:, 0]
    return out


def test_pca_normals_match_reference_up_to_sign():
    p = _sphere(300) * 0.8
    got = pca_normals(p, radius=0.3, max_nn=30)
    ref = _reference_normals(p, 0.3, 30)
    assert_close(np.abs(np.einsum("ij,ij->i", got, ref)), np.ones(len(p)), atol=1e-4)


def test_isolated_points_get_default_normal():
    p = np.array([[0, 0, 0], [5, 0, 0], [0, 5, 0]], float)
    assert_close(pca_normals(p, radius=0.1, max_nn=30), np.tile([0, 1, 0], (3, 1)), atol=0)


def test_orientation_is_outward_on_convex_shapes_and_only_flips():
    p = _sphere(500, seed=1)
    raw = pca_normals(p, radius=0.4, max_nn=30)
    rng = np.random.default_rng(0)
    raw = raw * rng.choice([-1.0, 1.0], size=(len(p), 1))
    out = orient_normals(p, raw)
    assert (np.einsum("ij,ij->i", out, p) > 0).all()
    assert_close(np.abs(out), np.abs(raw), atol=0)
    table = toy_table(800)
    n = estimate_normals(table.points, radius=0.1, max_nn=30)
    q = table.points
    lo, hi = q[q[:, 1] > q[:, 1].max() - 1e-6].min(0), q[q[:, 1] > q[:, 1].max() - 1e-6].max(0)
    # interior of the top face, away from its edges (PCA normals blur within the 0.1 radius)
    inner = (np.abs(q[:, [0, 2]] - (lo + hi)[[0, 2]] / 2) < (hi - lo)[[0, 2]] / 2 - 0.12).all(1)
    top = (q[:, 1] > hi[1] - 1e-6) & inner
    assert top.sum() > 50
    assert (n[top, 1] > 0.9).all(), "the table's top face must point up"


def test_edge_weights_formula():
    rng = np.random.default_rng(0)
    d, f = rng.random(20), rng.random(20)
    ref = [(1.0 / (1.0 + d[i] / d.mean() + f[i] / f.mean())) ** 2 for i in range(20)]
    assert_close(edge_weights(d, f, 1.0), ref, atol=1e-12)


def test_graph_edges_are_the_k_nearest_others():
    p = np.random.default_rng(2).random((50, 3))
    src, dst, dist = graph_edges(p, 10)
    for i in range(50):
        d = np.linalg.norm(p - p[i], axis=1)
        d[i] = np.inf
        want = set(np.argsort(d)[:10].tolist())
        assert set(dst[src == i].tolist()) == want
    assert_close(dist, np.linalg.norm(p[src] - p[dst], axis=1), atol=1e-12)


def test_merge_small_components_matches_reference():
    rng = np.random.default_rng(3)
    p = rng.random((200, 3))
    comp = rng.choice([0, 1, 2, 3, 4, 5], size=200, p=[0.4, 0.4, 0.05, 0.05, 0.05, 0.05])
    got = merge_small_components(p, comp, 10)
    sizes = np.bincount(comp)
    ref = comp.copy()
    bigpts = np.flatnonzero(sizes[comp] > 10)
    for c in np.flatnonzero((sizes > 0) & (sizes <= 10)):
        first = np.flatnonzero(comp == c)[0]
        nearest = bigpts[np.argmin(np.linalg.norm(p[bigpts] - p[first], axis=1))]
        ref[comp == c] = comp[nearest]
    assert (got == ref).all()


def test_relabel_and_members():
    lab = np.array([5, 5, 2, 7, 2, 5])
    assert relabel_by_first_occurrence(lab).tolist() == [0, 0, 1, 2, 1, 0]
    ptr, order = superpoint_members(relabel_by_first_occurrence(lab))
    assert ptr.tolist() == [0, 3, 5, 6]
    assert order.tolist() == [0, 1, 5, 2, 4, 3]


def _two_planes(n=600, seed=0):
    rng = np.random.default_rng(seed)
    a = np.c_[rng.random(n) - 0.5, np.zeros(n), rng.random(n) - 0.5]
    b = np.c_[rng.random(n) - 0.5, rng.random(n) * 0.8 + 0.05, np.full(n, -0.5)]
    return np.r_[a, b], np.r_[np.zeros(n, int), np.ones(n, int)]


def test_superpoints_respect_normal_discontinuities_and_are_deterministic():
    p, which = _two_planes()
    sp = compute_superpoints(p)
    assert (sp == compute_superpoints(p)).all()
    sizes = np.bincount(sp)
    assert sizes.min() > 10, "components of <= 10 points must be merged"
    purity = sum(np.bincount(which[sp == k]).max() for k in range(sp.max() + 1)) / len(p)
    assert purity > 0.97
    assert 2 <= sp.max() + 1 <= 40


def test_colour_edges_split_a_plane():
    rng = np.random.default_rng(5)
    p = np.c_[rng.random(1000) - 0.5, np.zeros(1000), rng.random(1000) - 0.5]
    half = p[:, 0] > 0
    col = np.where(half[:, None], [[1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0]])
    sp = compute_superpoints(p, col)
    purity = sum(np.bincount(half[sp == k].astype(int)).max() for k in range(sp.max() + 1)) / len(p)
    assert purity > 0.97 and sp.max() >= 1
    # Without colour there is nothing to split on: one superpoint.
    assert compute_superpoints(p, None).max() == 0


def test_superpoints_of_tiny_clouds():
    assert compute_superpoints(np.zeros((0, 3))).shape == (0,)
    assert compute_superpoints(np.random.default_rng(0).random((8, 3))).tolist() == [0] * 8
    cfg = SuperpointConfig(reg=10.0)
    p, _ = _two_planes(200)
    assert compute_superpoints(p, config=cfg).max() <= 2


# ------------------------------------------------ cut pursuit minimises libcp's energy at the given reg

def _split_threshold(x, src, dst, reg):
    """Smallest uniform edge weight at which l0_cut_pursuit merges everything (bisection)."""
    from partlift.partstad.superpoints import l0_cut_pursuit

    lo, hi = 1e-6, 1e6
    for _ in range(80):
        mid = np.sqrt(lo * hi)
        k = len(np.unique(l0_cut_pursuit(x, np.array(src), np.array(dst), np.full(len(src), mid), reg)))
        lo, hi = (mid, hi) if k > 1 else (lo, mid)
    return hi


@pytest.mark.parametrize("reg", [0.05, 0.5, 2.0])
def test_cut_pursuit_splits_where_libcp_energy_says(reg):
    """E = 1/2 sum |x - y|^2 + reg sum_cut w: two nodes a apart split iff reg w < |a|^2 / 4; a chain
    (0, 0, a) splits off its end iff reg w < |a|^2 / 3 (merged fidelity 1/2 (2 (a/3)^2 + (2a/3)^2))."""
    two = np.zeros((2, 6), np.float32)
    two[1] = 0.5  # |a|^2 = 1.5
    assert _split_threshold(two, [0], [1], reg) == pytest.approx(1.5 / 4 / reg, rel=1e-5)
    chain = np.zeros((3, 6), np.float32)
    chain[2, 3] = 1.0
    assert _split_threshold(chain, [0, 1], [1, 2], reg) == pytest.approx(1 / 3 / reg, rel=1e-5)


def test_reg_sets_the_granularity():
    """PartSLIP: larger reg, fewer superpoints (this failed while reg was passed to a package that ignores it)."""
    from partlift.partstad.config import SuperpointConfig
    from partlift.partstad.superpoints import compute_superpoints

    rng = np.random.default_rng(0)
    pts = rng.normal(size=(3000, 3))
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    pts *= 1 + 0.05 * np.sin(6 * pts[:, :1]) * np.cos(5 * pts[:, 1:2])
    col = (0.5 + 0.4 * np.sign(pts[:, :1]) * np.ones((1, 3))).astype(np.float32)
    counts = [int(compute_superpoints(pts, col, SuperpointConfig(reg=r)).max()) + 1 for r in (0.05, 0.2, 1.0)]
    assert counts[0] > counts[1] > counts[2], counts


def test_smooth_labels_takes_the_neighbourhood_majority():
    from partlift.partstad.superpoints import smooth_labels

    pts = np.stack([np.arange(9.0), np.zeros(9), np.zeros(9)], 1)
    lab = np.array([0, 0, 0, 1, 0, 0, 2, 2, -1])
    assert (smooth_labels(pts, lab, 2) == [0, 0, 0, 0, 0, 0, 2, 2, 2]).all()  # the lone 1 and the -1 follow
    assert (smooth_labels(pts, lab, 0) == lab).all()
    assert (smooth_labels(pts, np.full(9, -1), 3) == -1).all()


def test_split_superpoints_cuts_along_the_voted_parts():
    from partlift.partstad.superpoints import split_superpoints

    rng = np.random.default_rng(0)
    a = rng.random((200, 3)) * [1, 0.1, 0.1]  # one superpoint over x in [0, 1] ...
    b = rng.random((100, 3)) * [0.5, 0.1, 0.1] + [0, 1, 0]  # ... and a second, pure one
    pts = np.concatenate([a, b])
    sp = np.r_[np.zeros(200, int), np.ones(100, int)]
    votes = np.r_[np.where(a[:, 0] < 0.7, 0, 1), np.full(100, 2)]  # the proposals cut the first at x = 0.7
    votes[rng.choice(200, 10, replace=False)] = -1  # unseen points follow their neighbours
    out = split_superpoints(pts, sp, votes, share=0.05, min_points=10, k=4)
    assert len(np.unique(out)) == 3
    first = out[:200]
    left, right = first[a[:, 0] < 0.65], first[a[:, 0] > 0.75]
    assert len(np.unique(left)) == 1 and len(np.unique(right)) == 1 and left[0] != right[0]
    assert len(np.unique(out[200:])) == 1
    # a minority under the share stays inside its superpoint
    few = np.r_[np.where(a[:, 0] < 0.97, 0, 1), np.full(100, 2)]
    assert len(np.unique(split_superpoints(pts, sp, few, share=0.1, min_points=10, k=0))) == 2
    assert (split_superpoints(pts, sp, np.full(300, -1)) == sp).all()  # no votes: unchanged
