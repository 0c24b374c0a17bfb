"""The Part321 estimator end to end on a tiny synthetic category, and its evaluation records."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from helpers import assert_close
from partlift.experiments.part321_scoring import format_methods_table, prediction_record, summarize
from partlift.part321.data import TEMPLATE, synthesize_training_images
from partlift.part321.deformation import DeformationConfig
from partlift.part321.feature_training import FeatureTrainingConfig
from partlift.part321.inference import InferenceConfig
from partlift.part321.model import Part321, Part321Config
from partlift.shapes.registry import generate

FAST = InferenceConfig(pose_steps=4, part_steps=4, distance_factors=(1.0,))


@pytest.fixture(scope="module")
def tiny_model():
    template = generate("hatchet", 0)
    meshes = [generate("hatchet", s) for s in (1, 2)]
    meshes = [m.copy(labels=np.full(len(m.vertices), -1), part_names=()) for m in meshes]
    images = synthesize_training_images(template, meshes, views_per_mesh=2, template_views=2, size=64, seed=0)
    cfg = Part321Config(feature_dim=16, cnn_widths=(8, 8, 16, 16, 16), training=FeatureTrainingConfig(epochs=1),
                        deformation=DeformationConfig(steps=20), inference=FAST)
    return Part321(cfg).fit(template, meshes, images), images


def test_synthesised_images_cover_every_mesh_and_the_object(tiny_model):
    _, images = tiny_model
    assert sorted({im.mesh for im in images}) == [TEMPLATE, 0, 1]
    for im in images:
        assert im.image.shape == (64, 64, 3) and np.isfinite(im.depth).any()


def test_fit_builds_a_deformable_neural_mesh(tiny_model):
    model, _ = tiny_model
    nm = model.mesh
    assert nm.deformer is not None and nm.latent_dim == 3  # template slot + 2 training meshes
    assert nm.features.shape == (len(nm.vertices), 16)
    assert_close(np.linalg.norm(nm.features, axis=1), np.ones(len(nm.vertices)), atol=1e-5)
    assert len(nm.clutter) > 0
    assert model.meta["image_size"] == [64, 64]


def test_predict_outputs_and_save_load_give_the_same_prediction(tiny_model, tmp_path):
    model, images = tiny_model
    im = images[-1]
    pred = model.predict(im.image, im.camera)
    assert pred.mask.shape == (64, 64) and pred.mask.min() >= -1 and pred.mask.max() < 2
    assert len(pred.boxes) == 2 and pred.vertices.shape == model.mesh.vertices.shape
    # the camera-frame vertices are the posed object-frame vertices
    cam = pred.camera
    assert_close(pred.vertices, cam.to_camera(pred.result.vertices), atol=1e-4)
    model.save(tmp_path / "m")
    back = Part321.load(tmp_path / "m")
    again = back.predict(im.image, im.camera)
    assert_close(again.vertices, pred.vertices, atol=1e-5)
    assert again.pose == pytest.approx(pred.pose, abs=1e-6)
    d = pred.to_dict()
    assert set(d["parts"]) == {"handle", "head"}
    # the foreground head is fitted with the model, saved and read back with the same weights
    feat = model.features(im.image)
    assert model.foreground is not None and back.foreground is not None
    assert_close(back.foreground.logits(feat).numpy(), model.foreground.logits(feat).numpy(), atol=1e-6)
    assert (back.foreground_mask(feat) == model.foreground_mask(feat)).all()


def test_a_model_saved_without_a_foreground_head_loads_and_falls_back(tiny_model, tmp_path):
    from partlift.part321.model import FOREGROUND_FILE
    from partlift.part321.silhouette import foreground_map

    model, images = tiny_model
    model.save(tmp_path / "m")
    (tmp_path / "m" / FOREGROUND_FILE).unlink()
    old = Part321.load(tmp_path / "m")
    assert old.foreground is None
    feat = old.features(images[0].image).float()
    rule = foreground_map(feat, torch.as_tensor(old.mesh.features), torch.as_tensor(old.mesh.clutter))
    assert (old.foreground_mask(feat) == rule).all()
    old.fit_foreground(images)  # the upgrade the benchmark applies to such a model
    assert old.foreground is not None


def test_variants_share_the_pose_stage_and_ablate_one_thing_each(tiny_model):
    model, images = tiny_model
    im = images[0]
    cfgs = {"part321": FAST, "wo_scaling": replace(FAST, optimize_scale=False),
            "wo_deformation": replace(FAST, optimize_deformation=False)}
    preds = model.predict(im.image, im.camera, variants=cfgs)
    assert {p.result.initial_pose for p in preds.values()} == {preds["part321"].result.initial_pose}
    assert np.all(preds["wo_scaling"].result.part_log_scale == 0)
    z = preds["wo_deformation"].result.part_latents
    assert_close(z, np.eye(z.shape[1])[np.zeros(len(z), dtype=int)], atol=0)


def test_prediction_record_round_trips_through_the_eval_format(tiny_model, tmp_path):
    from partlift.metrics.eval_formats import read_part321_record

    model, images = tiny_model
    pred = model.predict(images[0].image, images[0].camera)
    prediction_record(pred, tmp_path / "cat" / "x.json", n_points=256)
    rec = read_part321_record(tmp_path / "cat" / "x.json")
    assert_close(rec.pose, np.array(pred.pose), atol=1e-12)
    assert set(rec.parts) == {"handle", "head"}
    assert_close(rec.mask, pred.mask, atol=0)


def test_methods_table_formats_missing_values():
    methods = {"part321": {"pose_acc_pi6": 0.5, "chamfer": 1.0, "box_iou": 0.25, "miou_2d": 0.4, "per_category": {}},
               "seg2d_baseline": {"pose_acc_pi6": None, "chamfer": None, "box_iou": None, "miou_2d": 0.3,
                                  "per_category": {}}}
    text = format_methods_table(methods)
    assert "50.0" in text and "25.0" in text and "-" in text
    assert summarize({}) == {}


def test_fit_with_a_local_transformers_backbone(tmp_path):
    transformers = pytest.importorskip("transformers")
    cfg_hf = transformers.Dinov2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                       intermediate_size=64, patch_size=8, image_size=64)
    transformers.Dinov2Model(cfg_hf).save_pretrained(tmp_path / "dino")
    template = generate("hammer", 0)
    mesh = generate("hammer", 1)
    mesh = mesh.copy(labels=np.full(len(mesh.vertices), -1), part_names=())
    images = synthesize_training_images(template, [mesh], views_per_mesh=1, template_views=1, size=64, seed=0)
    cfg = Part321Config(feature_dim=8, backbone="hf", hf_path=str(tmp_path / "dino"),
                        training=FeatureTrainingConfig(epochs=1), deformation=DeformationConfig(steps=5),
                        inference=FAST)
    model = Part321(cfg).fit(template, [mesh], images)
    model.save(tmp_path / "m")
    pred = Part321.load(tmp_path / "m").predict(images[0].image, images[0].camera)
    assert pred.mask.shape == (64, 64)


def test_non_square_image_is_padded_and_the_prediction_stays_in_its_pixels(tiny_model):
    model, images = tiny_model
    im = images[-1]
    crop = im.image[8:56]  # 64 wide, 48 high
    cam = replace(im.camera, cy=im.camera.cy - 8, height=48)
    pred = model.predict(crop, cam)
    assert pred.mask.shape == (48, 64)
    assert (pred.camera.cx, pred.camera.cy, pred.camera.width, pred.camera.height) == (cam.cx, cam.cy, 64, 48)
    # the mask is the projection of the camera-frame vertices with the input's own intrinsics
    uv = pred.vertices[:, :2] / pred.vertices[:, 2:] * [cam.fx, cam.fy] + [cam.cx, cam.cy]
    rows, cols = np.nonzero(pred.mask >= 0)
    assert len(rows)
    # the mask's extent is the projected vertices' extent (within the pixel grid, clipped to the image)
    lo, hi = np.clip(uv.min(0), 0, [64, 48]), np.clip(uv.max(0), 0, [64, 48])
    assert_close(np.array([cols.min(), rows.min()]), lo, atol=1.5)
    assert_close(np.array([cols.max() + 1, rows.max() + 1]), hi, atol=1.5)
    # a default camera for a non-square photo: the training field of view across the longer side
    d = model.default_camera(96, 48)
    assert d.fx == pytest.approx(model.meta["focal"] * 96 / 64) and (d.cx, d.cy) == (48.0, 24.0)


def test_pad_to_aspect_shifts_the_principal_point_with_the_pixels():
    from partlift.part321.model import pad_to_aspect
    from partlift.render.camera import Camera

    img = np.arange(6 * 10 * 3, dtype=np.uint8).reshape(6, 10, 3)
    cam = Camera.from_pose(azimuth=0.3, elevation=0.2, distance=2.0, focal=20.0, width=10, height=6)
    out, pcam = pad_to_aspect(img, cam, 1.0)
    assert out.shape == (10, 10, 3) and pcam.height == 10 and pcam.cy == cam.cy + 2
    np.testing.assert_array_equal(out[2:8], img)
    np.testing.assert_array_equal(out[0], img[0])  # border repeated
    p = np.array([[0.1, -0.05, 0.2]])
    np.testing.assert_allclose(pcam.project(p)[0] - [0, 2], cam.project(p)[0], atol=1e-9)


def test_given_distance_is_kept_and_confidence_is_reported(tiny_model):
    model, images = tiny_model
    im = images[-1]
    pred = model.predict(im.image, im.camera, use_camera_distance=True,
                         config=replace(model.config.inference, hypotheses=2))
    assert pred.distance == pytest.approx(float(np.linalg.norm(im.camera.translation)), rel=1e-6)
    conf = pred.to_dict()["confidence"]
    assert len(conf["hypotheses"]) == 2 and conf["flip_margin"] >= 0
    assert conf["flip_margin"] == pytest.approx(conf["hypotheses"][1]["loss"] - conf["hypotheses"][0]["loss"])
