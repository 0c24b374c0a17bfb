"""SATR baselines on point clouds (PartSTAD's "SATR" and "SATR+SP" rows).

SATR (Abdelreheem et al., ICCV 2023; docs/REFERENCES.md) scores mesh faces per prompt from GLIP boxes;
PartSTAD ran it on meshes made from the point clouds with PartSLIP's fine-tuned GLIP. Here it runs
directly on the points, with the same proposals as every other method, and the mesh's geodesics
replaced by shortest paths on the symmetric k-nearest-neighbour graph of the points:

    for every box b (label c, view v, confidence s_b) with in-box visible points I_b:
        seed  = the point of I_b nearest to the centroid of I_b
        d_p   = graph-geodesic distance from the seed, for p in I_b
        g_p   = Gaussian pdf of d_p with the mean and std of {d_p : p in I_b}   (geodesic weighting)
        v_p   = fraction of p's k neighbours that are in I_b                    (visibility smoothing)
        score[p, c] += s_b * g_p * v_p
    label(p) = argmax_c score[p, c], or -1 where every score is 0

SATR+SP sums the point scores over each superpoint before the argmax. Neither produces instances.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from partlift.partstad.lifting import Incidence, proposal_incidence
from partlift.partstad.proposals.base import Proposals
from partlift.partstad.views import ShapeViews


def knn_graph(points: np.ndarray, k: int = 10) -> tuple[object, np.ndarray]:
    """Symmetric kNN graph (CSR, Euclidean edge lengths) and the (N, k) neighbour indices."""
    p = np.asarray(points, np.float64)
    n = len(p)
    kk = min(k, n - 1)
    dist, idx = cKDTree(p).query(p, k=kk + 1)
    src = np.repeat(np.arange(n), kk)
    dst = idx[:, 1:].reshape(-1)
    w = np.maximum(dist[:, 1:].reshape(-1), 1e-9)  # explicit zeros would vanish from the graph
    g = coo_matrix((w, (src, dst)), shape=(n, n)).tocsr()
    return g.maximum(g.T), idx[:, 1:]


def gaussian_pdf(d: np.ndarray, mean: float, std: float) -> np.ndarray:
    """N(d; mean, std) density; a zero std (one point) gives 1 at the mean."""
    if std <= 1e-12:
        return np.ones_like(d)
    return np.exp(-0.5 * ((d - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def satr_point_scores(
    points: np.ndarray,
    props: Proposals,
    views: ShapeViews,
    num_labels: int,
    k: int = 10,
    incidence: Incidence | None = None,
) -> np.ndarray:
    """(N, C) SATR scores of every point (module docstring); boxes, not masks."""
    p = np.asarray(points, np.float64)
    n = len(p)
    scores = np.zeros((n, num_labels))
    if len(props) == 0 or n < 2:
        return scores
    inc = incidence if incidence is not None else proposal_incidence(props, views, use_masks=False)
    graph, nbrs = knn_graph(p, k)
    members = [inc.members(b) for b in range(len(props))]
    used = [b for b in range(len(props)) if len(members[b])]
    if not used:
        return scores
    seeds = []
    for b in used:
        m = members[b]
        centre = p[m].mean(0)
        seeds.append(int(m[np.argmin(np.linalg.norm(p[m] - centre, axis=1))]))
    dist = dijkstra(graph, directed=False, indices=np.asarray(seeds))
    in_box = np.zeros(n, bool)
    for row, b in enumerate(used):
        m = members[b]
        d = dist[row, m]
        finite = np.isfinite(d)  # the seed itself is always reachable
        d = np.where(finite, d, d[finite].max())  # other graph components: as far as the farthest
        g = gaussian_pdf(d, float(d.mean()), float(d.std()))
        in_box[m] = True
        vis = in_box[nbrs[m]].mean(1)
        in_box[m] = False
        np.add.at(scores[:, props.label[b]], m, float(props.score[b]) * g * vis)
    return scores


def labels_from_scores(scores: np.ndarray) -> np.ndarray:
    """argmax per row, -1 where the row is all zero."""
    lab = scores.argmax(1).astype(np.int64)
    return np.where(scores.max(1) > 0, lab, -1)


def satr_labels(points, props, views, num_labels, superpoints: np.ndarray | None = None, k: int = 10) -> np.ndarray:
    """SATR point labels, or SATR+SP labels when ``superpoints`` (N,) are given."""
    s = satr_point_scores(points, props, views, num_labels, k)
    if superpoints is None:
        return labels_from_scores(s)
    sp = np.asarray(superpoints, np.int64)
    acc = np.zeros((int(sp.max()) + 1, num_labels))
    np.add.at(acc, sp, s)
    return labels_from_scores(acc)[sp]
