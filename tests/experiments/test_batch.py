"""Batch inference on one machine: `partlift segment` / `detect` over folders, resumption, failures."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from partlift.cli import main
from partlift.experiments.batch import BatchManifest, expand_inputs


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _outputs(out: Path) -> dict[str, bytes]:
    """Every result file of a batch folder (not the bookkeeping, not hidden temporary files)."""
    skip = {"manifest.json", "summary.json", "failures.json"}
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in skip and not any(s.startswith(".") for s in p.relative_to(out).parts)}


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys {keys}"
    return dict(pairs)


@pytest.fixture(scope="module")
def segmented(tiny_partstad: Path, toy_shapes: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uninterrupted batch over the toy PartNetE root, in this process."""
    out = tmp_path_factory.mktemp("segmented") / "out"
    main(["segment", str(tiny_partstad), str(toy_shapes), "--out", str(out), "--no-progress"])
    return out


def test_segment_folder_gives_partnete_predictions_that_eval_scores(segmented: Path, toy_shapes: Path,
                                                                     toy_keys: list[str],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    for key in toy_keys:
        shape = segmented / key
        assert {p.name for p in shape.iterdir()} == {"pc_parts.ply", "pc_parts.json", "pc_views.png", "label.npy"}
    manifest = json.loads((segmented / "manifest.json").read_text())
    assert manifest["format"] == "partlift-batch-manifest" and manifest["job"] == "segment"
    assert sorted(manifest["items"]) == toy_keys
    assert set(manifest["model"]["files"]) >= {"config.json", "model.json", "weights.pt"}
    assert not any(f.startswith("cache/") for f in manifest["model"]["files"])
    summary = json.loads((segmented / "summary.json").read_text())
    assert summary["done"] == len(toy_keys) and summary["failed"] == 0 and summary["backend"] == "local"
    assert summary["seconds_per_item"] > 0 and summary["throughput_items_per_second"] > 0
    assert json.loads((segmented / "failures.json").read_text()) == {"failures": []}
    # `partlift eval partstad` reads the folder as it is
    code, out, err = _run(["eval", "partstad", "--gt", str(toy_shapes), "--pred", str(segmented), "--json",
                           str(segmented.parent / "scores.json")], capsys)
    assert code == 0, err
    scores = json.loads((segmented.parent / "scores.json").read_text())
    assert scores["per_category"]["Table"]["miou"] is not None
    # a rerun finds everything done
    manifest_before = (segmented / "manifest.json").read_bytes()
    code, out, _ = _run(["segment", str(_model_of(segmented)), str(toy_shapes), "--out", str(segmented),
                         "--no-progress"], capsys)
    assert code == 0 and f"0 done, {len(toy_keys)} already done, 0 failed" in out
    assert json.loads((segmented / "manifest.json").read_bytes()) == json.loads(manifest_before)


def _model_of(out: Path) -> Path:
    return Path(json.loads((out / "manifest.json").read_text())["model"]["path"])


def test_single_file_keeps_its_layout_and_adds_label_npy(tiny_partstad: Path, toy_shapes: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["segment", str(tiny_partstad), str(toy_shapes / "Table" / "t3" / "pc.ply"), "--out",
                           str(tmp_path / "o")], capsys)
    assert code == 0, err
    assert {p.name for p in (tmp_path / "o").iterdir()} == {".partlift-output.json", "pc_parts.ply", "pc_parts.json",
                                                            "pc_views.png", "label.npy"}
    label = np.load(tmp_path / "o" / "label.npy", allow_pickle=True).item()
    assert len(label["semantic_seg"]) == 4000 and len(label["instance_label"]) == len(label["instance_score"])
    assert "wrote" in out and "label.npy" in out


def test_a_bad_input_does_not_stop_the_batch(tiny_partstad: Path, toy_shapes: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "empty.ply").write_bytes(b"")
    (bad / "notes.txt").write_text("not a cloud")
    good = toy_shapes / "Table" / "t3" / "pc.ply"
    argv = ["segment", str(tiny_partstad), str(good), str(bad / "empty.ply"), str(bad / "notes.txt"),
            str(bad / "missing.ply"), str(bad / "*.obj"), "--out", str(tmp_path / "o"), "--no-progress"]
    code, out, err = _run(argv, capsys)
    assert code == 3, err
    failures = json.loads((tmp_path / "o" / "failures.json").read_text())["failures"]
    assert sorted(f["key"] for f in failures) == sorted(["empty", "notes", str(bad / "missing.ply"),
                                                        str(bad / "*.obj")])
    for f in failures:
        assert "\n" not in f["error"] and f["input"] in f["error"] and f["kind"] == "input", f
    assert out.count("\nfailed: ") == 4 and "1 done" in out
    assert (tmp_path / "o" / "Table" / "t3" / "label.npy").is_file()
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert (summary["items"], summary["done"], summary["failed"]) == (5, 1, 4)
    # a rerun skips what is done and tries the failed ones again
    code, out, _ = _run(argv, capsys)
    assert code == 3 and "0 done, 1 already done, 4 failed" in out


def test_changed_model_or_settings_are_refused_unless_redo(tiny_partstad: Path, toy_shapes: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    argv = ["segment", str(tiny_partstad), str(toy_shapes / "Table" / "t3"), str(toy_shapes / "Table" / "t4"),
            "--out", str(out), "--no-progress"]
    assert _run(argv, capsys)[0] == 0
    assert sorted(json.loads((out / "manifest.json").read_text())["items"]) == ["Table/t3", "Table/t4"]
    code, _, err = _run(argv + ["--seed", "1"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "other settings (seed 0 -> 1)" in err and "--redo" in err and str(out / "manifest.json") in err
    other = tmp_path / "model2"
    shutil.copytree(tiny_partstad, other)
    meta = json.loads((other / "model.json").read_text())
    (other / "model.json").write_text(json.dumps({**meta, "history": []}))
    argv2 = [a if a != str(tiny_partstad) else str(other) for a in argv]
    code, _, err = _run(argv2, capsys)
    assert code == 2 and "another model" in err
    code, text, _ = _run(argv2 + ["--redo"], capsys)
    assert code == 0 and "--redo: removed 8 files" in text and "2 done, 0 already done" in text
    assert json.loads((out / "manifest.json").read_text())["model"]["path"] == str(other)


def test_two_inputs_with_the_same_outputs_are_not_both_written(tiny_partstad: Path, toy_shapes: Path,
                                                               tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        shutil.copyfile(toy_shapes / "Table" / "t3" / "pc.ply", tmp_path / d / "x.ply")
    code, text, _ = _run(["segment", str(tiny_partstad), str(tmp_path / "a" / "x.ply"), str(tmp_path / "b" / "x.ply"),
                          "--out", str(tmp_path / "o"), "--no-progress"], capsys)
    assert code == 3 and "1 done" in text
    assert f"failed: {tmp_path / 'b' / 'x.ply'}: would write the same outputs as {tmp_path / 'a' / 'x.ply'}" in text


def test_input_expansion(toy_shapes: Path, toy_keys: list[str], tmp_path: Path) -> None:
    found = expand_inputs([str(toy_shapes), str(toy_shapes / "Table" / "t3" / "pc.ply")], "points")
    assert [it.key for it in found.items] == toy_keys
    assert found.items[0].folder == found.items[0].key and found.items[0].category == "Table"
    plain = tmp_path / "scans"
    (plain / "sub").mkdir(parents=True)
    for rel in ("a.ply", "sub/b.obj", ".hidden/c.ply", "sub/readme.txt"):
        (plain / rel).parent.mkdir(parents=True, exist_ok=True)
        (plain / rel).write_bytes(b"x")
    (plain / "out").mkdir()
    (plain / "out" / "old_parts.ply").write_bytes(b"x")
    found = expand_inputs([str(plain), str(plain / "*.ply")], "points", out=plain / "out")
    assert [(it.key, it.folder, it.stem) for it in found.items] == [("a", "a", "a"), ("sub/b", "sub/b", "b")]
    assert not found.problems
    found = expand_inputs([str(tmp_path / "none*.ply"), str(tmp_path / "gone")], "images")
    assert [p.error for p in found.problems] == [f"{tmp_path / 'none*.ply'}: no file matches this pattern",
                                                 f"{tmp_path / 'gone'}: no such file or folder"]


def test_manifest_refuses_another_job(tmp_path: Path) -> None:
    from partlift.errors import OutputError

    m = BatchManifest(tmp_path, "segment", {"path": "m", "fingerprint": "a"}, {"seed": 0})
    m.add("x", {"input": "x.ply", "files": {}})
    m.write()
    with pytest.raises(OutputError, match="holds a segment batch"):
        BatchManifest(tmp_path, "detect", {"path": "m", "fingerprint": "a"}, {"seed": 0})
    assert BatchManifest(tmp_path, "segment", {"path": "m2", "fingerprint": "a"}, {"seed": 0}).is_done("x")


def test_killed_driver_resumes_from_the_manifest(tiny_partstad: Path, toy_shapes: Path, toy_keys: list[str],
                                                 segmented: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    argv = ["segment", str(tiny_partstad), str(toy_shapes), "--out", str(out), "--no-progress"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "partlift", *argv[0:]], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    done_at_kill = 0
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                done_at_kill = len(json.loads((out / "manifest.json").read_text())["items"])
            except (OSError, ValueError, KeyError):
                done_at_kill = 0
            if done_at_kill >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()[1]!r}"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert 2 <= done_at_kill < len(toy_keys)
    code, text, err = _run(argv, capsys)
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] >= done_at_kill and summary["skipped"] + summary["done"] == len(toy_keys)
    items = json.loads((out / "manifest.json").read_text(), object_pairs_hook=_no_duplicate_keys)["items"]
    assert sorted(items) == toy_keys
    for entry in items.values():
        assert all((out / rel).is_file() for rel in entry["files"])
    got, want = _outputs(out), _outputs(segmented)
    assert sorted(got) == sorted(want)
    for rel in want:
        if rel.endswith(("label.npy", ".ply", ".png")):  # (the JSON holds timings)
            assert got[rel] == want[rel], rel


@pytest.fixture(scope="module")
def image_dataset_and_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny `make-dataset images` folder (2 test images) and a Part321 model trained on it in seconds."""
    from partlift.part321.data import load_training_data
    from partlift.part321.deformation import DeformationConfig
    from partlift.part321.feature_training import FeatureTrainingConfig
    from partlift.part321.inference import InferenceConfig
    from partlift.part321.model import Part321, Part321Config

    base = tmp_path_factory.mktemp("detect")
    ds = base / "ds"
    main_ok(["make-dataset", "images", "--category", "hatchet", "--out", str(ds), "--n-train-meshes", "1",
             "--n-test-meshes", "1", "--views-per-mesh", "2", "--template-views", "2", "--size", "64",
             "--set", "supersample=1", "--set", "background.photo_prob=0", "--no-progress"])
    data = load_training_data(ds)
    cfg = Part321Config(feature_dim=16, cnn_widths=(8, 8, 16, 16, 16), training=FeatureTrainingConfig(epochs=1),
                        deformation=DeformationConfig(steps=10),
                        inference=InferenceConfig(pose_steps=3, part_steps=3, distance_factors=(1.0,)))
    Part321(cfg).fit(data.template, data.meshes, data.images).save(base / "model")
    return ds, base / "model"


def main_ok(argv: list[str]) -> None:
    try:
        main(argv)
    except SystemExit as exc:
        assert not exc.code, exc.code


def test_detect_over_an_image_dataset_writes_part321_eval_records(
        image_dataset_and_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds, model = image_dataset_and_model
    photo = tmp_path / "photos" / "photo.png"
    photo.parent.mkdir()
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(photo)
    out = tmp_path / "o"
    code, text, err = _run(["detect", str(model), str(ds), str(photo.parent), "--out", str(out), "--no-progress"],
                           capsys)
    assert code == 0, err
    assert "is an image dataset: detecting its test images" in text
    test_ids = json.loads((ds / "splits.json").read_text())["test"]
    keys = sorted(json.loads((out / "manifest.json").read_text())["items"])
    assert keys == sorted([f"hatchet/{test_ids[0]}_000", f"hatchet/{test_ids[0]}_001", "photo"])
    assert (out / "photo_part321.json").is_file() and (out / "photo_part321.png").is_file()
    assert not (out / "eval" / "gt" / "hatchet" / "photo.json").exists()  # no annotation, no ground truth
    # every image, the photo too, gets its prediction record, 2D part mask and posed parts
    assert (out / "eval" / "part321" / "hatchet" / "photo.json").is_file()
    from partlift.geometry.io import load_part_mesh, read_label_png

    result = json.loads((out / "photo_part321.json").read_text())
    mask = read_label_png(out / "photo_parts.png")
    assert mask.shape == (64, 64) and mask.min() >= -1 and mask.max() < len(result["parts"])
    mesh = load_part_mesh(out / "photo_parts.ply")
    assert set(mesh.part_names) == set(result["parts"])
    for name, part in result["parts"].items():  # the posed parts are where the JSON says
        if part["center"] is not None:
            k = mesh.part_names.index(name)
            np.testing.assert_allclose(mesh.vertices[mesh.labels == k].mean(0), part["center"], atol=1e-4)
    assert result["distance_init"]["source"] == "estimated"
    for sub in ("gt", "part321"):
        assert sorted(p.name for p in (out / "eval" / sub / "hatchet").glob("*.json") if p.stem != "photo") == [
            f"{test_ids[0]}_000.json", f"{test_ids[0]}_001.json"]
    (out / "eval" / "part321" / "hatchet" / "photo.json").unlink()  # scored below against the dataset's gt only
    code, text, err = _run(["eval", "part321", "--gt", str(out / "eval" / "gt"), "--pred",
                            str(out / "eval" / "part321"), "--json", str(tmp_path / "scores.json")], capsys)
    assert code == 0, err
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["protocol"] == "part321" and "hatchet" in scores["per_category"]
    assert scores["per_category"]["hatchet"]["miou_2d"] is not None


def test_ray_missing_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    code, _, err = _run(["make-dataset", "images", "--category", "hammer", "--out", str(tmp_path / "d"),
                         "--backend", "ray"], capsys)
    assert code == 2
    assert err == "error: --backend ray needs the 'dist' extra: pip install 'partlift[dist]'\n"
    assert not (tmp_path / "d").exists()
    code, _, err = _run(["make-dataset", "images", "--category", "hammer", "--out", str(tmp_path / "d"),
                         "--address", "auto"], capsys)
    assert code == 2 and "--address is for --backend ray" in err


def test_detect_uses_the_camera_distance_only_when_asked(image_dataset_and_model: tuple[Path, Path], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from partlift.part321.model import Part321

    _, model_dir = image_dataset_and_model
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(photo)
    code, _, err = _run(["detect", str(model_dir), str(photo), "--use-camera-distance", "--out", str(tmp_path / "a"),
                         "--no-progress"], capsys)
    assert code == 2 and "--use-camera-distance needs --camera" in err and len(err.strip().splitlines()) == 1
    cam = Part321.load(model_dir).default_camera(64, 64)
    cam = cam.__class__.from_pose(azimuth=0.0, elevation=0.0, distance=2.6, focal=cam.fx, width=64, height=64)
    cam_json = tmp_path / "camera.json"
    cam_json.write_text(json.dumps(cam.to_dict()))
    code, text, err = _run(["detect", str(model_dir), str(photo), "--camera", str(cam_json), "--use-camera-distance",
                            "--out", str(tmp_path / "b"), "--no-progress"], capsys)
    assert code == 0, err
    assert "the camera's" in text
    result = json.loads((tmp_path / "b" / "photo_part321.json").read_text())
    assert result["distance_init"] == {"source": "camera", "value": pytest.approx(2.6)}
    assert result["pose"]["distance"] == pytest.approx(2.6, rel=1e-6)  # known, so kept
