"""CLI smoke tests: train on a user's own category (template + unannotated meshes), then detect."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from partlift.cli import cli
from partlift.geometry.io import save_part_mesh
from partlift.shapes.registry import generate


@pytest.fixture(scope="module")
def user_category(tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    save_part_mesh(generate("hatchet", 0), root / "template.ply")
    (root / "meshes").mkdir()
    for s in (1, 2):
        m = generate("hatchet", s)
        save_part_mesh(m.copy(labels=np.full(len(m.vertices), -1), part_names=()), root / "meshes" / f"m{s}.ply")
        (root / "meshes" / f"m{s}.labels.json").unlink(missing_ok=True)
    return root


def test_train_own_category_then_detect(user_category, tmp_path):
    runner = CliRunner()
    model = tmp_path / "model"
    res = runner.invoke(cli, ["train", "part321", "--template", str(user_category / "template.ply"),
                              "--meshes", str(user_category / "meshes"), "--out", str(model), "--quick",
                              "--epochs", "1", "--views", "2", "--size", "64", "--no-progress"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert (model / "config.json").is_file() and (model / "neural_mesh.pt").is_file()
    cfg = json.loads((model / "config.json").read_text())
    assert cfg["training"]["epochs"] == 1
    img = np.full((64, 64, 3), 120, dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "img.png")
    res = runner.invoke(cli, ["detect", str(model), str(tmp_path / "img.png"), "--steps", "3"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = json.loads((tmp_path / "img-part321" / "img_part321.json").read_text())
    assert set(out["parts"]) == {"handle", "head"}
    assert {"azimuth", "elevation", "theta", "distance"} <= set(out["pose"])
    overlay = np.asarray(Image.open(tmp_path / "img-part321" / "img_part321.png"))
    assert overlay.shape == (64, 64, 3)


def test_train_needs_both_template_and_meshes(user_category):
    res = CliRunner().invoke(cli, ["train", "part321", "--template", str(user_category / "template.ply")])
    assert res.exit_code != 0
    assert "--meshes" in str(res.exception) + res.output
