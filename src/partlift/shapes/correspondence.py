"""Ground-truth dense correspondence between generated instances of one category.

Every generated vertex carries ``extras["part_instance_key"]`` (which template sub-part it belongs
to; stable across instances of a category) and ``extras["corr"]`` (its parametric coordinate in
[0, 1]^3 inside that sub-part). The corresponding vertex in another instance is the vertex with the
nearest ``corr`` among the vertices with the same key; sub-parts absent from the other instance
map to -1. For two instances of the same style (identical primitive resolutions) the map is
exact: every vertex finds the vertex with the identical parameter.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from partlift.errors import LabelMismatchError
from partlift.geometry.partmesh import PartMesh


def _keys_corr(mesh: PartMesh, who: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        keys = np.asarray(mesh.extras["part_instance_key"], dtype=np.int64)
        corr = np.asarray(mesh.extras["corr"], dtype=np.float64)
    except KeyError as exc:
        raise LabelMismatchError(
            f"{who} ({mesh.name!r}) has no {exc.args[0]!r} in extras; ground-truth correspondence needs "
            "meshes made by partlift.shapes.generate"
        ) from None
    if keys.shape != (len(mesh.vertices),) or corr.shape != (len(mesh.vertices), 3):
        raise LabelMismatchError(
            f"{who} ({mesh.name!r}): part_instance_key {keys.shape} / corr {corr.shape} do not match "
            f"{len(mesh.vertices)} vertices"
        )
    return keys, corr


def ground_truth_correspondence(mesh_a: PartMesh, mesh_b: PartMesh) -> np.ndarray:
    """(Va,) int64 index into ``mesh_b.vertices`` of each vertex of ``mesh_a``; -1 where the
    vertex's sub-part does not exist in ``mesh_b``.

    Raises LabelMismatchError if the meshes are of different categories or lack the extras.
    """
    if mesh_a.category != mesh_b.category:
        raise LabelMismatchError(
            f"correspondence needs two instances of one category, got {mesh_a.category!r} and {mesh_b.category!r}"
        )
    ka, ca = _keys_corr(mesh_a, "mesh_a")
    kb, cb = _keys_corr(mesh_b, "mesh_b")
    out = np.full(len(ka), -1, dtype=np.int64)
    order_b = np.argsort(kb, kind="stable")
    ukb, start_b = np.unique(kb[order_b], return_index=True)
    end_b = np.append(start_b[1:], len(kb))
    for key in np.unique(ka):
        j = np.searchsorted(ukb, key)
        if j >= len(ukb) or ukb[j] != key:
            continue
        idx_b = order_b[start_b[j] : end_b[j]]
        idx_a = np.flatnonzero(ka == key)
        _, nn = cKDTree(cb[idx_b]).query(ca[idx_a])
        out[idx_a] = idx_b[nn]
    return out
