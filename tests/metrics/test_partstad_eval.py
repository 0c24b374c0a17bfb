"""Directory-level PartNetE evaluation: agreement with the library metrics and error reporting."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from helpers import assert_close
from partlift.errors import LabelMismatchError, ReadError
from partlift.geometry.io import save_partnete_labels
from partlift.metrics.eval_formats import read_partnete_label_file, save_partnete_prediction
from partlift.metrics.instance import instance_map, predictions_from_labels
from partlift.metrics.partnete_meta import PARTNETE_PARTS
from partlift.metrics.partstad_eval import PartstadEvalOptions, evaluate_partstad
from partlift.metrics.segmentation import semantic_miou


def make_dataset(root, seed=0, categories=("Chair", "Bottle", "Kettle"), shapes=3):
    """Ground truth and predictions under root/gt and root/pred; returns the arrays per category."""
    rng = np.random.default_rng(seed)
    data = {}
    for cat in categories:
        p = len(PARTNETE_PARTS[cat])
        data[cat] = []
        for s in range(shapes):
            n = int(rng.integers(50, 120))
            sem = rng.integers(-1, p, n)
            ins = np.where(sem >= 0, sem * 3 + rng.integers(0, 3, n) // 2, -1)
            (root / "gt" / cat / f"s{s}").mkdir(parents=True)
            save_partnete_labels(root / "gt" / cat / f"s{s}" / "label.npy", sem, ins)
            psem = np.where(rng.random(n) < 0.85, sem, rng.integers(-1, p, n))
            pins = np.where(rng.random(n) < 0.9, ins, -1)
            k = 3 * p
            lab = np.arange(k) // 3
            score = np.round(rng.random(k), 1)  # coarse: ties occur
            save_partnete_prediction(root / "pred" / cat / f"s{s}", psem, pins, lab, score, PARTNETE_PARTS[cat])
            data[cat].append((sem, ins, psem, pins, lab, score))
    return data


def test_matches_library_metrics(tmp_path):
    data = make_dataset(tmp_path)
    report = evaluate_partstad(tmp_path / "gt", tmp_path / "pred")
    names = {c: PARTNETE_PARTS[c] for c in data}
    sem = semantic_miou({c: [d[2] for d in v] for c, v in data.items()},
                        {c: [d[0] for d in v] for c, v in data.items()}, names)
    ins = instance_map({c: [(d[0], d[1]) for d in v] for c, v in data.items()},
                       {c: [predictions_from_labels(d[3], d[4], d[5]) for d in v] for c, v in data.items()}, names)
    for mine, lib in ((report.table("miou"), sem.table), (report.table("map50_part_aware"), ins.part_aware),
                      (report.table("map50_part_agnostic"), ins.part_agnostic)):
        assert_close(mine.overall, lib.overall, atol=1e-9)
        for c in data:
            assert_close(mine.per_category[c], lib.per_category[c], atol=1e-9)
    assert 0 < report.table("map50_part_aware").overall < 1
    d = report.to_dict()
    assert d["protocol_version"] and d["options"]["iou_threshold"] == 0.5
    assert set(d["per_part"]["Chair"]) == set(PARTNETE_PARTS["Chair"])
    json.dumps(d, allow_nan=False)


def test_all_problems_are_listed_at_once(tmp_path):
    make_dataset(tmp_path)
    (tmp_path / "pred" / "Chair" / "s0" / "label.npy").unlink()
    (tmp_path / "pred" / "Bottle" / "s1" / "label.npy").unlink()
    p = read_partnete_label_file(tmp_path / "pred" / "Kettle" / "s2" / "label.npy", prediction=True)
    save_partnete_prediction(tmp_path / "pred" / "Kettle" / "s2", p.semantic[:-1], p.instance[:-1],
                             p.instance_label, p.instance_score)
    with pytest.raises(ReadError) as err:
        evaluate_partstad(tmp_path / "gt", tmp_path / "pred")
    msg = str(err.value)
    assert "3 problem(s)" in msg
    assert "Chair/s0" in msg and "Bottle/s1" in msg and "missing prediction" in msg
    assert "Kettle/s2" in msg and "points" in msg


def test_allow_missing_scores_empty(tmp_path):
    data = make_dataset(tmp_path, categories=("Bottle",), shapes=2)
    (tmp_path / "pred" / "Bottle" / "s1" / "label.npy").unlink()
    report = evaluate_partstad(tmp_path / "gt", tmp_path / "pred", PartstadEvalOptions(allow_missing=True))
    sem0, _, psem0, *_ = data["Bottle"][0]
    inter = np.sum((sem0 == 0) & (psem0 == 0))
    iou0 = inter / np.sum((sem0 == 0) | (psem0 == 0))
    has1 = (data["Bottle"][1][0] == 0).any()
    expected = (iou0 + 0.0) / 2 if has1 else iou0
    assert_close(report.table("miou").overall, expected, atol=1e-9)
    assert report.counts["missing_predictions"] == ["Bottle/s1"]
    assert any("Bottle/s1" in n for n in report.notes)


def test_unknown_labels_names_and_categories(tmp_path):
    make_dataset(tmp_path, categories=("Bottle", "Chair"), shapes=1)
    f = tmp_path / "pred" / "Bottle" / "s0"
    p = read_partnete_label_file(f / "label.npy", prediction=True)
    save_partnete_prediction(f, np.where(p.semantic == 0, 4, p.semantic), p.instance, p.instance_label,
                             p.instance_score)
    g = tmp_path / "pred" / "Chair" / "s0"
    p = read_partnete_label_file(g / "label.npy", prediction=True)
    save_partnete_prediction(g, p.semantic, p.instance, p.instance_label, p.instance_score,
                             ["arm", "back", "leg", "seat", "caster"])
    with pytest.raises(LabelMismatchError) as err:
        evaluate_partstad(tmp_path / "gt", tmp_path / "pred")
    msg = str(err.value)
    assert "Bottle/s0" in msg and "valid: -1..0" in msg
    assert "Chair/s0" in msg and "caster" in msg
    (tmp_path / "gt" / "Spaceship" / "x").mkdir(parents=True)
    save_partnete_labels(tmp_path / "gt" / "Spaceship" / "x" / "label.npy", np.zeros(3), np.zeros(3))
    with pytest.raises(ReadError, match="unknown category 'Spaceship'"):
        evaluate_partstad(tmp_path / "gt", tmp_path / "pred")


def test_extra_predictions_and_missing_scores(tmp_path):
    make_dataset(tmp_path, categories=("Bottle",), shapes=1)
    save_partnete_prediction(tmp_path / "pred" / "Bottle" / "zzz", np.zeros(3))
    with pytest.raises(ReadError, match="zzz: prediction shape has no ground truth"):
        evaluate_partstad(tmp_path / "gt", tmp_path / "pred")
    (tmp_path / "pred" / "Bottle" / "zzz" / "label.npy").unlink()
    (tmp_path / "pred" / "Bottle" / "zzz").rmdir()
    # an instance prediction without confidences is refused, never given score 1
    np.save(tmp_path / "pred" / "Bottle" / "s0" / "label.npy",
            {"semantic_seg": np.zeros(3, int), "instance_seg": np.zeros(3, int), "instance_label": np.zeros(1, int)})
    with pytest.raises(ReadError, match="instance_score"):
        evaluate_partstad(tmp_path / "gt", tmp_path / "pred")


def test_semantic_only_and_meta_json(tmp_path):
    (tmp_path / "gt" / "Thing" / "a").mkdir(parents=True)
    (tmp_path / "gt" / "meta.json").write_text(json.dumps({"Thing": ["x", "y"]}))
    save_partnete_labels(tmp_path / "gt" / "Thing" / "a" / "label.npy", np.array([0, 0, 1, -1]), np.full(4, -1))
    save_partnete_prediction(tmp_path / "pred" / "Thing" / "a", np.array([0, 1, 1, 1]))
    with pytest.raises(ReadError, match="no instance_seg"):
        evaluate_partstad(tmp_path / "gt", tmp_path / "pred")
    report = evaluate_partstad(tmp_path / "gt", tmp_path / "pred", PartstadEvalOptions(instance=False))
    assert report.table("miou").per_part["Thing"] == pytest.approx({"x": 0.5, "y": 1 / 3})
    assert report.options["part_names_source"] == "meta.json"
    assert [t.name for t in report.tables] == ["miou"]
    assert not math.isnan(report.table("miou").overall)
