"""The PartSTAD benchmark's tables and the fit-on-test upper-bound row."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from partlift.experiments.partstad_benchmark import (
    ALL_METHODS,
    INSTANCE_METHODS,
    UPPER_BOUND,
    _method_config,
    fit_shapes,
    format_bench,
)


def test_upper_bound_fits_and_selects_on_the_test_shapes():
    few, val, test = ["f"], ["v"], ["t1", "t2"]
    assert fit_shapes(UPPER_BOUND, few, val, test) == (test, test)
    for name in ALL_METHODS:
        if name != UPPER_BOUND:
            assert fit_shapes(name, few, val, test) == (few, val)


def _fake_result(methods):
    cats = ("Kettle", "Chair")
    entry = {"miou": 0.5, "map50_part_aware": 0.4, "map50_part_agnostic": 0.3,
             "per_category": {c: {"miou": 0.5, "map50_part_aware": 0.4, "map50_part_agnostic": 0.3} for c in cats}}
    timing = {"inference_s_per_shape": 0.5, "inference_stages_s": {"render": 0.01}, "proposer_train_s": 10.0,
              "preprocess_s": 2.0, "total_s": 30.0,
              "per_category": {c: {"weights_fit_s": {"partstad": 1.0}} for c in cats}}
    return {"methods": {m: entry for m in methods}, "timing": timing}


def test_upper_bound_is_a_semantic_row_only():
    text = format_bench(_fake_result(ALL_METHODS))
    tables = text.split("Table ")
    assert "(bound) fit on test" in tables[1]
    assert all("(bound)" not in t for t in tables[2:])
    assert UPPER_BOUND not in INSTANCE_METHODS
    # every method has its own row in Table 1
    assert sum(line.startswith(("SATR", "PartSLIP", "w/o", "PartSTAD", "CE", "conf", "(bound)"))
               for line in tables[1].splitlines()) == len(ALL_METHODS)


# ------------------------------------------------------------------ the command end to end, all methods

def _toy_partnete(root: Path) -> Path:
    """A tiny PartNetE-layout Table dataset (2 few-shot, 1 validation, 2 test shapes)."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "partstad"))
    from fixtures import write_toy_partnete

    return write_toy_partnete(root, {"few_shot": (0, 1), "val": (2,), "test": (3, 4)})


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """`partlift bench partstad` on the toy data with every method (a few steps each), run twice."""
    from click.testing import CliRunner

    from partlift.cli import cli
    from partlift.experiments import partstad_benchmark as bench_partstad

    root = _toy_partnete(tmp_path_factory.mktemp("partnete"))
    work = tmp_path_factory.mktemp("bench")
    mp = pytest.MonkeyPatch()
    mp.setattr(bench_partstad, "embedded_points_root", lambda category, progress, split="random": root)
    args = ["bench", "partstad", "--categories", "Table", "--test-shapes", "2", "--proposer-steps", "4",
            "--epochs", "2", "--workdir", str(work / "wd"), "--no-progress"]
    first = CliRunner().invoke(cli, args + ["--json", str(work / "a.json")])
    second = CliRunner().invoke(cli, args + ["--json", str(work / "b.json")])
    mp.undo()
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    return root, work, first.output, second.output


def test_bench_json_has_every_method_and_metric(bench_run):
    _, work, out, _ = bench_run
    res = json.loads((work / "a.json").read_text())
    assert res["settings"]["proposer_steps"] == 4 and res["settings"]["epochs"] == 2
    assert res["settings"]["categories"] == ["Table"]
    for name in ("partstad", "partslip", "satr", "satr_sp", "wo_weights", "wo_masks", "ce_loss", "conf_weights"):
        entry = res["methods"][name]
        assert 0.0 <= entry["miou"] <= 1.0, name
        assert set(entry["per_category"]) == {"Table"}
        assert entry["per_category"]["Table"]["miou"] == pytest.approx(entry["miou"])  # one category
        if name in INSTANCE_METHODS:
            assert 0.0 <= entry["map50_part_aware"] <= 1.0 and 0.0 <= entry["map50_part_agnostic"] <= 1.0
        else:
            assert entry["map50_part_aware"] is None  # SATR has no instances
    assert res["timing"]["inference_s_per_shape"] > 0
    assert {"render", "proposals", "superpoints", "voting"} <= set(res["timing"]["inference_stages_s"])
    for title in ("Table 1", "Table 2", "Table 3", "Time (s)"):
        assert title in out
    for label in ("SATR+SP", "PartSLIP", "w/o weight pred.", "w/o masks", "PartSTAD", "CE loss", "conf. as weight"):
        assert f"\n{label} " in out


def test_bench_scores_agree_with_partlift_eval(bench_run, tmp_path):
    """The benchmark's numbers are the eval command's on the PartNetE predictions it writes."""
    from partlift.metrics.partstad_eval import evaluate_partstad

    root, work, _, _ = bench_run
    res = json.loads((work / "a.json").read_text())
    gt = tmp_path / "gt"
    shutil.copytree(root / "test", gt)
    shutil.copy(root / "meta.json", gt / "meta.json")
    for name in ("partstad", "partslip", "ce_loss"):
        rep = evaluate_partstad(gt, work / "wd" / "predictions" / name)
        for key in ("miou", "map50_part_aware", "map50_part_agnostic"):
            assert rep.table(key).overall == pytest.approx(res["methods"][name][key], abs=1e-9), (name, key)


def test_bench_rerun_reuses_everything_and_gives_the_same_numbers(bench_run):
    _, work, _, second = bench_run
    a = json.loads((work / "a.json").read_text())["methods"]
    b = json.loads((work / "b.json").read_text())["methods"]
    assert a == b
    assert "reusing the trained proposer" in second
    assert "done in" not in second  # no method was refitted


def test_ablation_configs_change_one_thing_each():
    from partlift.partstad.config import PartSTADConfig

    base = PartSTADConfig()
    cfg = {m: _method_config(base, m) for m in ALL_METHODS}
    assert cfg["partstad"] == base and base.weights == "learned" and base.use_masks and base.train.loss == "mriou"
    assert (cfg["partslip"].weights, cfg["partslip"].use_masks) == ("none", False)
    assert (cfg["wo_weights"].weights, cfg["wo_weights"].use_masks) == ("none", True)
    assert (cfg["wo_masks"].weights, cfg["wo_masks"].use_masks) == ("learned", False)
    assert cfg["ce_loss"] == replace(base, train=replace(base.train, loss="ce"))
    assert cfg["conf_weights"] == replace(base, weights="confidence")


# ------------------------------------------------------------------ presets, options, the style split

def test_presets_and_methods():
    from partlift.errors import ConfigError
    from partlift.experiments.partstad_benchmark import (
        PARTNETE_CATEGORIES,
        USER_CATEGORIES,
        BenchSettings,
        preset_settings,
    )

    user = preset_settings("user")
    assert user.categories == USER_CATEGORIES == ("car", "bus", "airliner", "mountain_bike", "tricycle")
    assert user.methods == ("partslip", "partstad") and user.split == "random"
    full = preset_settings("full")
    assert full.categories == PARTNETE_CATEGORIES and full.methods == ALL_METHODS
    assert preset_settings("quick").categories == ("Kettle", "Chair")
    assert BenchSettings(methods=("partstad", "satr")).methods == ("satr", "partstad")  # table order
    with pytest.raises(ConfigError, match="'nope'"):
        BenchSettings(methods=("partstad", "nope"))
    with pytest.raises(ConfigError, match="unknown preset"):
        preset_settings("huge")
    with pytest.raises(ConfigError, match="split"):
        BenchSettings(split="styles")  # type: ignore[arg-type]  # a bad value on purpose


@pytest.fixture
def captured(monkeypatch, tmp_path):
    """The settings `bench partstad` would run (run_bench replaced by a recorder)."""
    from partlift.commands import partstad as cmd

    seen = []

    def fake_run(settings, wd, progress, log):
        seen.append(settings)
        return _fake_result(settings.methods)

    monkeypatch.setattr(cmd, "run_bench", fake_run)
    monkeypatch.setattr(cmd, "format_bench", lambda result, per_part: "tables")
    return seen


def _bench_cli(*args):
    from click.testing import CliRunner

    from partlift.cli import cli

    return CliRunner().invoke(cli, ["bench", "partstad", *args, "--no-progress"])


def test_bench_options_reach_the_settings(captured, tmp_path):
    res = _bench_cli("--preset", "user", "--split", "style", "--workdir", str(tmp_path / "a"))
    assert res.exit_code == 0, res.output
    s = captured[-1]
    assert s.categories[0] == "car" and s.methods == ("partslip", "partstad") and s.split == "style"
    res = _bench_cli("--preset", "user", "--categories", "car", "--methods", "partstad", "--test-shapes", "3",
                     "--workdir", str(tmp_path / "b"))
    assert res.exit_code == 0, res.output
    s = captured[-1]
    assert (s.categories, s.methods, s.test_shapes, s.split) == (("car",), ("partstad",), 3, "random")
    res = _bench_cli("--quick", "--workdir", str(tmp_path / "c"))
    assert res.exit_code == 0 and captured[-1].categories == ("Kettle", "Chair")


def test_bad_bench_options_are_one_line_errors(captured, tmp_path):
    res = _bench_cli("--methods", "partstad,bogus", "--workdir", str(tmp_path / "a"))
    assert res.exit_code == 2 and "bogus" in res.output and "--methods" in res.output, res.output
    res = _bench_cli("--split", "sideways", "--workdir", str(tmp_path / "b"))
    assert res.exit_code == 2 and "sideways" in res.output
    res = _bench_cli("--quick", "--preset", "user", "--workdir", str(tmp_path / "c"))
    assert res.exit_code == 2
    assert not captured


def test_per_part_and_style_holdout_tables():
    from partlift.experiments.partstad_benchmark import format_per_part, format_style_holdout

    def entry(v):
        return {"miou": v, "per_category": {"car": {"miou": v, "per_part_miou": {"wheel_front_left": v,
                                                                                 "frame": None}}}}

    ins = {"partslip": entry(0.5), "partstad": entry(0.8)}
    text = format_per_part(ins)
    lines = text.splitlines()
    assert lines[1].split() == ["car", "PartSLIP", "PartSTAD"]
    assert lines[3].split() == ["wheel_front_left", "50.0", "80.0"] and lines[4].split() == ["frame", "-", "-"]
    result = {"methods": ins, "heldout": {"methods": {"partslip": entry(0.25), "partstad": entry(0.7)}},
              "style_holdout": {"car": {"key": "body", "value": "hatchback"}}}
    row = next(line for line in format_style_holdout(result).splitlines() if line.startswith("car"))
    assert row.split() == ["car", "body=hatchback", "50.0", "25.0", "25.0", "80.0", "70.0", "10.0"]


@pytest.fixture(scope="module")
def style_run(tmp_path_factory):
    """`bench partstad --split style` on toy data holding a test_heldout split (a few steps)."""
    from click.testing import CliRunner

    from partlift.cli import cli
    from partlift.experiments import partstad_benchmark as bench_partstad

    sys.path.insert(0, str(Path(__file__).parents[1] / "partstad"))
    from fixtures import write_toy_partnete

    root = write_toy_partnete(tmp_path_factory.mktemp("style"), {"few_shot": (0, 1), "val": (2,), "test": (3, 4),
                                                                 "test_heldout": (5, 6, 7)})
    (root / "style_split").mkdir()
    (root / "style_split" / "Table.json").write_text(json.dumps({"key": "top", "value": "round"}))
    work = tmp_path_factory.mktemp("bench-style")
    mp = pytest.MonkeyPatch()
    seen = []

    def fake_root(category, progress, split="random"):
        seen.append(split)
        return root

    mp.setattr(bench_partstad, "embedded_points_root", fake_root)
    args = ["bench", "partstad", "--categories", "Table", "--split", "style", "--methods", "partslip,partstad",
            "--proposer-steps", "4", "--epochs", "2", "--workdir", str(work / "wd"), "--no-progress"]
    first = CliRunner().invoke(cli, args + ["--json", str(work / "a.json")])
    second = CliRunner().invoke(cli, args + ["--json", str(work / "b.json")])
    mp.undo()
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert set(seen) == {"style"}
    return work, first.output, second.output


def test_style_split_bench_scores_both_test_sets(style_run):
    work, out, second = style_run
    res = json.loads((work / "a.json").read_text())
    assert res["settings"]["split"] == "style" and set(res["methods"]) == {"partslip", "partstad"}
    assert set(res["heldout"]["methods"]) == {"partslip", "partstad"}
    assert res["style_holdout"] == {"Table": {"key": "top", "value": "round"}}
    for name in ("partslip", "partstad"):
        assert len(list((work / "wd" / "predictions" / name / "Table").iterdir())) == 2
        assert len(list((work / "wd" / "predictions-test_heldout" / name / "Table").iterdir())) == 3
    assert "Style hold-out" in out and "top=round" in out and "Per-part IoU (%) - held-out style" in out
    assert json.loads((work / "b.json").read_text())["heldout"] == res["heldout"]
    assert "done in" not in second  # both test sets' results reused
