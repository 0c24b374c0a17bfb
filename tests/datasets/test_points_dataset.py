"""PartNetE-style point-cloud datasets: layout, labels, visibility filter, loaders, determinism."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import trimesh

from partlift.datasets.loaders import iter_partnete, list_partnete_shapes, load_partnete_meta
from partlift.datasets.points import (
    PointsDatasetConfig,
    fibonacci_sphere,
    generate_points_dataset,
    quick_points_config,
    sample_shape_cloud,
    visibility_cameras,
    visible_points,
)
from partlift.geometry.io import read_partnete_labels
from partlift.geometry.partmesh import PartMesh
from partlift.metrics.partnete_meta import PARTNETE_PARTS
from partlift.shapes import generate

CHAIR = replace(quick_points_config("Chair"), n_few_shot=2, n_val=1, n_test=2, n_points=1500)
LAMP = replace(quick_points_config("Lamp"), n_few_shot=1, n_val=1, n_test=1, n_points=1000)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("partnete")
    generate_points_dataset(CHAIR, out, progress=False)
    generate_points_dataset(LAMP, out, progress=False)
    return out


def test_partnete_layout(root):
    meta = json.loads((root / "meta.json").read_text())
    assert meta == {"Chair": list(PARTNETE_PARTS["Chair"]), "Lamp": list(PARTNETE_PARTS["Lamp"])}
    few = (root / "split" / "few_shot.txt").read_text().split()
    assert len(few) == 3 and all(x.split("/")[0] in meta for x in few)
    for split, n in (("few_shot", 2), ("val", 1), ("test", 2)):
        folders = sorted((root / split / "Chair").iterdir())
        assert len(folders) == n
        for f in folders:
            assert (f / "pc.ply").is_file() and (f / "label.npy").is_file()
            sem, ins = read_partnete_labels(f / "label.npy")
            assert len(sem) == CHAIR.n_points and sem.max() < len(meta["Chair"]) and sem.min() >= -1
            # instance ids are unique across parts: one instance never spans two labels
            for i in np.unique(ins[ins >= 0]):
                assert len(np.unique(sem[ins == i])) == 1
    assert json.loads((root / "manifests" / "Chair.json").read_text())["complete"]


def test_loaders_read_our_layout(root):
    clouds = list(iter_partnete(root, "test", "Chair"))
    assert len(clouds) == 2
    pc = clouds[0]
    assert pc.part_names == PARTNETE_PARTS["Chair"] and pc.category == "Chair"
    assert pc.colors is not None and pc.colors.min() >= 0 and pc.colors.max() <= 1
    # stored as generated: inside the unit box, not normalised to the unit sphere
    assert np.abs(pc.points).max() <= 0.5 + 1e-4
    assert len(list_partnete_shapes(root, "val")) == 2
    assert load_partnete_meta(root)["Lamp"] == list(PARTNETE_PARTS["Lamp"])


def test_generation_is_deterministic_and_resumes(root, tmp_path):
    cfg = replace(CHAIR, n_few_shot=1, n_val=0, n_test=0)
    a = generate_points_dataset(cfg, tmp_path / "a", progress=False)
    b = generate_points_dataset(cfg, tmp_path / "b", progress=False)
    ma = json.loads((a / "manifests" / "Chair.json").read_text())["items"]
    mb = json.loads((b / "manifests" / "Chair.json").read_text())["items"]
    assert ma == mb and len(ma) == 1
    ply = next((a / "few_shot").rglob("pc.ply"))
    mtime = ply.stat().st_mtime_ns
    generate_points_dataset(cfg, a, progress=False)
    assert ply.stat().st_mtime_ns == mtime


def test_hidden_surfaces_get_no_points():
    """A box hidden inside another box is invisible from every camera, so no point lands on it."""
    outer = trimesh.creation.box((0.9, 0.9, 0.9))
    inner = trimesh.creation.box((0.3, 0.3, 0.3))
    v = np.concatenate([outer.vertices, inner.vertices])
    f = np.concatenate([outer.faces, inner.faces + len(outer.vertices)])
    lab = np.r_[np.zeros(len(outer.vertices)), np.ones(len(inner.vertices))].astype(int)
    mesh = PartMesh(v, f, lab, ("shell", "core"), "Box")
    cloud = sample_shape_cloud(mesh, PointsDatasetConfig(category="Box", n_points=2000), seed=0)
    assert (cloud.labels == 0).all()
    pts = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.45], [0.1, 0.1, 0.15]])
    vis = visible_points(mesh, pts, visibility_cameras(12, 96))
    assert vis.tolist() == [False, True, False]


def test_colours_come_from_materials_not_labels():
    mesh = generate("Chair", 3)
    a = sample_shape_cloud(mesh, PointsDatasetConfig(n_points=2000), seed=0)
    b = sample_shape_cloud(mesh, PointsDatasetConfig(n_points=2000), seed=0)
    c = sample_shape_cloud(mesh, PointsDatasetConfig(n_points=2000), seed=1)
    assert np.array_equal(a.points, b.points) and np.array_equal(a.colors, b.colors)
    assert not np.allclose(a.colors.mean(0), c.colors.mean(0), atol=1e-3)
    # every part shows colour variation (texture, light, noise), not one flat colour
    for k in np.unique(a.labels[a.labels >= 0]):
        assert a.colors[a.labels == k].std(axis=0).max() > 0.02


def test_fibonacci_sphere_is_even():
    d = fibonacci_sphere(200)
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0)
    assert np.abs(d.mean(axis=0)).max() < 0.02
