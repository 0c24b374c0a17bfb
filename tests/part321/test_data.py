"""Training data never carries the training meshes' part labels; test data does."""

from __future__ import annotations

import numpy as np
import pytest

from partlift.datasets.images import generate_image_dataset, quick_image_config
from partlift.part321.data import TEMPLATE, load_test_samples, load_training_data, normalise_mesh


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds") / "hammer"
    return generate_image_dataset(quick_image_config("hammer"), root, workers=1, progress=False)


def test_training_data_has_no_training_labels(tiny_dataset):
    data = load_training_data(tiny_dataset)
    assert (data.template.labels >= 0).all()
    assert data.meshes and all((m.labels == -1).all() for m in data.meshes)
    assert {im.mesh for im in data.images} == {TEMPLATE, *range(len(data.meshes))}
    for im in data.images:
        assert im.image.shape[:2] == (im.camera.height, im.camera.width) == im.depth.shape


def test_max_views_and_test_samples(tiny_dataset):
    data = load_training_data(tiny_dataset, max_views=1)
    assert len(data.images) == 1 + len(data.meshes)
    samples, meshes = load_test_samples(tiny_dataset, max_images=3)
    assert len(samples) == 3
    assert all(s.mask is not None for s in samples)
    assert all((meshes[s.shape_id].labels >= 0).any() for s in samples)


def test_normalise_mesh_fits_the_unit_box(tiny_dataset):
    data = load_training_data(tiny_dataset)
    m = normalise_mesh(data.template.copy(vertices=data.template.vertices * 3.0 + 1.0))
    ext = m.vertices.max(0) - m.vertices.min(0)
    assert ext.max() == pytest.approx(1.0, abs=1e-5)
    assert np.allclose((m.vertices.max(0) + m.vertices.min(0)) / 2, 0, atol=1e-5)
