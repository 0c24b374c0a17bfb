"""An interrupt at any file write of a training run leaves a state the next run finishes correctly.

Every file partlift later trusts as finished goes through ``partlift.geometry.atomic``. A first
instrumented clean run counts those writes (N); then for every k = 1..N a fresh run is interrupted
(KeyboardInterrupt, after part of the temporary file was written) at its k-th write, rerun without
interruption, and its outputs compared with the clean run's: the same files, equal arrays, weights
and JSON (run times aside).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import partlift.geometry.atomic as atomic

# ------------------------------------------------------------------------------------------ helpers
TIMING_KEYS = {"fit_s", "seconds", "train_seconds", "stages", "bench_train"}


class Writes:
    """Counts atomic writes; the ``fail_at``-th (or the first to a file named ``fail_on``) raises
    KeyboardInterrupt halfway through its temporary file."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None, fail_on: str | None = None) -> None:
        self.paths: list[Path] = []
        original = atomic._write_atomic

        def write(path, fn):
            self.paths.append(Path(path))
            if len(self.paths) != fail_at and Path(path).name != fail_on:
                return original(path, fn)

            def torn(fh):
                fh.write(b"half a file")
                raise KeyboardInterrupt(f"simulated interrupt at write {len(self.paths)} ({path})")

            return original(path, torn)

        monkeypatch.setattr(atomic, "_write_atomic", write)


def _drop_timings(obj):
    if isinstance(obj, dict):
        return {k: _drop_timings(v) for k, v in obj.items() if k not in TIMING_KEYS}
    if isinstance(obj, list):
        return [_drop_timings(v) for v in obj]
    return obj


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    return a == b


def _assert_same_outputs(got: Path, want: Path, context: str) -> None:
    files = {str(p.relative_to(want)) for p in want.rglob("*") if p.is_file()}
    now = {str(p.relative_to(got)) for p in got.rglob("*") if p.is_file()}
    assert now == files, f"{context}: extra {sorted(now - files)}, missing {sorted(files - now)}"
    for rel in sorted(files):
        a, b = want / rel, got / rel
        if rel.endswith(".npz"):  # zip members carry the time of writing
            with np.load(a) as za, np.load(b) as zb:
                assert za.files == zb.files, f"{context}: {rel}"
                for k in za.files:
                    assert np.array_equal(za[k], zb[k], equal_nan=True), f"{context}: {rel}[{k}] differs"
        elif rel.endswith((".pt", ".ckpt")):
            assert _same(torch.load(a, weights_only=True), torch.load(b, weights_only=True)), f"{context}: {rel}"
        elif rel.endswith(".json"):
            ja, jb = (_drop_timings(json.loads(p.read_text())) for p in (a, b))
            assert _same(ja, jb), f"{context}: {rel} differs"
        else:
            assert a.read_bytes() == b.read_bytes(), f"{context}: {rel} differs"


def _interrupt_everywhere(monkeypatch, tmp_path: Path, run: Callable[[Path, Callable[[str], None]], object]) -> list:
    """Clean run, then interrupted + resumed runs for every write; returns the resumed runs' log lines."""
    with monkeypatch.context() as m:
        clean = Writes(m)
        run(tmp_path / "clean", lambda s: None)
    n = len(clean.paths)
    assert n >= 5, clean.paths
    notes = []
    for k in range(1, n + 1):
        work = tmp_path / f"k{k}"
        with monkeypatch.context() as m:
            Writes(m, fail_at=k)
            with pytest.raises(KeyboardInterrupt):
                run(work, lambda s: None)
        assert not list(work.rglob("*.tmp")), f"write {k}: temporary files left behind"
        run(work, notes.append)  # must not crash on what the interrupt left
        _assert_same_outputs(work, tmp_path / "clean", f"interrupted at write {k} ({clean.paths[k - 1].name})")
    return notes


# ------------------------------------------------------------------------------- PartSTAD benchmark
@pytest.fixture(scope="module")
def toy_partnete(tmp_path_factory) -> Path:
    sys.path.insert(0, str(Path(__file__).parents[1] / "partstad"))
    from fixtures import write_toy_partnete

    return write_toy_partnete(tmp_path_factory.mktemp("partnete"), {"few_shot": (0,), "val": (1,), "test": (2,)})


def test_partstad_benchmark_survives_an_interrupt_at_every_write(monkeypatch, tmp_path, toy_partnete):
    from partlift.experiments import partstad_benchmark as bench

    base_config = bench._base_config
    monkeypatch.setattr(bench, "embedded_points_root", lambda category, progress, split="random": toy_partnete)
    # 48 px views, as the train partstad CLI test
    monkeypatch.setattr(bench, "_base_config", lambda s: replace(
        base_config(s), views=replace(base_config(s).views, image_size=48)))
    settings = bench.BenchSettings(categories=("Table",), test_shapes=1, proposer_steps=2, epochs=2, timing_shapes=1)

    def run(work: Path, log):
        # the proposer, the preprocessing cache, the model folder, predictions, the cached result
        return bench.run_bench(settings, work, methods=("partstad",), progress=False, log=log)["methods"]

    notes = _interrupt_everywhere(monkeypatch, tmp_path, run)
    assert any("holds an unfinished proposer" in n for n in notes), notes

    # a run with other settings, interrupted while saving its result over the first run's, must not
    # leave the first run's result JSON vouching for its arrays
    work = tmp_path / "other"
    shutil.copytree(tmp_path / "clean", work)
    other = replace(settings, epochs=3)
    with monkeypatch.context() as m:
        Writes(m, fail_on="result-partstad.json")
        with pytest.raises(KeyboardInterrupt):
            bench.run_bench(other, work, methods=("partstad",), progress=False, log=lambda s: None)
    run(work, lambda s: None)
    _assert_same_outputs(work, tmp_path / "clean", "rerun after another run's interrupted save")

    # a model folder re-saved with an interrupt at any of its writes loads as unfinished, in one line
    from partlift.errors import ReadError
    from partlift.partstad.model import PartSTAD, is_saved_model
    from partlift.partstad.proposals.learned import LearnedProposer

    folder = tmp_path / "resaved"
    shutil.copytree(tmp_path / "clean" / "Table" / "model-partstad", folder)
    model = PartSTAD.load(folder)
    with monkeypatch.context() as m:
        writes = Writes(m)
        model.save(folder)
    assert [p.name for p in writes.paths][-1] == "model.json"
    for k in range(1, len(writes.paths) + 1):
        with monkeypatch.context() as m:
            Writes(m, fail_at=k)
            with pytest.raises(KeyboardInterrupt):
                model.save(folder)
        assert not is_saved_model(folder)
        with pytest.raises(ReadError, match="unfinished PartSTAD model .*train it again") as err:
            PartSTAD.load(folder)
        assert "\n" not in str(err.value)
        if writes.paths[k - 1].name == "proposer.json":
            with pytest.raises(ReadError, match="no finished learned proposer"):
                LearnedProposer(model.part_names).load_state(folder / "proposer")


# ------------------------------------------------------------------------------- Part321 benchmark
def test_part321_training_survives_an_interrupt_at_every_write(monkeypatch, tmp_path):
    """The Part321 bench's per-category workdir: feature checkpoint, model folder, its stamp, the 2D baseline."""
    from partlift.errors import ReadError
    from partlift.experiments import part321_benchmark as bench
    from partlift.part321.baseline2d import Seg2DTrainConfig
    from partlift.part321.data import TrainingData, synthesize_training_images
    from partlift.part321.deformation import DeformationConfig
    from partlift.part321.feature_training import FeatureTrainingConfig
    from partlift.part321.inference import InferenceConfig
    from partlift.part321.model import Part321, Part321Config
    from partlift.shapes.registry import generate

    torch.set_num_threads(1)
    template = generate("hatchet", 0)
    meshes = [generate("hatchet", s) for s in (1, 2)]
    meshes = [m.copy(labels=np.full(len(m.vertices), -1), part_names=()) for m in meshes]
    images = synthesize_training_images(template, meshes, views_per_mesh=2, template_views=2, size=64, seed=0)
    monkeypatch.setattr(bench, "load_training_data", lambda root: TrainingData(template, meshes, images, "hatchet"))
    model = Part321Config(feature_dim=8, cnn_widths=(8, 8, 8, 8, 8), training=FeatureTrainingConfig(epochs=2),
                          deformation=DeformationConfig(steps=5),
                          inference=InferenceConfig(pose_steps=2, part_steps=2, distance_factors=(1.0,)))
    settings = bench.BenchSettings(categories=("hatchet",), model=model,
                                   baseline=Seg2DTrainConfig(epochs=1, width=4, depth=2))

    def run(work: Path, log):
        trained, _ = bench._train_or_load(settings, Path("unused"), work, False, log)
        bench._train_baseline(settings, Path("unused"), trained, False, log, work)
        Part321.load(work / "model")  # what the bench reuses loads

    notes = _interrupt_everywhere(monkeypatch, tmp_path, run)
    assert any("holds an unfinished model" in n for n in notes), notes

    # a run with other settings interrupted over the first run's folder, inside the model save (the
    # folder loads as unfinished) or before its stamp (the first run's stamp must not vouch for it)
    other = replace(settings, model=replace(model, training=FeatureTrainingConfig(epochs=1)))
    for fail_on in ("feature_net.pt", "model_config.json"):
        work = tmp_path / f"other-{fail_on}"
        shutil.copytree(tmp_path / "clean", work)
        with monkeypatch.context() as m:
            Writes(m, fail_on=fail_on)
            with pytest.raises(KeyboardInterrupt):
                bench._train_or_load(other, Path("unused"), work, False, lambda s: None)
        if fail_on == "feature_net.pt":
            with pytest.raises(ReadError, match="unfinished Part321 model.*train it again") as err:
                Part321.load(work / "model")
            assert "\n" not in str(err.value)
        run(work, lambda s: None)
        _assert_same_outputs(work, tmp_path / "clean", f"rerun after another run's save, interrupted at {fail_on}")
