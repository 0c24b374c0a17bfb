"""Directory-level Part321 evaluation: agreement with the library metrics and error reporting."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from helpers import assert_close
from partlift.errors import LabelMismatchError, ReadError
from partlift.geometry.boxes import Box3D, oriented_box
from partlift.metrics.box3d import box_iou_3d
from partlift.metrics.chamfer import ChamferOptions, chamfer_distance
from partlift.metrics.eval_formats import save_part321_record
from partlift.metrics.image2d import part_mask_counts
from partlift.metrics.part321_eval import Part321EvalOptions, evaluate_part321
from partlift.metrics.pose import pose_error

NAMES = {"car": ["wheel", "door", "roof"], "plane": ["wing", "tail"]}


def make_dataset(root, seed=0, images=3):
    """Records under root/gt and root/pred; returns the raw values for recomputation."""
    rng = np.random.default_rng(seed)
    raw = {}
    for cat, names in NAMES.items():
        raw[cat] = []
        for i in range(images):
            gpose = rng.uniform(-1, 1, 3)
            ppose = gpose + rng.normal(0, 0.4, 3)
            gparts, pparts = {}, {}
            for name in names[: len(names) - (i % 2)]:  # the last part is absent from odd images
                box = Box3D(rng.uniform(-0.3, 0.3, 3), rng.uniform(0.1, 0.5, 3),
                            Rotation.random(random_state=int(rng.integers(1 << 30))).as_matrix())
                pts = box.center + (rng.uniform(-0.5, 0.5, (40, 3)) * box.size) @ box.rotation.T
                gparts[name] = {"points": pts, "box": box}
                pparts[name] = {"points": pts + rng.normal(0, 0.05, pts.shape)}  # box fitted at eval time
            gmask = rng.integers(-1, len(names), (6, 8))
            pmask = np.where(rng.random((6, 8)) < 0.7, gmask, rng.integers(-1, len(names), (6, 8)))
            save_part321_record(root / "gt" / cat / f"im{i}.json", gpose, gparts, gmask, names)
            save_part321_record(root / "pred" / cat / f"im{i}.json", ppose, pparts, pmask)
            raw[cat].append((gpose, ppose, gparts, pparts, gmask, pmask))
    return raw


def test_matches_library_metrics(tmp_path):
    raw = make_dataset(tmp_path)
    report = evaluate_part321(tmp_path / "gt", tmp_path / "pred")
    for cat, images in raw.items():
        errs = [pose_error(p, g) for g, p, *_ in images]
        assert_close(report.table("pose_acc_pi_6").per_category[cat], np.mean(np.array(errs) < math.pi / 6), atol=1e-12)
        assert_close(report.table("pose_median_deg").per_category[cat], np.degrees(np.median(errs)), atol=1e-9)
        for name in NAMES[cat]:
            cds = [chamfer_distance(pp[name]["points"], gp[name]["points"], ChamferOptions())
                   for _, _, gp, pp, *_ in images if name in gp]
            ious = [box_iou_3d(oriented_box(pp[name]["points"]), gp[name]["box"])
                    for _, _, gp, pp, *_ in images if name in gp]
            assert_close(report.table("chamfer").per_part[cat][name], np.mean(cds), atol=1e-9)
            assert_close(report.table("box_iou_3d").per_part[cat][name], np.mean(ious), atol=1e-9)
        inter = sum(part_mask_counts(im[5], im[4], len(NAMES[cat]))[0] for im in images)
        union = sum(part_mask_counts(im[5], im[4], len(NAMES[cat]))[1] for im in images)
        assert_close(report.table("miou_2d").per_category[cat], np.mean(inter / union), atol=1e-9)
    d = report.to_dict()
    assert d["options"]["chamfer"] == {"squared": True, "reduction": "sum", "scale": 100.0}
    assert set(d["per_part"]["car"]) == {"wheel", "door", "roof"}
    json.dumps(d, allow_nan=False)


def test_problems_are_listed_together(tmp_path):
    make_dataset(tmp_path)
    (tmp_path / "pred" / "car" / "im0.json").unlink()
    rec = json.loads((tmp_path / "pred" / "plane" / "im1.json").read_text())
    rec["parts"]["engine"] = {"points": [[0, 0, 0]]}
    (tmp_path / "pred" / "plane" / "im1.json").write_text(json.dumps(rec))
    np.save(tmp_path / "m.npy", np.zeros((3, 3), int))
    rec = json.loads((tmp_path / "pred" / "plane" / "im2.json").read_text())
    rec["mask"] = "../../m.npy"
    (tmp_path / "pred" / "plane" / "im2.json").write_text(json.dumps(rec))
    with pytest.raises(ReadError) as err:
        evaluate_part321(tmp_path / "gt", tmp_path / "pred")
    msg = str(err.value)
    assert "3 problem(s)" in msg
    assert "car/im0.json: missing prediction" in msg
    assert "plane/im1.json" in msg and "engine" in msg
    assert "plane/im2.json" in msg and "3x3" in msg


def test_allow_missing_and_empty_parts(tmp_path):
    raw = make_dataset(tmp_path, images=2)
    (tmp_path / "pred" / "car" / "im0.json").unlink()
    rec = json.loads((tmp_path / "pred" / "plane" / "im0.json").read_text())
    rec["parts"]["wing"] = {}  # explicitly not found
    (tmp_path / "pred" / "plane" / "im0.json").write_text(json.dumps(rec))
    with pytest.raises(ReadError, match="missing prediction"):
        evaluate_part321(tmp_path / "gt", tmp_path / "pred")
    report = evaluate_part321(tmp_path / "gt", tmp_path / "pred", Part321EvalOptions(allow_missing=True))
    assert report.counts["missing_predictions"] == ["car/im0"]
    assert report.counts["chamfer_missed"] == {"car": {"wheel": 1, "door": 1, "roof": 1}, "plane": {"wing": 1}}
    # missing pose counts as pi -> not accurate; missing boxes score 0
    g, p, gp, pp, *_ = raw["car"][1]
    acc = float(pose_error(p, g) < math.pi / 6) / 2
    assert_close(report.table("pose_acc_pi_6").per_category["car"], acc, atol=1e-12)
    iou1 = box_iou_3d(oriented_box(pp["wheel"]["points"]), gp["wheel"]["box"])
    assert_close(report.table("box_iou_3d").per_part["car"]["wheel"], iou1 / 2, atol=1e-9)
    assert any("no points" in n for n in report.notes)


def test_unknown_gt_part_and_mismatched_part_names(tmp_path):
    make_dataset(tmp_path, images=1)
    rec = json.loads((tmp_path / "gt" / "car" / "im0.json").read_text())
    rec["parts"]["hood"] = rec["parts"]["wheel"]
    (tmp_path / "gt" / "car" / "im0.json").write_text(json.dumps(rec))
    rec = json.loads((tmp_path / "pred" / "plane" / "im0.json").read_text())
    rec["part_names"] = ["tail", "wing"]
    (tmp_path / "pred" / "plane" / "im0.json").write_text(json.dumps(rec))
    with pytest.raises(LabelMismatchError) as err:
        evaluate_part321(tmp_path / "gt", tmp_path / "pred")
    assert "hood" in str(err.value) and "plane/im0.json" in str(err.value)
