"""SATR baselines against a slow reference (Floyd-Warshall geodesics, explicit loops)."""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import shortest_path
from test_lifting_voting import random_setup

from helpers import assert_close
from partlift.partstad.satr import gaussian_pdf, knn_graph, labels_from_scores, satr_labels, satr_point_scores


def _reference(points, props, views, c, k):
    n = len(points)
    graph, _ = knn_graph(points, k)
    geo = shortest_path(graph.toarray(), method="FW", directed=False)
    nbrs = []
    for i in range(n):
        d = np.linalg.norm(points - points[i], axis=1)
        d[i] = np.inf
        nbrs.append(np.argsort(d, kind="stable")[:k])
    scores = np.zeros((n, c))
    for b in range(len(props)):
        v = props.view[b]
        x1, y1, x2, y2 = props.box[b]
        m = [p for p in range(n) if views.visible[v, p]
             and x1 < views.screen[v, p, 0] < x2 and y1 < views.screen[v, p, 1] < y2]
        if not m:
            continue
        centre = points[m].mean(0)
        seed = m[int(np.argmin([np.linalg.norm(points[p] - centre) for p in m]))]
        d = np.array([geo[seed, p] for p in m])
        d = np.where(np.isfinite(d), d, d[np.isfinite(d)].max())
        mu, sd = d.mean(), d.std()
        for p, dp in zip(m, d, strict=True):
            g = 1.0 if sd <= 1e-12 else np.exp(-0.5 * ((dp - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
            vis = np.mean([q in m for q in nbrs[p]])
            scores[p, props.label[b]] += props.score[b] * g * vis
    return scores


def test_satr_scores_match_reference():
    views, props, sp = random_setup(7, n=50)
    pts = np.random.default_rng(7).random((50, 3))
    got = satr_point_scores(pts, props, views, 3, k=5)
    assert_close(got, _reference(pts, props, views, 3, 5), atol=1e-9)


def test_satr_labels_and_superpoint_variant():
    views, props, sp = random_setup(8, n=50)
    pts = np.random.default_rng(8).random((50, 3))
    s = satr_point_scores(pts, props, views, 3, k=5)
    lab = satr_labels(pts, props, views, 3, k=5)
    assert (lab == labels_from_scores(s)).all()
    assert ((lab == -1) == (s.max(1) == 0)).all()
    lab_sp = satr_labels(pts, props, views, 3, superpoints=sp, k=5)
    for kk in range(sp.max() + 1):
        tot = s[sp == kk].sum(0)
        want = -1 if tot.max() == 0 else int(np.argmax(tot))
        assert (lab_sp[sp == kk] == want).all()


def test_gaussian_pdf():
    assert_close(gaussian_pdf(np.array([1.0]), 1.0, 2.0), [1 / (2 * np.sqrt(2 * np.pi))], atol=1e-12)
    assert_close(gaussian_pdf(np.array([0.0, 3.0]), 0.0, 0.0), [1.0, 1.0], atol=0)
