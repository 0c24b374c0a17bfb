"""`partlift train partstad` and `partlift segment` on a tiny PartNetE-layout fixture."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixtures import write_toy_partnete

from partlift.cli import main
from partlift.geometry.io import save_part_mesh


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_toy_partnete(tmp_path_factory.mktemp("partnete"), {"few_shot": (0, 1), "val": (2,), "test": (3,)})


def _train(data_root, out, proposer: str, *extra: str):
    from click.testing import CliRunner

    from partlift.cli import cli

    res = CliRunner().invoke(cli, ["train", "partstad", "--data", str(data_root), "--category", "Table", "--out",
                                   str(out), "--proposer", proposer, "--epochs", "3", "--image-size", "48",
                                   "--no-progress", *extra])
    assert res.exit_code == 0, res.output
    assert "best epoch" in res.output
    return out


@pytest.fixture(scope="module")
def model_dir(data_root, tmp_path_factory):
    """A model with the default (learned) proposer, briefly trained: it segments unlabelled input."""
    return _train(data_root, tmp_path_factory.mktemp("model") / "m", "learned", "--proposer-steps", "4")


@pytest.fixture(scope="module")
def oracle_model_dir(data_root, tmp_path_factory):
    return _train(data_root, tmp_path_factory.mktemp("model") / "o", "noisy-oracle")


def test_model_folder(model_dir, oracle_model_dir):
    for f in ("config.json", "model.json", "weights.pt"):
        assert (model_dir / f).exists(), f
    assert (oracle_model_dir / "proposer" / "proposer.json").exists()
    cfg = json.loads((model_dir / "config.json").read_text())
    assert cfg["train"]["epochs"] == 3 and cfg["views"]["image_size"] == 48
    assert cfg["proposer"]["kind"] == "learned" and cfg["learned"]["steps"] == 4


def test_an_oracle_model_refuses_unlabelled_input(oracle_model_dir, data_root, tmp_path, capsys):
    ply = data_root / "test" / "Table" / "t3" / "pc.ply"  # a bare PLY carries no labels
    with pytest.raises(SystemExit) as e:
        main(["segment", str(oracle_model_dir), str(ply), "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "ground-truth part labels" in err and "--proposer learned" in err
    assert not (tmp_path / "o" / "pc_parts.ply").exists()


def test_unknown_category_fails_cleanly(data_root, capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "partstad", "--data", str(data_root), "--category", "Lamp", "--no-progress"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Lamp" in err and "available: Table" in err


def test_segment_point_cloud_and_mesh(model_dir, data_root, tmp_path, capsys):
    ply = data_root / "test" / "Table" / "t3" / "pc.ply"
    main(["segment", str(model_dir), str(ply), "--out", str(tmp_path / "a")])
    rep = json.loads((tmp_path / "a" / "pc_parts.json").read_text())
    assert rep["num_points"] == 400 and len(rep["labels"]) == 400
    assert set(rep["labels"]) <= {-1, 0, 1}
    assert all(0 <= i["score"] <= 1 and i["part"] in ("leg", "tabletop") for i in rep["instances"])
    assert (tmp_path / "a" / "pc_views.png").exists()
    head = (tmp_path / "a" / "pc_parts.ply").read_bytes()[:400]
    assert b"property int label" in head and b"element vertex 400" in head
    # a mesh input is sampled
    import trimesh

    from partlift.geometry.partmesh import PartMesh

    box = trimesh.creation.box((1.0, 0.2, 0.6))
    save_part_mesh(PartMesh(np.asarray(box.vertices), np.asarray(box.faces), name="box"), tmp_path / "box.obj")
    main(["segment", str(model_dir), str(tmp_path / "box.obj"), "--out", str(tmp_path / "b"), "--points", "300"])
    rep = json.loads((tmp_path / "b" / "box_parts.json").read_text())
    assert rep["num_points"] == 300 and rep["input_kind"].startswith("mesh")
    # a category the model was not trained for
    with pytest.raises(SystemExit) as e:
        main(["segment", str(model_dir), str(ply), "--category", "Chair", "--out", str(tmp_path / "c")])
    assert e.value.code == 2 and "trained for category 'Table'" in capsys.readouterr().err


def test_validation_split_is_selectable(data_root, tmp_path):
    """PartNetE ships no val/: PartSTAD picked its epoch on shapes of test/ (--val-split test)."""
    from click.testing import CliRunner

    from partlift.cli import cli

    base = ["train", "partstad", "--data", str(data_root), "--category", "Table", "--proposer", "oracle",
            "--epochs", "2", "--image-size", "32", "--no-progress"]
    res = CliRunner().invoke(cli, base + ["--out", str(tmp_path / "a"), "--val-split", "test", "--val-shapes", "1",
                                          "--superpoint-reg", "0.2"])
    assert res.exit_code == 0, res.output
    assert "1 validation shapes" in res.output and "val mIoU" in res.output
    hist = json.loads((tmp_path / "a" / "model.json").read_text())["history"]
    assert all(np.isfinite(h["val_miou"]) for h in hist)
    assert json.loads((tmp_path / "a" / "config.json").read_text())["superpoints"]["reg"] == 0.2
    res = CliRunner().invoke(cli, base + ["--out", str(tmp_path / "b"), "--val-split", "nothing"])
    assert res.exit_code == 0, res.output
    assert "no nothing/Table shapes" in res.output and "the last epoch is kept" in res.output
