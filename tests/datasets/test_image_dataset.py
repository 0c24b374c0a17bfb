"""DST-Part3D-style image datasets: layout, label hygiene, reprojection, resumability, determinism."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from helpers import assert_close
from partlift.datasets.generation import sha256_file
from partlift.datasets.images import ImageDatasetConfig, generate_image_dataset, quick_image_config
from partlift.datasets.loaders import ImageDataset, read_label_png
from partlift.errors import PartliftError
from partlift.geometry.io import load_part_mesh
from partlift.geometry.sampling import sample_surface
from partlift.render.camera import Camera
from partlift.render.rasterize import rasterize

CONFIG = replace(quick_image_config("car"), n_train_meshes=2, n_test_meshes=1, views_per_mesh=3, template_views=2,
                 size=64)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return generate_image_dataset(CONFIG, tmp_path_factory.mktemp("images") / "car", workers=1, progress=False)


def test_layout_and_manifest(dataset):
    splits = json.loads((dataset / "splits.json").read_text())
    assert [len(splits[s]) for s in ("template", "train", "test")] == [1, 2, 1]
    assert ImageDatasetConfig.from_dict(json.loads((dataset / "config.json").read_text())) == CONFIG
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["complete"] and manifest["seed"] == CONFIG.seed and manifest["config"] == CONFIG.to_dict()
    assert {"numpy", "partlift", "python"} <= set(manifest["versions"])
    n_views = CONFIG.template_views + 3 * CONFIG.views_per_mesh
    assert len([k for k in manifest["items"] if not k.endswith("/mesh")]) == n_views
    for files in manifest["items"].values():
        for rel, entry in files.items():
            assert entry == {"sha256": sha256_file(dataset / rel), "size": (dataset / rel).stat().st_size}, rel
    assert not list(dataset.rglob(".*tmp*")), "temporary files left behind"


def test_training_split_holds_no_part_labels(dataset):
    train = dataset / "train"
    names = {p.name for p in train.rglob("*")}
    assert "mask" not in names and "instance" not in names and "mesh.labels.json" not in names
    assert not list(train.rglob("*.labels.json"))
    for sid in json.loads((dataset / "splits.json").read_text())["train"]:
        assert (dataset / "gt" / "train" / sid / "mesh.labels.json").is_file()
        assert len(list((dataset / "gt" / "train" / sid / "mask").glob("*.png"))) == CONFIG.views_per_mesh
        mesh = load_part_mesh(train / sid / "mesh.ply")
        assert (mesh.labels == -1).all() and mesh.colors is None
    ds = ImageDataset(dataset, "train")
    assert len(ds) == 2 * CONFIG.views_per_mesh and all(s.mask is None for s in ds)
    assert all("gt/" not in json.dumps(s.annotation) for s in ds), "train annotations must not point at gt/"
    assert (ds.mesh(ds.shape_ids[0]).labels == -1).all()
    gt = ImageDataset(dataset, "train", with_gt=True)
    assert gt[0].mask is not None and gt[0].instances is not None and (gt.mesh(gt.shape_ids[0]).labels >= 0).any()
    assert ((gt[0].mask >= 0) == np.isfinite(gt[0].depth)).all()


def test_annotations_and_loader(dataset):
    ds = ImageDataset(dataset, "test")
    s = ds[0]
    ann = s.annotation
    assert s.image.shape == (64, 64, 3) and s.image.dtype == np.uint8
    assert s.mask.shape == (64, 64) and s.depth.shape == (64, 64)
    for key in ("azimuth", "elevation", "theta", "distance", "principal", "focal_length", "world_to_camera",
                "shape_id", "scale", "offset", "category", "part_names"):
        assert key in ann, key
    assert ann["category"] == "car" and ann["shape_id"] == s.shape_id
    assert_close(ann["focal_length"], 35 / 32 * 64, atol=1e-9)
    cam = Camera.from_pose(azimuth=ann["azimuth"], elevation=ann["elevation"], theta=ann["theta"],
                           distance=ann["distance"], focal=ann["focal_length"], width=64, height=64)
    assert_close(cam.world_to_camera(), np.array(ann["world_to_camera"]), atol=1e-9)
    assert_close(s.camera.world_to_camera(), cam.world_to_camera(), atol=1e-9)
    assert ((s.mask >= 0) == np.isfinite(s.depth)).all()
    assert s.edges.dtype == bool
    template = ds.template()
    assert (template.labels >= 0).all() and template.num_parts == len(ann["part_names"])


def test_projecting_3d_ground_truth_reproduces_masks(dataset):
    """Acceptance: the labelled mesh rendered with the saved camera gives the saved mask (IoU >= 0.99
    per part); and, independently of the rasteriser, visible surface samples land on their label."""
    inter, union = {}, {}
    agree = total = 0
    for split in ("template", "test"):
        ds = ImageDataset(dataset, split)
        for s in ds:
            mesh = load_part_mesh(dataset / split / s.shape_id / "mesh.ply")
            cam = Camera.from_dict(s.annotation["camera"])
            frag = rasterize(mesh.vertices, mesh.faces, [cam])
            fid, bary = frag.face_ids[0], frag.bary[0]
            vert = np.take_along_axis(mesh.faces[np.maximum(fid, 0)], bary.argmax(axis=2)[..., None], axis=2)[..., 0]
            proj = np.where(fid >= 0, mesh.labels[vert], -1)
            for k in range(mesh.num_parts):
                a, b = proj == k, s.mask == k
                inter[k] = inter.get(k, 0) + int((a & b).sum())
                union[k] = union.get(k, 0) + int((a | b).sum())
            pts = sample_surface(mesh, 4000, seed=1)
            uv, z = cam.project(pts.points)
            j, i = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
            ok = (i >= 0) & (i < 64) & (j >= 0) & (j < 64)
            vis = np.zeros(len(z), bool)
            vis[ok] = np.abs(s.depth[i[ok], j[ok]] - z[ok]) < 2e-3 * z[ok]
            # away from part boundaries (a pixel's label is decided at its centre)
            interior = ndimage.minimum_filter(s.mask, 3) == ndimage.maximum_filter(s.mask, 3)
            vis[ok] &= interior[i[ok], j[ok]]
            agree += int((s.mask[i[vis], j[vis]] == pts.labels[vis]).sum())
            total += int(vis.sum())
    ious = {k: inter[k] / union[k] for k in union if union[k] > 0}
    assert min(ious.values()) >= 0.99, ious
    assert total > 500 and agree / total > 0.99, (agree, total)


def test_resume_skips_finished_items_and_redoes_missing_ones(dataset):
    img = next((dataset / "test").rglob("image/000.png"))
    before = {p: (p.stat().st_mtime_ns, sha256_file(p)) for p in dataset.rglob("*.png")}
    content = img.read_bytes()
    img.unlink()
    generate_image_dataset(CONFIG, dataset, workers=1, progress=False)
    assert img.read_bytes() == content, "regenerated item differs: generation is not deterministic"
    for p, (mtime, _digest) in before.items():
        if p.parent.parent != img.parent.parent or p.stem != "000":
            assert p.stat().st_mtime_ns == mtime, f"{p} was rewritten although it was finished"
    with pytest.raises(PartliftError, match="different configuration"):
        generate_image_dataset(replace(CONFIG, seed=1), dataset, workers=1, progress=False)


def test_masks_use_label_plus_one(dataset):
    s = ImageDataset(dataset, "test")[0]
    raw = np.asarray(Image.open(dataset / s.annotation["files"]["mask"]))
    assert raw.dtype == np.uint8 and raw.min() == 0
    assert np.array_equal(raw.astype(np.int16) - 1, s.mask)
    assert np.array_equal(read_label_png(dataset / s.annotation["files"]["mask"]), s.mask)


@pytest.mark.slow
def test_two_workers_give_identical_files(dataset, tmp_path):
    out = generate_image_dataset(CONFIG, tmp_path / "car", workers=2, progress=False)
    a = json.loads((dataset / "manifest.json").read_text())["items"]
    b = json.loads((out / "manifest.json").read_text())["items"]
    assert a == b


def test_custom_generator_and_bad_inputs(tmp_path):
    cfg = replace(CONFIG, generator="toys:toy_car", n_train_meshes=1, views_per_mesh=1, template_views=1)
    out = generate_image_dataset(cfg, tmp_path / "toy", progress=False)
    assert len(ImageDataset(out, "test")) == 1
    with pytest.raises(PartliftError, match="unknown shape category"):
        generate_image_dataset(replace(CONFIG, category="no_such"), tmp_path / "x", progress=False)
    with pytest.raises(PartliftError, match="cannot import shape generator"):
        generate_image_dataset(replace(CONFIG, generator="nope.nothing:f"), tmp_path / "y", progress=False)
    with pytest.raises(PartliftError):
        ImageDatasetConfig(size=2)
    assert os.environ.get("PARTLIFT_NEVER_SET") is None


def test_interrupted_run_keeps_finished_items(tmp_path, monkeypatch):
    cfg = replace(CONFIG, generator="toys:flaky_toy_car", n_train_meshes=2, n_test_meshes=1, views_per_mesh=1,
                  template_views=1)
    monkeypatch.setenv("PARTLIFT_TEST_FAIL_SEED", str(cfg.shape_seed("test", 0)))
    with pytest.raises(RuntimeError, match="simulated crash"):
        generate_image_dataset(cfg, tmp_path / "ds", progress=False)
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert not manifest["complete"] and manifest["items"], "finished items must be recorded before the crash"
    done = {k: (tmp_path / "ds" / next(iter(v))).stat().st_mtime_ns for k, v in manifest["items"].items()}
    monkeypatch.delenv("PARTLIFT_TEST_FAIL_SEED")
    generate_image_dataset(cfg, tmp_path / "ds", progress=False)
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert manifest["complete"] and len(manifest["items"]) == 2 * 4  # (mesh + 1 view) x 4 shapes
    for key, mtime in done.items():
        assert (tmp_path / "ds" / next(iter(manifest["items"][key]))).stat().st_mtime_ns == mtime, key
