"""Point-cloud normals: PCA over a hybrid neighbourhood, then a consistent orientation.

PartSLIP estimates normals with Open3D's hybrid search (at most 30 neighbours within radius 0.1)
and leaves their sign arbitrary, so the sign noise leaks into the superpoint features. Here the
normals are oriented by propagation along a minimum spanning tree of the kNN graph (Hoppe et al.
1992): edge cost 1 - |n_i . n_j|, each connected component rooted at its point farthest from the
cloud's centroid, whose normal is made to point away from the centroid (docs/PARTSTAD.md).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components, minimum_spanning_tree
from scipy.spatial import cKDTree

DEFAULT_NORMAL = np.array([0.0, 1.0, 0.0], dtype=np.float32)


def pca_normals(points: np.ndarray, radius: float = 0.1, max_nn: int = 30, tree: cKDTree | None = None) -> np.ndarray:
    """Unoriented unit normals by PCA of each point's neighbourhood.

    The neighbourhood is the point's ``max_nn`` nearest neighbours (itself included) that lie within
    ``radius`` (Open3D ``KDTreeSearchParamHybrid``); the normal is the eigenvector of the smallest
    eigenvalue of their covariance. Points with fewer than 3 neighbours get ``DEFAULT_NORMAL`` (+Y).

    Args:
        points: (N, 3) float coordinates.
    Returns:
        (N, 3) float32 unit normals (sign arbitrary).
    """
    p = np.asarray(points, dtype=np.float64)
    n = len(p)
    if n == 0:
        return np.zeros((0, 3), np.float32)
    tree = tree if tree is not None else cKDTree(p)
    k = min(max_nn, n)
    dist, idx = tree.query(p, k=k, distance_upper_bound=radius)
    dist, idx = dist.reshape(n, k), idx.reshape(n, k)
    valid = np.isfinite(dist)
    idx = np.where(valid, idx, 0)
    w = valid.astype(np.float64)
    cnt = w.sum(1)
    nb = p[idx]  # (N, k, 3)
    mean = (nb * w[..., None]).sum(1) / cnt[:, None]
    d = (nb - mean[:, None]) * w[..., None]
    cov = np.einsum("nki,nkj->nij", d, d) / cnt[:, None, None]
    _, vecs = np.linalg.eigh(cov)
    normals = vecs[:, :, 0]
    normals[cnt < 3] = DEFAULT_NORMAL
    return normals.astype(np.float32)


@njit(cache=True)
def _propagate_flips(order, pred, roots_flip, dots_to_parent):
    flip = np.zeros(len(pred), dtype=np.bool_)
    for t in range(len(order)):
        i = order[t]
        j = pred[i]
        if j < 0:
            flip[i] = roots_flip[i]
        else:
            # Child agrees with the (already oriented) parent after its own flip.
            flip[i] = flip[j] ^ (dots_to_parent[i] < 0)
    return flip


def orient_normals(points: np.ndarray, normals: np.ndarray, k: int = 10, tree: cKDTree | None = None) -> np.ndarray:
    """Consistently oriented copy of ``normals`` (MST propagation, roots pointing outwards).

    Args:
        points: (N, 3) float coordinates.
        normals: (N, 3) unit normals with arbitrary signs.
        k: neighbours of the propagation graph.
    Returns:
        (N, 3) float32 normals, each equal to +-the input normal.
    """
    p = np.asarray(points, dtype=np.float64)
    nrm = np.asarray(normals, dtype=np.float64)
    n = len(p)
    if n <= 1:
        out = nrm.copy()
        if n == 1 and np.dot(out[0], p[0] - p.mean(0)) < 0:
            out[0] = -out[0]
        return out.astype(np.float32)
    tree = tree if tree is not None else cKDTree(p)
    kk = min(k + 1, n)
    _, idx = tree.query(p, k=kk)
    src = np.repeat(np.arange(n), kk - 1)
    dst = idx[:, 1:].reshape(-1)
    # Explicit zeros vanish from scipy graphs, hence the small floor.
    cost = 1.0 - np.abs(np.einsum("ij,ij->i", nrm[src], nrm[dst])) + 1e-6
    graph = coo_matrix((cost, (src, dst)), shape=(n, n)).tocsr()
    graph = graph.maximum(graph.T)
    mst = minimum_spanning_tree(graph)
    mst = mst + mst.T
    ncomp, comp = connected_components(mst, directed=False)
    centroid = p.mean(0)
    far = np.linalg.norm(p - centroid, axis=1)
    pred = np.full(n, -1, dtype=np.int64)
    order_parts = []
    roots_flip = np.zeros(n, dtype=np.bool_)
    for c in range(ncomp):
        members = np.flatnonzero(comp == c)
        root = members[np.argmax(far[members])]
        roots_flip[root] = np.dot(nrm[root], p[root] - centroid) < 0
        order, pr = breadth_first_order(mst, root, directed=False, return_predecessors=True)
        pred[order[1:]] = pr[order[1:]]
        order_parts.append(order)
    order = np.concatenate(order_parts).astype(np.int64)
    par = np.where(pred >= 0, pred, 0)
    dots = np.einsum("ij,ij->i", nrm, nrm[par])
    flip = _propagate_flips(order, pred, roots_flip, dots)
    out = np.where(flip[:, None], -nrm, nrm)
    return out.astype(np.float32)


def estimate_normals(points: np.ndarray, radius: float = 0.1, max_nn: int = 30, k_orient: int = 10) -> np.ndarray:
    """PCA normals (:func:`pca_normals`) oriented by :func:`orient_normals`. (N, 3) float32."""
    tree = cKDTree(np.asarray(points, dtype=np.float64))
    return orient_normals(points, pca_normals(points, radius, max_nn, tree=tree), k=k_orient, tree=tree)
