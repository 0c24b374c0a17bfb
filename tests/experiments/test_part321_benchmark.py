"""Bench plumbing: transfer bench (fast) and the full bench on a tiny configuration (slow)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from partlift.experiments.part321_benchmark import (
    BenchSettings,
    TransferSettings,
    format_bench,
    format_transfer,
    quick_settings,
    run_bench,
    run_transfer_bench,
)
from partlift.part321.baseline2d import Seg2DTrainConfig
from partlift.part321.deformation import DeformationConfig
from partlift.part321.feature_training import FeatureTrainingConfig
from partlift.part321.inference import InferenceConfig
from partlift.part321.model import Part321Config


def test_transfer_bench_json_and_table():
    res = run_transfer_bench(TransferSettings(categories=("hatchet",), meshes=2, methods=("geometric",)),
                             progress=False, log=lambda s: None)
    m = res["methods"]["geometric"]
    assert 0 < m["box_iou"] <= 1 and m["corr_error"] >= 0
    assert set(m["per_category"]) == {"hatchet"}
    assert "hatchet" in format_transfer(res)


def test_quick_settings_are_small():
    q = quick_settings()
    assert len(q.category_list()) == 2 and q.test_images <= 10
    assert q.model.training.epochs < BenchSettings().model.training.epochs


def _tiny_model() -> Part321Config:
    return Part321Config(feature_dim=8, cnn_widths=(8, 8, 8, 8, 8), training=FeatureTrainingConfig(epochs=1),
                         deformation=DeformationConfig(steps=5),
                         inference=InferenceConfig(pose_steps=2, part_steps=2, distance_factors=(1.0,)))


def _tiny_dataset(size: int = 64) -> dict:
    return {"n_train_meshes": 2, "n_test_meshes": 1, "views_per_mesh": 2, "template_views": 2, "size": size}


def test_bench_on_a_tiny_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTLIFT_CACHE", str(tmp_path / "cache"))
    model = _tiny_model()
    settings = BenchSettings(categories=("hatchet",), test_images=2, n_points=256,
                             dataset=_tiny_dataset(),
                             model=model, baseline=Seg2DTrainConfig(epochs=1, width=4, depth=2))
    res = run_bench(settings, tmp_path / "work", progress=False, log=lambda s: None)
    assert set(res["methods"]) == {"part321", "wo_scaling", "wo_constraint", "wo_deformation", "seg2d_baseline"}
    for name in ("part321", "wo_scaling", "wo_constraint", "wo_deformation"):
        d = res["methods"][name]
        assert set(d) == {"pose_acc_pi6", "chamfer", "box_iou", "miou_2d", "per_category"}
        assert 0 <= d["pose_acc_pi6"] <= 1 and d["chamfer"] >= 0
    assert res["methods"]["seg2d_baseline"]["pose_acc_pi6"] is None
    assert 0 <= res["methods"]["seg2d_baseline"]["miou_2d"] <= 1
    assert res["timing"]["seconds_per_image"] > 0 and not math.isnan(res["timing"]["train_seconds_per_category"])
    assert "part321" in format_bench(res)
    # a second run reuses the trained model and the trained 2D baseline
    logs: list[str] = []
    again = run_bench(replace(settings, test_images=1), tmp_path / "work", progress=False, log=logs.append)
    assert any("reusing the 2D baseline" in line for line in logs), logs
    assert again["methods"]["seg2d_baseline"]["per_category"]["hatchet"]["miou_2d"] is not None
    assert again["methods"]["part321"]["per_category"].keys() == {"hatchet"}
    assert again["timing"]["per_category"]["hatchet"]["num_images"] == 1
    assert len(list((tmp_path / "work" / "records" / "gt" / "hatchet").glob("*.json"))) == 1


def _two_category_settings() -> BenchSettings:
    return BenchSettings(categories=("hatchet", "laptop"), test_images=1, n_points=128, dataset=_tiny_dataset(64),
                         model=_tiny_model(), methods=("part321",), with_baseline=False)


# The reference runs in a fresh interpreter, as `partlift bench part321` without --workers would: the
# test process's thread settings, left by earlier tests, move a 1-epoch model's scores.
_ONE_PROCESS_RUN = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("bench_tests", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from partlift.experiments.part321_benchmark import run_bench
result = run_bench(module._two_category_settings(), sys.argv[2], progress=False, log=lambda s: None)
print(json.dumps({"methods": result["methods"], "workers": result["timing"]["workers"]}))
"""


def test_categories_on_two_pool_workers_score_as_in_one_process(tmp_path, monkeypatch):
    import json
    import subprocess
    import sys

    from partlift.experiments.executors import LocalExecutor

    monkeypatch.setenv("PARTLIFT_CACHE", str(tmp_path / "cache"))  # spawned workers and the reference inherit it
    settings = _two_category_settings()
    logs: list[str] = []
    with LocalExecutor(workers=2) as pool:
        par = run_bench(settings, tmp_path / "pool", progress=False, log=logs.append, executor=pool)
    out = subprocess.run([sys.executable, "-c", _ONE_PROCESS_RUN, __file__, str(tmp_path / "one")],
                         capture_output=True, text=True, check=True).stdout
    seq = json.loads(out.strip().splitlines()[-1])
    assert par["timing"]["workers"] == 2 and seq["workers"] == 1
    assert list(par["timing"]["per_category"]) == ["hatchet", "laptop"]  # the settings' order, not finishing order
    assert "[hatchet]" in logs and "[laptop]" in logs
    for cat in ("hatchet", "laptop"):
        a, b = par["methods"]["part321"]["per_category"][cat], seq["methods"]["part321"]["per_category"][cat]
        for key in ("pose_acc_pi6", "box_iou", "miou_2d", "chamfer"):
            assert a[key] == pytest.approx(b[key], abs=1e-4), (cat, key)  # each category seeded on its own


def test_bench_subset_of_methods_without_baseline(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTLIFT_CACHE", str(tmp_path / "cache"))
    model = _tiny_model()
    settings = BenchSettings(categories=("hammer",), test_images=1, n_points=128,
                             dataset=_tiny_dataset(),
                             model=model, methods=("part321",), with_baseline=False)
    res = run_bench(settings, tmp_path / "work", progress=False, log=lambda s: None)
    assert set(res["methods"]) == {"part321"}
    assert not (tmp_path / "work" / "hammer" / "baseline2d.pt").exists()


def test_diagnosis_conditions_and_the_foreground_iou(tmp_path, monkeypatch):
    import numpy as np

    from partlift.datasets.cache import ensure_embedded_dataset
    from partlift.experiments.part321_benchmark import dataset_config
    from partlift.experiments.part321_diagnosis import CONDITIONS, feature_foreground_iou
    from partlift.part321.data import load_test_samples
    from partlift.part321.model import Part321

    monkeypatch.setenv("PARTLIFT_CACHE", str(tmp_path / "cache"))
    settings = BenchSettings(categories=("hatchet",), test_images=2, n_points=128, dataset=_tiny_dataset(),
                             model=_tiny_model(), methods=("part321",), with_baseline=False, diagnose=True)
    res = run_bench(settings, tmp_path / "work", progress=False, log=lambda s: None)
    conds = res["diagnostics"]["conditions"]
    assert set(conds) == {*CONDITIONS, "features"}
    for given in ("true_pose_parts", "true_pose_template"):  # the pose and distance were given and kept
        assert conds[given]["pose_acc_pi6"] == 1.0 and conds[given]["median_pose_error_deg"] < 1e-3
        assert conds[given]["median_distance_error"] < 1e-6
    assert len(res["diagnostics"]["images"]) == 2 * len(CONDITIONS)
    assert "Diagnosis" in format_bench(res)

    # the foreground IoU against a per-pixel loop over the feature grid
    model = Part321.load(tmp_path / "work" / "hatchet" / "model")
    root = ensure_embedded_dataset("images", "hatchet", config=dataset_config(settings, "hatchet"), progress=False)
    sample = load_test_samples(root, max_images=1)[0][0]
    fg = model.foreground_mask(model.features(model.model_input(sample.image, sample.camera)[0]))
    h, w = fg.shape
    sy, sx = sample.mask.shape[0] // h, sample.mask.shape[1] // w
    true = np.array([[(sample.mask[i * sy:(i + 1) * sy, j * sx:(j + 1) * sx] >= 0).mean() >= 0.5
                      for j in range(w)] for i in range(h)])
    union = (fg | true).sum()
    expected = 1.0 if union == 0 else (fg & true).sum() / union
    assert abs(feature_foreground_iou(model, sample) - expected) < 1e-9


def test_a_stamp_from_before_a_new_training_setting_vouches_for_the_value_it_had_then(tmp_path):
    import json

    from partlift.experiments.part321_benchmark import _same_training

    cfg = Part321Config()
    old = cfg.to_dict()
    del old["training"]["flip_negative_weight"]  # written before the setting existed
    old["inference"]["w_silhouette"] = 0.0  # inference settings never retrain
    stamp = tmp_path / "model_config.json"
    stamp.write_text(json.dumps(old))
    then = replace(cfg, training=replace(cfg.training, flip_negative_weight=1.0))  # Eq. 6 unchanged
    assert _same_training(stamp, then)
    assert not _same_training(stamp, cfg)  # today's default (10) trains another model
    assert not _same_training(stamp, replace(cfg, training=replace(cfg.training, flip_negative_weight=5.0)))
    stamp.write_text(json.dumps({**old, "no_such_setting": 1}))
    assert not _same_training(stamp, then)
    stamp.write_text("{not json")
    assert not _same_training(stamp, cfg)
