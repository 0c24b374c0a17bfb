"""The README's "Your own category" walk-through, command by command, on a tiny folder of meshes."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from partlift.cli import main
from partlift.geometry.io import save_part_mesh
from partlift.shapes.registry import generate

README = Path(__file__).resolve().parents[1] / "README.md"

# appended to each documented command: tiny counts and training, so CI runs the same commands in seconds
TINY = {
    ("make-dataset", "points"): ["--n-few-shot", "2", "--n-val", "1", "--n-test", "2", "--n-points", "1024",
                                 "--set", "visibility_views=6", "--set", "visibility_size=64", "--no-progress"],
    ("train", "partstad"): ["--epochs", "2", "--proposer-steps", "2", "--image-size", "32", "--no-progress"],
    ("segment",): ["--no-progress"],
    ("make-dataset", "images"): ["--n-train-meshes", "2", "--n-test-meshes", "1", "--views-per-mesh", "2",
                                 "--template-views", "2", "--size", "64", "--no-progress"],
    ("train", "part321"): ["--quick", "--epochs", "1", "--no-progress"],
    ("detect",): ["--steps", "2", "--no-progress"],
}


def walkthrough_commands() -> list[list[str]]:
    """The `partlift ...` lines of the README section's code block, split like a shell would."""
    text = README.read_text()
    section = text.split("## Your own category", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the README section has no bash block"
    return [shlex.split(line)[1:] for line in block.group(1).splitlines() if line.startswith("partlift ")]


def _tiny(argv: list[str]) -> list[str]:
    for key in sorted(TINY, key=len, reverse=True):
        if tuple(argv[: len(key)]) == key:
            return argv + TINY[key]
    return argv


def _option_value(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.mark.timeout(900)
def test_readme_own_category_walkthrough_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    commands = walkthrough_commands()
    assert [c[0] for c in commands] == ["make-dataset", "train", "segment", "eval", "make-dataset", "train",
                                        "detect", "eval"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_meshes").mkdir()
    for i in range(6):  # a user's folder: labelled meshes, not in the unit box
        m = generate("Kettle", 500 + i)
        save_part_mesh(m.copy(vertices=(m.vertices * 3.0 + 1.0).astype(np.float32)), f"my_meshes/kettle_{i}.obj")
    save_part_mesh(generate("Kettle", 499), "my_template.obj")
    for argv in commands:
        try:
            main(_tiny(argv))
        except SystemExit as exc:
            assert not exc.code, f"`partlift {' '.join(argv)}` failed: {capsys.readouterr().err}"
    partstad = json.loads(Path("mug_partstad_scores.json").read_text())
    assert "mug" in partstad["per_category"]
    part321 = json.loads(Path("mug_part321_scores.json").read_text())
    assert "mug" in part321["per_category"]
    detections = sorted(Path("mug_detected").rglob("*_part321.json"))
    assert detections and all(json.loads(p.read_text())["distance_init"]["source"] == "camera" for p in detections)
    assert _option_value(commands[0], "--category") == "mug"
