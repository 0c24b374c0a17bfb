"""Seeded area-weighted surface sampling and label transfer between meshes and points."""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
from scipy.spatial import cKDTree

from partlift.errors import InvalidGeometryError
from partlift.geometry.partmesh import PartMesh
from partlift.geometry.pointcloud import PartPointCloud


def sample_surface_barycentric(
    mesh: PartMesh, n: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` surface samples uniformly by area.

    Returns:
        face_index: (n,) int64 face of each sample.
        bary: (n, 3) float64 barycentric coordinates (w0, w1, w2), summing to 1.
    """
    if n <= 0:
        raise ValueError(f"number of samples must be positive, got {n}")
    areas = mesh.face_areas()
    total = areas.sum()
    if not np.isfinite(total) or total <= 0:
        raise InvalidGeometryError(f"mesh {mesh.name!r} has zero surface area; cannot sample it")
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(areas) / total
    face_index = np.searchsorted(cdf, rng.random(n), side="right").clip(0, len(areas) - 1)
    # Square-root warp gives a uniform density on the triangle.
    r1, r2 = rng.random(n), rng.random(n)
    s = np.sqrt(r1)
    bary = np.stack([1.0 - s, s * (1.0 - r2), s * r2], axis=1)
    return face_index.astype(np.int64), bary


@overload
def sample_surface(mesh: PartMesh, n: int, seed: int = ..., return_index: Literal[False] = ...) -> PartPointCloud: ...


@overload
def sample_surface(
    mesh: PartMesh, n: int, seed: int = ..., *, return_index: Literal[True]
) -> tuple[PartPointCloud, np.ndarray, np.ndarray]: ...


@overload
def sample_surface(
    mesh: PartMesh, n: int, seed: int = ..., return_index: bool = ...
) -> PartPointCloud | tuple[PartPointCloud, np.ndarray, np.ndarray]: ...


def sample_surface(
    mesh: PartMesh, n: int, seed: int = 0, return_index: bool = False
) -> PartPointCloud | tuple[PartPointCloud, np.ndarray, np.ndarray]:
    """Area-weighted surface sampling carrying normals, colours, labels and instances.

    Normals are the (outward) face normals. Colours are interpolated barycentrically; labels and
    instance ids come from the vertex with the largest barycentric weight, so a sample on a face
    straddling two parts takes the part it lies closest to.

    Args:
        mesh: the mesh to sample.
        n: number of points.
        seed: RNG seed; the same seed gives the same points.
        return_index: also return the (n,) face index and (n, 3) barycentrics of every sample.
    """
    face_index, bary = sample_surface_barycentric(mesh, n, seed)
    tri = mesh.faces[face_index]
    pts = np.einsum("nk,nkd->nd", bary, mesh.vertices[tri].astype(np.float64))
    nearest = tri[np.arange(n), bary.argmax(axis=1)]
    colors = None
    if mesh.colors is not None:
        colors = np.einsum("nk,nkd->nd", bary, mesh.colors[tri].astype(np.float64))
    assert mesh.labels is not None  # set by PartMesh.__post_init__
    pc = PartPointCloud(
        points=pts.astype(np.float32),
        normals=mesh.face_normals()[face_index],
        colors=None if colors is None else colors.astype(np.float32),
        labels=mesh.labels[nearest],
        instances=None if mesh.instances is None else mesh.instances[nearest],
        part_names=mesh.part_names,
        category=mesh.category,
        name=mesh.name,
    )
    if return_index:
        return pc, face_index, bary
    return pc


def transfer_labels_to_points(
    mesh: PartMesh, points: np.ndarray, method: str = "surface"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Label arbitrary points from a labelled mesh.

    Args:
        mesh: labelled mesh.
        points: (N, 3) query points.
        method: ``"surface"`` finds the closest point on the surface (exact, via trimesh) and takes
            the label of that face's nearest vertex; ``"vertex"`` takes the nearest vertex's label.

    Returns:
        labels: (N,) int64 and instances: (N,) int64 or None.
    """
    q = np.asarray(points, dtype=np.float64)
    if method == "vertex":
        _, idx = cKDTree(mesh.vertices).query(q)
    elif method == "surface":
        import trimesh

        tm = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
        closest, _, face_id = trimesh.proximity.closest_point(tm, q)
        tri = mesh.faces[face_id]
        d = np.linalg.norm(mesh.vertices[tri].astype(np.float64) - closest[:, None, :], axis=2)
        idx = tri[np.arange(len(q)), d.argmin(axis=1)]
    else:
        raise ValueError(f"unknown method {method!r}; use 'surface' or 'vertex'")
    ins = None if mesh.instances is None else mesh.instances[idx]
    assert mesh.labels is not None  # set by PartMesh.__post_init__
    return mesh.labels[idx], ins


def transfer_labels_to_mesh(
    cloud: PartPointCloud, vertices: np.ndarray, k: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Label mesh vertices from a labelled point cloud by a k-nearest-neighbour majority vote.

    Ties go to the smallest label. Returns (V,) int64 labels and (V,) int64 instances.
    """
    v = np.asarray(vertices, dtype=np.float64)
    k = max(1, min(int(k), len(cloud)))
    _, idx = cKDTree(cloud.points).query(v, k=k)
    idx = idx.reshape(len(v), k)

    def vote(values: np.ndarray) -> np.ndarray:
        cand = values[idx]  # (V, k)
        if k == 1:
            return cand[:, 0]
        shifted = cand - cand.min()
        counts = np.zeros((len(v), int(shifted.max()) + 1), dtype=np.int64)
        np.add.at(counts, (np.repeat(np.arange(len(v)), k), shifted.ravel()), 1)
        return counts.argmax(axis=1) + cand.min()

    assert cloud.labels is not None and cloud.instances is not None  # set by PartPointCloud.__post_init__
    return vote(cloud.labels), vote(cloud.instances)
