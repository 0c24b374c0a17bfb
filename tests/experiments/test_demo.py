"""`partlift demo` end to end at a tiny size: report contents, resuming, `partlift report`, the browser."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from browser import open_page
from partlift.cli import cli
from partlift.experiments import demo as demo_module
from partlift.experiments.demo import DemoConfig, demo_config, run_demo
from partlift.experiments.partstad_benchmark import BenchSettings as PartSTADSettings
from partlift.part321.baseline2d import Seg2DTrainConfig
from partlift.part321.correspondence import PretrainConfig
from partlift.part321.deformation import DeformationConfig
from partlift.part321.feature_training import FeatureTrainingConfig
from partlift.part321.inference import InferenceConfig
from partlift.part321.model import Part321Config
from partlift.report.demo_report import build_report

STAGES = ["partstad", "partstad_gallery", "part321", "part321_gallery"]


def tiny_config() -> DemoConfig:
    """One category per method, a few optimisation steps: minutes -> seconds."""
    base = demo_config(quick=True)
    model = Part321Config(
        pretrain=PretrainConfig(shapes_per_category=2, steps=5),
        deformation=DeformationConfig(steps=20),
        training=FeatureTrainingConfig(epochs=1),
        inference=InferenceConfig(pose_steps=4, part_steps=4, elevation_samples=2, azimuth_samples=4,
                                  theta_samples=1, distance_factors=(1.0,)),
    )
    p321 = replace(base.part321, categories=("kettle",), test_images=2, n_points=256, model=model,
                   baseline=Seg2DTrainConfig(epochs=1),
                   dataset={"n_train_meshes": 2, "n_test_meshes": 1, "views_per_mesh": 3, "template_views": 3})
    pst = PartSTADSettings(categories=("Kettle",), test_shapes=2, proposer_steps=10, epochs=3, timing_shapes=1)
    return replace(base, partstad=pst, part321=p321, partstad_methods=("partslip", "partstad"),
                   gallery_shapes=1, gallery_images=1)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("PARTLIFT_CACHE", str(tmp_path_factory.mktemp("cache")))
    run_dir = tmp_path_factory.mktemp("demo") / "run"
    cfg = tiny_config()
    calls = {"part321": 0}
    real = demo_module._part321_stage

    def interrupted_once(*args, **kwargs):
        calls["part321"] += 1
        if calls["part321"] == 1:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C during Part321
        return real(*args, **kwargs)

    mp.setattr(demo_module, "_part321_stage", interrupted_once)
    logs: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        run_demo(cfg, run_dir, progress=False, log=logs.append)
    first_done = sorted(p.stem for p in (run_dir / "stages").glob("*.json"))
    run_demo(cfg, run_dir, progress=False, log=logs.append)
    report = build_report(run_dir)
    yield {"dir": run_dir, "report": report, "cfg": cfg, "first_done": first_done, "logs": logs, "calls": calls}
    mp.undo()


def test_interrupted_demo_resumes_where_it_stopped(demo_run):
    assert demo_run["first_done"] == ["partstad", "partstad_gallery"]
    info = json.loads((demo_run["dir"] / "run.json").read_text())
    assert info["reused_stages"] == ["partstad", "partstad_gallery"]
    assert sorted(info["stage_seconds"]) == sorted(STAGES)
    assert demo_run["calls"]["part321"] == 2


def test_rerun_reuses_every_stage(demo_run, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished stage was recomputed")

    for name in ("_partstad_stage", "_partstad_gallery", "_part321_stage", "_part321_gallery"):
        monkeypatch.setattr(demo_module, name, must_not_run)
    run_demo(demo_run["cfg"], demo_run["dir"], progress=False, log=lambda s: None)
    build_report(demo_run["dir"])  # as `partlift demo` does after the stages
    info = json.loads((demo_run["dir"] / "run.json").read_text())
    assert info["reused_stages"] == STAGES


def test_report_holds_tables_galleries_viewers_and_provenance(demo_run):
    run_dir = demo_run["dir"]
    page = demo_run["report"].read_text()
    pst = json.loads((run_dir / "partstad" / "results.json").read_text())
    p321 = json.loads((run_dir / "part321" / "results.json").read_text())
    # our numbers, formatted as the table shows them
    assert f"<td>{100 * pst['methods']['partstad']['miou']:.1f}</td>" in page
    assert f"<td>{100 * pst['methods']['partslip']['miou']:.1f}</td>" in page
    v = p321["methods"]["part321"]["chamfer"]
    assert f"<td>{v:.1f}</td>" in page
    # the papers' numbers, styled apart
    assert '<td class="paper">65.0</td>' in page  # PartSTAD mIoU, Table 1
    assert '<td class="paper">32.5</td>' in page  # Part321 3D box IoU, Table 5
    # every image the page links exists inside the run folder
    srcs = re.findall(r'<img src="([^"]+)"', page)
    cfg = demo_run["cfg"]
    pst_rows = cfg.gallery_shapes * len(cfg.gallery_views) * len(cfg.partstad.categories)
    p321_rows = cfg.gallery_images * len(cfg.part321.categories)
    assert len(srcs) == 4 * pst_rows + 5 * p321_rows  # Part321 rows add the fit's outline
    assert sum("_fit.png" in s for s in srcs) == p321_rows
    for s in srcs:
        assert (run_dir / s).is_file(), s
    assert page.count('class="pl-viewer"') >= 3  # PartSTAD prediction + ground truth, Part321 parts
    assert json.loads((run_dir / "run.json").read_text())["provenance"]["packages"]["numpy"] == np.__version__
    assert "git commit" in page


def test_gallery_images_show_the_labels(demo_run):
    run_dir = demo_run["dir"]
    gal = json.loads((run_dir / "partstad" / "gallery" / "gallery.json").read_text())
    entry = gal[0]
    with np.load(run_dir / entry["points"]) as z:
        gt = z["gt"]
    img = np.asarray(Image.open(run_dir / entry["views"][0]["ground_truth"]).convert("RGB"))
    from partlift.report.figures import palette

    pal = palette(len(entry["part_names"]))
    present = [k for k in np.unique(gt) if k >= 0]
    # the colour of at least one ground-truth part appears in the ground-truth picture
    assert any((img == pal[k]).all(-1).any() for k in present)


def test_partlift_report_rebuilds_without_recomputing(demo_run, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(demo_run["dir"], copy)
    (copy / "report.html").unlink()

    def must_not_run(*args, **kwargs):
        raise AssertionError("report recomputed results")

    for name in ("_partstad_stage", "_part321_stage"):
        monkeypatch.setattr(demo_module, name, must_not_run)
    res = CliRunner().invoke(cli, ["report", str(copy)])
    assert res.exit_code == 0, res.output
    assert (copy / "report.html").is_file()
    strip = re.compile(r"<h1>.*?</h1>")  # identical page
    a = strip.sub("", (copy / "report.html").read_text())
    b = strip.sub("", demo_run["report"].read_text())
    assert a == b


def test_report_of_a_folder_that_is_not_a_run(tmp_path):
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "partlift.cli", "report", str(tmp_path)], capture_output=True,
                         text=True)
    assert run.returncode == 2
    assert "not a partlift demo run" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_demo_report_in_a_real_browser(demo_run):
    load = open_page(demo_run["report"], "demo_report.png")
    assert load.console == [], load.console
    drawn = [int(n) for n in re.findall(r'data-drawn="(\d+)"', load.dom)]
    assert len(drawn) >= 3 and min(drawn) > 0, drawn
    img = np.asarray(Image.open(load.screenshot).convert("RGB"))
    assert img.std() > 10  # not a blank page


def test_demo_presets_cover_two_categories_per_method():
    for quick in (False, True):
        cfg = demo_config(quick=quick)
        assert len(cfg.partstad.categories) >= 2 and len(cfg.part321.categories) >= 2
        assert "partstad" in cfg.partstad_methods and "partslip" in cfg.partstad_methods
        json.dumps(cfg.to_dict())  # saved beside every run


def test_demo_seed_reaches_both_methods():
    cfg = demo_config(quick=False, seed=7)
    assert cfg.seed == 7 and cfg.partstad.seed == 7 and cfg.part321.model.seed == 7
    assert demo_config(quick=False).part321 == demo_config(quick=False, seed=0).part321


def test_report_of_an_unfinished_run_says_how_to_continue(tmp_path):
    from partlift.errors import ReadError
    from partlift.experiments.demo import load_run_info

    (tmp_path / "stages").mkdir()
    with pytest.raises(ReadError, match="unfinished demo run"):
        load_run_info(tmp_path)
