"""Small meshes built by the tests."""

from __future__ import annotations

import numpy as np
import pytest

from partlift.geometry import PartMesh


def two_part_mesh(seed: int = 0) -> PartMesh:
    """Two unit-ish boxes side by side along X, labelled 0 and 1, with instance ids and colours."""
    import trimesh

    a = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    b = trimesh.creation.box(extents=(0.5, 2.0, 0.5))
    b.apply_translation((1.5, 0.0, 0.0))
    v = np.concatenate([a.vertices, b.vertices])
    f = np.concatenate([a.faces, b.faces + len(a.vertices)])
    labels = np.r_[np.zeros(len(a.vertices)), np.ones(len(b.vertices))].astype(np.int64)
    rng = np.random.default_rng(seed)
    return PartMesh(
        v, f, labels=labels, part_names=("body", "arm"), category="toy",
        colors=rng.random((len(v), 3)).astype(np.float32), instances=labels.copy(), name="toy0",
    )


@pytest.fixture
def toy_mesh() -> PartMesh:
    return two_part_mesh()
