"""`partlift make-dataset images | points` on tiny configurations."""

from __future__ import annotations

import json

from click.testing import CliRunner

from partlift.cli import cli, main


def test_images_command(tmp_path):
    out = tmp_path / "hammer"
    args = ["make-dataset", "images", "--category", "hammer", "--out", str(out), "--n-train-meshes", "1",
            "--n-test-meshes", "1", "--views-per-mesh", "2", "--template-views", "1", "--size", "32",
            "--pose-preset", "1", "--theta-std", "3", "--set", "supersample=1", "--set", "background.photo_prob=0",
            "--no-progress"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "5 images of hammer" in res.output
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["supersample"] == 1 and cfg["background"]["photo_prob"] == 0
    assert cfg["pose"]["theta_std_deg"] == 3 and cfg["pose"]["distance_std"] == 0.5  # preset 1 keeps 3D-DST's jitter
    assert len(list((out / "test").rglob("image/*.png"))) == 2


def test_points_command(tmp_path):
    args = ["make-dataset", "points", "--category", "Bottle", "--category", "Bucket", "--out", str(tmp_path),
            "--n-few-shot", "1", "--n-val", "0", "--n-test", "1", "--n-points", "300", "--no-progress"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert set(json.loads((tmp_path / "meta.json").read_text())) == {"Bottle", "Bucket"}
    assert len((tmp_path / "split" / "test.txt").read_text().split()) == 2


def test_bad_input_is_one_line_exit_2(tmp_path, capsys):
    try:
        main(["make-dataset", "images", "--category", "no_such_thing", "--out", str(tmp_path / "x")])
    except SystemExit as exc:
        assert exc.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown shape category 'no_such_thing'") and err.count("\n") == 1
    res = CliRunner().invoke(cli, ["make-dataset", "images", "--category", "car", "--out", str(tmp_path),
                                   "--set", "nonsense=1"])
    assert res.exit_code != 0 and "unknown field 'nonsense'" in str(res.exception)
