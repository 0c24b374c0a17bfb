"""`partlift eval partstad|part321` on small generated directories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from partlift.cli import cli, main
from partlift.errors import ReadError
from partlift.geometry.boxes import Box3D
from partlift.geometry.io import save_partnete_labels
from partlift.metrics.eval_formats import save_part321_record, save_partnete_prediction


def partnete_dirs(root: Path) -> None:
    rng = np.random.default_rng(0)
    for cat, p in (("Chair", 5), ("Bottle", 1)):
        for s in range(2):
            n = 60
            sem = rng.integers(-1, p, n)
            ins = np.where(sem >= 0, sem, -1)
            (root / "gt" / cat / f"{s}").mkdir(parents=True)
            save_partnete_labels(root / "gt" / cat / f"{s}" / "label.npy", sem, ins)
            psem = np.where(rng.random(n) < 0.9, sem, -1)
            save_partnete_prediction(root / "pred" / cat / f"{s}", psem, np.where(psem >= 0, psem, -1),
                                     np.arange(p), rng.random(p))


def part321_dirs(root: Path) -> None:
    box = Box3D(np.zeros(3), np.array([0.4, 0.2, 0.1]), np.eye(3))
    # grid spacing 0.1 >> the 0.01 shift of the prediction: each point's nearest neighbour is its shifted copy
    pts = np.stack(np.meshgrid([-0.1, 0.0, 0.1], [-0.1, 0.1], [0.0, 0.1], indexing="ij"), -1).reshape(-1, 3)
    mask = np.array([[0, 0, -1], [1, 1, -1]])
    save_part321_record(root / "gt" / "car" / "a.json", (0.1, 0.2, 0.0), {"wheel": {"points": pts, "box": box}},
                        mask, ["wheel", "door"])
    save_part321_record(root / "pred" / "car" / "a.json", (0.15, 0.2, 0.0), {"wheel": {"points": pts + 0.01}},
                        np.array([[0, -1, -1], [1, 1, 1]]))


def test_partstad_prints_tables_and_writes_json(tmp_path):
    partnete_dirs(tmp_path)
    out = tmp_path / "res.json"
    r = CliRunner().invoke(cli, ["eval", "partstad", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"),
                                 "--json", str(out), "--per-part"])
    assert r.exit_code == 0, r.output
    for word in ("Chair", "Bottle", "mean", "miou", "map50_part_aware", "map50_part_agnostic", "Chair/seat"):
        assert word in r.output
    d = json.loads(out.read_text())
    assert d["protocol"] == "partnete" and d["protocol_version"]
    assert d["options"]["allow_missing"] is False and d["options"]["iou_threshold"] == 0.5
    assert set(d["per_category"]) == {"Chair", "Bottle"}
    assert set(d["per_category"]["Chair"]) == {"miou", "map50_part_aware", "map50_part_agnostic"}
    assert "lid" in d["per_part"]["Bottle"]
    assert 0 < d["overall"]["miou"] <= 1


def test_partstad_missing_prediction_fails_then_allow_missing(tmp_path, capsys, monkeypatch):
    partnete_dirs(tmp_path)
    (tmp_path / "pred" / "Chair" / "1" / "label.npy").unlink()
    (tmp_path / "pred" / "Bottle" / "0" / "label.npy").unlink()
    args = ["eval", "partstad", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred")]
    r = CliRunner().invoke(cli, args)
    assert isinstance(r.exception, ReadError)
    # through the real entry point: one error report, exit status 2, both files named
    monkeypatch.setattr(sys, "argv", ["partlift"])
    with pytest.raises(SystemExit) as ex:
        main(args)
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 2 problem(s)") and "Chair/1/label.npy" in err and "Bottle/0/label.npy" in err
    r = CliRunner().invoke(cli, [*args, "--allow-missing", "--json", str(tmp_path / "o.json")])
    assert r.exit_code == 0, r.output
    assert "scored as empty" in r.output
    d = json.loads((tmp_path / "o.json").read_text())
    assert d["options"]["allow_missing"] is True
    assert sorted(d["counts"]["missing_predictions"]) == ["Bottle/0", "Chair/1"]


def test_part321_cli(tmp_path):
    part321_dirs(tmp_path)
    out = tmp_path / "r.json"
    r = CliRunner().invoke(cli, ["eval", "part321", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"),
                                 "--json", str(out), "--chamfer-unsquared", "--chamfer-reduction", "mean",
                                 "--box-fit", "aabb"])
    assert r.exit_code == 0, r.output
    assert "car" in r.output and "pose_acc_pi_6" in r.output and "unsquared" in r.output
    d = json.loads(out.read_text())
    assert d["protocol"] == "part321" and d["protocol_version"]
    assert d["options"]["chamfer"] == {"squared": False, "reduction": "mean", "scale": 100.0}
    assert d["options"]["box_fit"] == "aabb"
    assert d["overall"]["pose_acc_pi_6"] == 1.0
    # pred points = gt + 0.01 on every axis: every nearest distance is sqrt(3) * 0.01
    assert d["per_part"]["car"]["wheel"]["chamfer"] == pytest.approx(100 * np.sqrt(3) * 0.01, rel=1e-9)
    assert d["per_part"]["car"]["door"]["box_iou_3d"] is None  # door not in this image's ground truth
    assert d["per_part"]["car"]["door"]["miou_2d"] == pytest.approx(2 / 3)


def test_box_min_size_default_matches_library():
    from partlift.commands.eval import BOX_MIN_SIZE
    from partlift.metrics.box3d import DEFAULT_MIN_SIZE

    assert BOX_MIN_SIZE == DEFAULT_MIN_SIZE
