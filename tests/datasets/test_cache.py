"""Embedded datasets: generated once into the cache, reused on the second call."""

from __future__ import annotations

from dataclasses import replace

import pytest

import partlift.datasets.cache as cache
from partlift.datasets.images import quick_image_config
from partlift.datasets.loaders import ImageDataset, iter_partnete
from partlift.datasets.points import quick_points_config
from partlift.errors import PartliftError

TINY_IMAGES = replace(quick_image_config("hammer"), n_train_meshes=1, views_per_mesh=1, template_views=1, size=32)
TINY_POINTS = replace(quick_points_config("Bottle"), n_few_shot=1, n_val=1, n_test=1, n_points=500)


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("PARTLIFT_CACHE", str(tmp_path / "c"))
    assert cache.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("PARTLIFT_CACHE")
    assert cache.default_cache_dir().parts[-2:] == (".cache", "partlift")


@pytest.mark.parametrize("kind,category,config", [("images", "hammer", TINY_IMAGES), ("points", "Bottle", TINY_POINTS)])
def test_generated_once_then_reused(monkeypatch, tmp_path, kind, category, config):
    monkeypatch.setenv("PARTLIFT_CACHE", str(tmp_path))
    path = cache.ensure_embedded_dataset(kind, category, config=config, progress=False)
    assert path.is_relative_to(tmp_path)
    if kind == "images":
        assert len(ImageDataset(path, "test")) == 1
    else:
        assert len(list(iter_partnete(path, "test", category))) == 1

    def boom(*args, **kwargs):
        raise AssertionError("the cached dataset was generated again")

    monkeypatch.setattr(cache, "generate_image_dataset", boom)
    monkeypatch.setattr(cache, "generate_points_dataset", boom)
    assert cache.ensure_embedded_dataset(kind, category, config=config, progress=False) == path
    # another configuration lives in another folder
    other = replace(config, seed=1)
    assert cache.embedded_dataset_path(kind, category, config=other) != path


def test_bad_requests(tmp_path):
    with pytest.raises(PartliftError, match="unknown dataset kind"):
        cache.ensure_embedded_dataset("videos", "car", root=tmp_path)
    with pytest.raises(PartliftError, match="category"):
        cache.ensure_embedded_dataset("images", "car", root=tmp_path, config=TINY_IMAGES)
