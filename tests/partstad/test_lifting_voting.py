"""Sparse voting scores (Eq. 1 / Eq. 5), decisions and instance merging against dense references."""

from __future__ import annotations

import numpy as np
import torch

from helpers import assert_close
from partlift.partstad.config import VotingConfig
from partlift.partstad.lifting import (
    build_lift_graph,
    not_whole_object,
    point_votes,
    proposal_incidence,
    superpoint_ratios,
    superpoint_scores,
)
from partlift.partstad.proposals.base import Proposals, mask_box
from partlift.partstad.views import ShapeViews, visibility_from_index
from partlift.partstad.voting import (
    _ratio_distances,
    decide_labels,
    merge_instances,
    ratio_distance,
    small_part_mask,
    superpoint_adjacency,
)


def random_setup(seed=0, n=60, v=3, s=16, p=12, c=3, k=7):
    """Random views (random pixel ownership), random masks, random superpoints."""
    rng = np.random.default_rng(seed)
    index = np.full((v, s, s), -1, np.int64)
    screen = rng.random((v, n, 2)).astype(np.float32) * s
    for vi in range(v):
        own = rng.random(n) < 0.6
        for i in np.flatnonzero(own):
            c_, r_ = int(screen[vi, i, 0]), int(screen[vi, i, 1])
            index[vi, r_, c_] = i
    vis = visibility_from_index(index, n)
    views = ShapeViews(np.zeros((v, s, s, 3), np.uint8), index, screen, vis, np.eye(3)[:v].astype(np.float32), [])
    masks = rng.random((p, s, s)) < 0.3
    masks[:, :2, :2] = True  # non-empty
    props = Proposals(
        rng.integers(0, v, p), rng.integers(0, c, p), rng.random(p), np.stack([mask_box(m) for m in masks]),
        masks, rng.random((p, 5)),
    )
    sp = rng.integers(0, k, n)
    sp[:k] = np.arange(k)
    return views, props, sp


def dense_scores(views, props, sp, c, w, min_visible, use_masks=True, prop_ok=None):
    """Eq. 5 written out: loops over superpoints, labels, views and points."""
    k = sp.max() + 1
    s = np.zeros((k, c))
    den = np.zeros(k)
    for kk in range(k):
        for v in range(views.num_views):
            pts = [p for p in np.flatnonzero(sp == kk) if views.visible[v, p]]
            if len(pts) < max(1, min_visible):
                continue
            den[kk] += len(pts)
            for p in pts:
                u, y = views.screen[v, p]
                for cc in range(c):
                    best = 0.0
                    for b in range(len(props)):
                        if props.view[b] != v or props.label[b] != cc or (prop_ok is not None and not prop_ok[b]):
                            continue
                        if use_masks:
                            inside = props.masks[b][int(y), int(u)]
                        else:
                            x1, y1, x2, y2 = props.box[b]
                            inside = x1 < u < x2 and y1 < y < y2
                        if inside:
                            best = max(best, w[b])
                    s[kk, cc] += best
    return s / np.maximum(den, 1)[:, None], den


def test_weighted_scores_match_dense_reference():
    for seed, min_vis, use_masks in [(0, 1, True), (1, 2, True), (2, 1, False)]:
        views, props, sp = random_setup(seed)
        w = np.random.default_rng(seed).random(len(props)) * 5
        inc = proposal_incidence(props, views, use_masks=use_masks)
        g = build_lift_graph(inc, props, views, sp, 3, min_visible=min_vis)
        got = superpoint_scores(g, torch.tensor(w)).numpy()
        ref, den = dense_scores(views, props, sp, 3, w, min_vis, use_masks)
        assert_close(got, ref, atol=1e-12, msg=f"seed {seed}")
        assert_close(g.denom, den, atol=0)
        assert (g.valid == ((ref > 0).any(1) & (den > 0))).all()
        # Eq. 1 = Eq. 5 with unit weights
        assert_close(superpoint_scores(g).numpy(), dense_scores(views, props, sp, 3, np.ones(len(props)), min_vis,
                                                                use_masks)[0], atol=1e-12)


def test_proposal_filter_and_gradient():
    views, props, sp = random_setup(3)
    ok = np.arange(len(props)) % 3 != 0
    inc = proposal_incidence(props, views)
    g = build_lift_graph(inc, props, views, sp, 3, proposal_mask=ok)
    w = torch.tensor(np.random.default_rng(0).random(len(props)) + 0.5, requires_grad=True)
    ref, _ = dense_scores(views, props, sp, 3, w.detach().numpy(), 1, prop_ok=ok)
    assert_close(superpoint_scores(g, w), ref, atol=1e-12)
    assert torch.autograd.gradcheck(lambda x: superpoint_scores(g, x), (w,), eps=1e-6, atol=1e-6)
    (superpoint_scores(g, w).sum()).backward()
    assert (w.grad[torch.from_numpy(~ok)] == 0).all(), "filtered proposals get no gradient"


def test_box_incidence_is_strict_and_mask_lookup_floors():
    s = 8
    index = np.full((1, s, s), -1, np.int64)
    screen = np.array([[[2.0, 4.0], [2.5, 2.5], [5.99, 5.99], [6.0, 3.0]]], np.float32)
    for i, (u, y) in enumerate(screen[0]):
        index[0, int(y), int(u)] = i
    views = ShapeViews(np.zeros((1, s, s, 3), np.uint8), index, screen, visibility_from_index(index, 4),
                       np.zeros((1, 3), np.float32), [])
    mask = np.zeros((1, s, s), bool)
    mask[0, 2:6, 2:6] = True
    props = Proposals([0], [0], [1.0], [[2.0, 2.0, 6.0, 6.0]], mask, np.zeros((1, 1)))
    assert proposal_incidence(props, views, use_masks=False).points.tolist() == [1, 2]
    assert proposal_incidence(props, views, use_masks=True).points.tolist() == [0, 1, 2]


def test_whole_object_filter():
    views, props, _ = random_setup(4)
    props.box[0] = [-1, -1, 100, 100]
    keep = not_whole_object(props, views, 0.98)
    assert not keep[0] and keep[1:].all() == all(
        ((views.screen[props.view[b], :, 0] > props.box[b, 0]) & (views.screen[props.view[b], :, 0] < props.box[b, 2])
         & (views.screen[props.view[b], :, 1] > props.box[b, 1]) & (views.screen[props.view[b], :, 1] < props.box[b, 3])
         ).mean() < 0.98 for b in range(1, len(props)))


def test_ratios_match_reference():
    views, props, sp = random_setup(5)
    inc = proposal_incidence(props, views)
    r = superpoint_ratios(inc, props, views, sp, sp.max() + 1)
    for k in range(sp.max() + 1):
        for b in range(len(props)):
            v = props.view[b]
            pts = [p for p in np.flatnonzero(sp == k) if views.visible[v, p]]
            if not pts:
                assert r[k, b] == -1
                continue
            inside = [props.masks[b][int(views.screen[v, p, 1]), int(views.screen[v, p, 0])] for p in pts]
            assert_close(r[k, b], np.mean(inside), atol=1e-12)


def _decide_reference(scores, valid, thr, names, small_list):
    out = []
    for k in range(len(scores)):
        if not valid[k] or scores[k].max() < thr:
            out.append(-1)
            continue
        pick = None
        for c in reversed(range(scores.shape[1])):
            if names[c] in small_list and scores[k, c] >= thr:
                pick = c
                break
        out.append(int(np.argmax(scores[k])) if pick is None else pick)
    return out


def test_decide_labels_small_part_priority():
    names = ("door", "handle", "drawer", "knob")
    small = small_part_mask(names, VotingConfig().small_parts)
    assert small.tolist() == [False, True, False, True]
    rng = np.random.default_rng(0)
    scores = rng.random((200, 4))
    valid = rng.random(200) < 0.9
    got = decide_labels(scores, valid, 0.5, small)
    assert got.tolist() == _decide_reference(scores, valid, 0.5, names, VotingConfig().small_parts)
    assert decide_labels(np.array([[0.9, 0.6, 0.95, 0.4]]), [True], 0.5, small).tolist() == [1]
    assert decide_labels(np.zeros((0, 4)), np.zeros(0, bool), 0.5, small).shape == (0,)


def test_ratio_distance_vectorised_matches_scalar():
    rng = np.random.default_rng(1)
    r = np.where(rng.random((9, 6)) < 0.3, -1.0, rng.random((9, 6)))
    r[0] = -1
    d = _ratio_distances(r)
    for i in range(9):
        for j in range(9):
            assert_close(d[i, j], ratio_distance(r[i], r[j]), atol=1e-12)
    assert ratio_distance(np.array([0.0, 0.0]), np.array([0.0, 0.0])) == 1.0


def test_adjacency_reference():
    rng = np.random.default_rng(2)
    p = rng.random((80, 3))
    sp = rng.integers(0, 6, 80)
    sp[:6] = np.arange(6)
    adj = superpoint_adjacency(p, sp, 6, 0.02)
    for i in range(6):
        for j in range(6):
            a, b = p[sp == i], p[sp == j]
            gap = max(max(a[:, d].min() - b[:, d].max(), b[:, d].min() - a[:, d].max()) for d in range(3))
            assert adj[i, j] == (gap < 0.02)


def test_merge_instances_two_separate_blobs_and_box_filter():
    # Two far-apart groups of 2 superpoints each, one label; each covered by its own box in view 0.
    s = 32
    pts = np.array([[0, 0, 0], [0.01, 0, 0], [0.02, 0, 0], [0.03, 0, 0],
                    [1, 0, 0], [1.01, 0, 0], [1.02, 0, 0], [1.03, 0, 0]], float)
    sp = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    screen = np.array([[[2, 2], [3, 2], [4, 2], [5, 2], [20, 2], [21, 2], [22, 2], [23, 2]]], np.float32) + 0.5
    index = np.full((1, s, s), -1, np.int64)
    for i, (u, y) in enumerate(screen[0]):
        index[0, int(y), int(u)] = i
    views = ShapeViews(np.zeros((1, s, s, 3), np.uint8), index, screen, visibility_from_index(index, 8),
                       np.zeros((1, 3), np.float32), [])
    masks = np.zeros((2, s, s), bool)
    masks[0, 2:3, 2:6] = True
    masks[1, 2:3, 20:24] = True
    props = Proposals([0, 0], [0, 0], [0.9, 0.8], [mask_box(m) for m in masks], masks, np.zeros((2, 1)))
    inc = proposal_incidence(props, views, use_masks=False)
    r = superpoint_ratios(inc, props, views, sp, 4)
    ins = merge_instances(pts, sp, np.zeros(4, np.int64), np.array([0.9, 0.7, 0.6, 0.6]), r, props, views,
                          VotingConfig())
    assert len(ins) == 2 and ins.labels.tolist() == [0, 0]
    assert ins.ids.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert_close(ins.scores, [0.8, 0.6], atol=1e-12)
    # Without a matching box the groups are dropped (PartSLIP's IoU > 0.5 filter).
    far = props.select([0])
    far.box[0] = [10, 10, 12, 12]
    inc = proposal_incidence(far, views, use_masks=False)
    ins = merge_instances(pts, sp, np.zeros(4, np.int64), np.ones(4), superpoint_ratios(inc, far, views, sp, 4), far,
                          views, VotingConfig())
    assert len(ins) == 0 and (ins.ids == -1).all()


def test_a_view_with_no_visible_points_contributes_nothing():
    views, props, sp = random_setup(6)
    views.point_index[1] = -1
    views.visible[1] = False
    props.view[:4] = 1
    w = np.random.default_rng(6).random(len(props)) + 0.1
    inc = proposal_incidence(props, views)
    assert all(len(inc.members(b)) == 0 for b in range(4))
    g = build_lift_graph(inc, props, views, sp, 3)
    ref, den = dense_scores(views, props, sp, 3, w, 1)
    assert_close(superpoint_scores(g, torch.tensor(w)), ref, atol=1e-12)
    # the oracle proposer finds nothing in an empty view
    from fixtures import toy_table

    from partlift.partstad.proposals.oracle import OracleProposer

    cloud = toy_table(300)
    empty = ShapeViews(np.full((1, 16, 16, 3), 255, np.uint8), np.full((1, 16, 16), -1, np.int64),
                       np.zeros((1, 300, 2), np.float32), np.zeros((1, 300), bool), np.zeros((1, 3), np.float32), [])
    assert len(OracleProposer(2).propose(empty, cloud)) == 0


def test_weighted_ratio_distance():
    rng = np.random.default_rng(3)
    r = np.where(rng.random((6, 5)) < 0.2, -1.0, rng.random((6, 5)))
    assert_close(_ratio_distances(r, np.ones(5)), _ratio_distances(r), atol=1e-12)
    w = np.array([1.0, 0.0, 2.0, 1.0, 0.0])
    # a zero weight removes that proposal; an integer weight repeats its column
    ref = _ratio_distances(r[:, [0, 2, 2, 3]])
    assert_close(_ratio_distances(r, w), ref, atol=1e-12)


def test_point_votes_match_dense_reference():
    views, props, sp = random_setup(seed=3, n=50, p=15, c=4)
    inc = proposal_incidence(props, views, use_masks=True)
    got = point_votes(inc, props, views, 4)
    ref = np.zeros((50, 4))
    for p in range(50):
        seen = [v for v in range(views.num_views) if views.visible[v, p]]
        for v in seen:
            u, y = views.screen[v, p]
            for c in range(4):
                best = max([props.score[b] for b in range(len(props)) if props.view[b] == v and props.label[b] == c
                            and props.masks[b][int(y), int(u)]], default=0.0)
                ref[p, c] += best
        ref[p] /= max(len(seen), 1)
    assert_close(got, ref, atol=1e-6)
    assert (got[~views.visible.any(0)] == 0).all()
