"""Round trips and errors of the evaluation file formats (partlift.metrics.eval_formats)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from helpers import RunsOnLoad, assert_close, assert_refused, write_malicious_npy
from partlift.errors import LabelMismatchError, ReadError
from partlift.geometry.boxes import Box3D
from partlift.metrics.eval_formats import (
    read_part321_record,
    read_partnete_label_file,
    save_part321_record,
    save_partnete_prediction,
)


def test_partnete_prediction_round_trip(tmp_path):
    sem = np.array([0, 1, -1, 1])
    ins = np.array([0, 1, -1, 1])
    path = save_partnete_prediction(tmp_path / "Chair" / "a", sem, ins, [3, 1], [0.25, 0.75], ["x", "y", "z", "w"])
    p = read_partnete_label_file(path, prediction=True)
    assert p.semantic.tolist() == sem.tolist() and p.instance.tolist() == ins.tolist()
    assert p.instance_label.tolist() == [3, 1] and p.instance_score.tolist() == [0.25, 0.75]
    assert p.part_names == ("x", "y", "z", "w")
    # readable as plain ground truth too (extra keys ignored)
    assert read_partnete_label_file(path).instance_label is None


def test_partnete_prediction_errors(tmp_path):
    with pytest.raises(ValueError, match="instance_label and instance_score"):
        save_partnete_prediction(tmp_path, np.zeros(2), np.zeros(2))
    with pytest.raises(LabelMismatchError):
        save_partnete_prediction(tmp_path, np.zeros(2), np.array([0, 2]), [0, 0], [1.0, 1.0])
    with pytest.raises(ValueError, match="NaN"):
        save_partnete_prediction(tmp_path, np.zeros(2), np.zeros(2), [0], [math.nan])
    np.save(tmp_path / "bad.npy", {"semantic_seg": np.zeros(2), "instance_seg": np.array([0, 3]),
                                   "instance_label": [0], "instance_score": [0.5]})
    with pytest.raises(LabelMismatchError, match="instance_seg ids"):
        read_partnete_label_file(tmp_path / "bad.npy", prediction=True)
    np.save(tmp_path / "arr.npy", np.zeros(3))
    with pytest.raises(ReadError, match="not a PartNetE label dict"):
        read_partnete_label_file(tmp_path / "arr.npy")
    with pytest.raises(ReadError, match="not found"):
        read_partnete_label_file(tmp_path / "nope.npy")


@pytest.mark.parametrize("prediction", [False, True])
def test_partnete_label_files_are_unpickled_safely(tmp_path, prediction):
    marker = tmp_path / "ran"
    # the payload hidden in each key a prediction reads
    for key in ("semantic_seg", "instance_seg", "instance_label", "instance_score", "part_names"):
        d = {"semantic_seg": np.zeros(3, np.int32), "instance_seg": np.zeros(3, np.int32),
             "instance_label": np.zeros(1, np.int32), "instance_score": np.ones(1), "part_names": ["a"]}
        d[key] = RunsOnLoad(marker)
        path = tmp_path / key / "label.npy"
        path.parent.mkdir()
        np.save(path, d, allow_pickle=True)
        with pytest.raises(ReadError, match="refused to unpickle") as e:
            read_partnete_label_file(path, prediction=prediction)
        assert_refused(e, path, marker)
    # a ground-truth file as PartNetE releases it still reads
    np.save(tmp_path / "gt.npy", {"semantic_seg": np.array([0, 1]), "instance_seg": np.array([0, -1])},
            allow_pickle=True)
    got = read_partnete_label_file(tmp_path / "gt.npy", prediction=False)
    assert got.semantic.tolist() == [0, 1] and got.instance.tolist() == [0, -1]
    write_malicious_npy(tmp_path / "evil.npy", marker)
    with pytest.raises(ReadError) as e:
        read_partnete_label_file(tmp_path / "evil.npy", prediction=prediction)
    assert_refused(e, tmp_path / "evil.npy", marker)


def test_part321_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    box = Box3D(rng.normal(size=3), np.array([0.3, 0.2, 0.0]), Rotation.random(random_state=1).as_matrix())
    pts = rng.normal(size=(7, 3))
    mask = rng.integers(-1, 3, (5, 6))
    path = save_part321_record(tmp_path / "car" / "img1.json", (0.1, -0.2, 0.3),
                               {"wheel": {"points": pts, "box": box}, "door": {"points": np.zeros((0, 3))}},
                               mask, ["wheel", "door", "roof"])
    r = read_part321_record(path)
    assert_close(r.pose, [0.1, -0.2, 0.3], atol=0)
    assert_close(r.parts["wheel"].points, pts, atol=0)
    assert_close(r.parts["wheel"].box.rotation, box.rotation, atol=0)
    assert r.parts["door"].points.shape == (0, 3) and r.parts["door"].box is None
    assert r.mask.tolist() == mask.tolist() and r.part_names == ("wheel", "door", "roof")
    # no pose -> NaN
    save_part321_record(tmp_path / "car" / "img2.json", None, {})
    assert np.isnan(read_part321_record(tmp_path / "car" / "img2.json").pose).all()


def test_part321_points_and_mask_files(tmp_path):
    np.save(tmp_path / "p.npy", np.ones((4, 3)))
    np.save(tmp_path / "m.npy", np.zeros((2, 2), np.int16))
    (tmp_path / "r.json").write_text(json.dumps({
        "format": "partlift-part321-eval", "version": 1, "pose": {"azimuth": 0, "elevation": 0, "theta": 0},
        "parts": {"a": {"points_file": "p.npy"}}, "mask": "m.npy"}))
    r = read_part321_record(tmp_path / "r.json")
    assert r.parts["a"].points.shape == (4, 3) and r.mask.shape == (2, 2)


@pytest.mark.parametrize("record,match", [
    ({"pose": {"azimuth": 0, "elevation": 0, "theta": 0}}, "format"),
    ({"format": "partlift-part321-eval"}, "pose"),
    ({"format": "partlift-part321-eval", "pose": {"azimuth": 0, "elevation": 0}}, "theta"),
    ({"format": "partlift-part321-eval", "pose": {"azimuth": 0, "elevation": 0, "theta": 0},
      "parts": {"a": {"points": [[0, 0]]}}}, r"\(M, 3\)"),
    ({"format": "partlift-part321-eval", "pose": {"azimuth": 0, "elevation": 0, "theta": 0},
      "parts": {"a": {"points_file": "nope.npy"}}}, "not found"),
    ({"format": "partlift-part321-eval", "pose": {"azimuth": 0, "elevation": 0, "theta": 0},
      "parts": {"a": {"box": {"center": [0, 0]}}}}, "box"),
])
def test_part321_record_errors(tmp_path, record, match):
    (tmp_path / "r.json").write_text(json.dumps(record))
    with pytest.raises(ReadError, match=match):
        read_part321_record(tmp_path / "r.json")
