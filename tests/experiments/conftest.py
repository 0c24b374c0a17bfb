"""Fixtures shared by the batch-inference tests: a tiny PartSTAD model and toy PartNetE shapes to segment."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from partlift.cli import cli

TEST_SEEDS = tuple(range(3, 15))  # 12 toy tables to segment


def partstad_fixtures() -> ModuleType:
    """tests/partstad/fixtures.py, loaded by path (test folders are not packages)."""
    path = Path(__file__).parents[1] / "partstad" / "fixtures.py"
    spec = importlib.util.spec_from_file_location("partstad_fixtures", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def toy_shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<root>/Table/t<seed>/{pc.ply,label.npy}`` and ``<root>/meta.json``: a PartNetE ground-truth root.

    4000 points per table: segmenting one takes a noticeable moment (a fraction of a second), so a run
    can be interrupted half way."""
    from partlift.geometry.io import save_partnete_shape

    fixtures = partstad_fixtures()
    root = tmp_path_factory.mktemp("toy_partnete")
    for s in TEST_SEEDS:
        save_partnete_shape(fixtures.toy_table(4000, seed=s, name=f"t{s}"), root / "Table" / f"t{s}")
    (root / "meta.json").write_text(json.dumps({"Table": list(fixtures.TABLE_PARTS)}))
    return root


@pytest.fixture(scope="session")
def tiny_partstad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PartSTAD model folder trained for a few steps on toy tables (it segments, badly)."""
    base = tmp_path_factory.mktemp("tiny_partstad")
    data = partstad_fixtures().write_toy_partnete(base / "data", {"few_shot": (0, 1), "val": (2,)})
    res = CliRunner().invoke(cli, ["train", "partstad", "--data", str(data), "--category", "Table", "--out",
                                   str(base / "model"), "--epochs", "2", "--image-size", "48", "--proposer-steps",
                                   "3", "--no-progress"])
    assert res.exit_code == 0, res.output
    return base / "model"


@pytest.fixture(scope="session")
def toy_keys(toy_shapes: Path) -> list[str]:
    """The batch keys of the toy shapes (``Table/t<seed>``), sorted."""
    return sorted(f"Table/t{s}" for s in TEST_SEEDS)
