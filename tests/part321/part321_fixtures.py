"""Small part-labelled meshes and neural meshes built by the tests (no dataset needed)."""

from __future__ import annotations

import numpy as np
import trimesh

from partlift.geometry.partmesh import PartMesh
from partlift.part321.neural_mesh import DeformableNeuralMesh


def _box(extents, center, subdiv: int) -> trimesh.Trimesh:
    m = trimesh.creation.box(extents=extents)
    for _ in range(subdiv):
        m = m.subdivide()
    m.apply_translation(center)
    return m


def toy_mesh(subdiv: int = 1, stretch: float = 1.0, name: str = "toy") -> PartMesh:
    """An asymmetric 3-part object (body, head at the front-top, fin on the left), unit-box scale.

    ``stretch`` lengthens the body along +Z, giving shape variation between instances.
    """
    parts = [
        _box([0.5, 0.3, 0.9 * stretch], [0.0, 0.0, 0.0], subdiv),  # body
        _box([0.3, 0.2, 0.25], [0.0, 0.25, 0.3 * stretch], subdiv),  # head: front, on top
        _box([0.25, 0.1, 0.3], [0.37, -0.05, -0.2 * stretch], subdiv),  # fin: object's left (+X)
    ]
    verts, faces, labels, off = [], [], [], 0
    for k, m in enumerate(parts):
        verts.append(np.asarray(m.vertices))
        faces.append(np.asarray(m.faces) + off)
        labels.append(np.full(len(m.vertices), k))
        off += len(m.vertices)
    return PartMesh(
        np.concatenate(verts), np.concatenate(faces), np.concatenate(labels),
        ("body", "head", "fin"), category="toy", name=name,
    )


def smooth_features(vertices: np.ndarray, dim: int, seed: int = 0, scale: float = 8.0) -> np.ndarray:
    """(V, dim) unit features varying smoothly over space (random Fourier features)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(scale=scale, size=(3, dim))
    b = rng.uniform(0, 2 * np.pi, size=dim)
    f = np.cos(np.asarray(vertices, dtype=np.float64) @ w + b)
    return (f / np.linalg.norm(f, axis=1, keepdims=True)).astype(np.float32)


def toy_neural_mesh(dim: int = 16, subdiv: int = 1, seed: int = 0) -> DeformableNeuralMesh:
    mesh = toy_mesh(subdiv)
    rng = np.random.default_rng(seed + 1)
    # a tight clutter bank (unit rows around one direction), like a trained one's background features
    base = rng.normal(size=dim)
    clutter = base + 0.1 * np.linalg.norm(base) / np.sqrt(dim) * rng.normal(size=(8, dim))
    clutter = (clutter / np.linalg.norm(clutter, axis=1, keepdims=True)).astype(np.float32)
    return DeformableNeuralMesh(
        vertices=mesh.vertices, faces=mesh.faces, features=smooth_features(mesh.vertices, dim, seed),
        labels=mesh.labels, part_names=mesh.part_names, clutter=clutter, category="toy",
    )
