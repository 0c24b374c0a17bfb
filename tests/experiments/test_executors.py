"""Executors: the local process pool and Ray run the same items with the same results.

One local Ray session (2 CPUs, no dashboard) serves every Ray test of this module and is shut down
at its end. Ray workers import this module by name to run its task functions, so it is put on
their PYTHONPATH.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from partlift.cli import main
from partlift.errors import ReadError
from partlift.experiments.batch import BatchItem, BatchManifest, run_batch
from partlift.experiments.executors import Executor, LocalExecutor, RayExecutor, Shared

ray = pytest.importorskip("ray")  # the 'dist' extra (make setup installs it)


@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), *sys.path]))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
        try:
            yield
        finally:
            ray.shutdown()


# ------------------------------------------------------------------------ task functions (run in workers)
def load_state(payload: dict[str, Any]) -> dict[str, Any]:
    with open(payload["log"], "a") as fh:  # one line per load
        fh.write(f"{os.getpid()}\n")
    return {"pid": os.getpid(), "k": payload["k"]}


def scaled(state: dict[str, Any], item: int) -> tuple[int, int]:
    if item == 3:
        raise ReadError(f"item {item}: unreadable input")
    if item == 5:
        raise ValueError("a bug")
    return state["pid"], item * state["k"]


def write_item(state: dict[str, str], item: BatchItem) -> dict[str, Any]:
    """Writes <out>/<key>.txt; the first attempt at item i2 kills its own worker process."""
    with open(state["attempts"], "a") as fh:
        fh.write(f"{item.key}\n")
    marker = Path(state["marker"])
    if item.key == "i2" and not marker.exists():
        marker.write_text("killed once")
        os._exit(1)
    data = f"{item.key}\n".encode()
    path = Path(state["out"]) / f"{item.key}.txt"
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return {"files": {path.name: hashlib.sha256(data).hexdigest()}}


def identity(payload: dict[str, str]) -> dict[str, str]:
    return payload


# ------------------------------------------------------------------------ tests
@pytest.mark.parametrize("backend", ["local", "ray"])
def test_state_loads_once_per_worker_and_errors_stay_with_their_item(backend: str, ray_session: None,
                                                                    tmp_path: Path) -> None:
    ex: Executor = LocalExecutor(2) if backend == "local" else RayExecutor()
    log = tmp_path / "loads.txt"
    with ex:
        outcomes = list(ex.map_unordered(scaled, list(range(8)), shared=Shared(load_state, {"log": str(log), "k": 10})))
    assert sorted(o.index for o in outcomes) == list(range(8))
    by_index = {o.index: o for o in outcomes}
    assert by_index[3].error == "item 3: unreadable input" and by_index[3].kind == "input"
    assert by_index[5].error == "internal error: ValueError: a bug" and by_index[5].kind == "internal"
    assert "ValueError" in by_index[5].details
    good = [o for o in outcomes if o.error is None]
    assert sorted(o.value[1] for o in good) == [0, 10, 20, 40, 60, 70]
    loads = log.read_text().split()
    assert len(loads) == len(set(loads)) <= 2, f"a worker loaded the state twice: {loads}"
    assert set(loads) == {o.worker.split(":")[1] for o in outcomes} == {str(o.value[0]) for o in good}
    assert all(o.worker and o.peak_rss and o.seconds >= 0 for o in outcomes)


def test_a_killed_worker_is_retried_and_nothing_is_lost_or_duplicated(ray_session: None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    state = {"out": str(out), "marker": str(tmp_path / "killed"), "attempts": str(tmp_path / "attempts.txt")}
    items = [BatchItem(f"i{k}", f"in/{k}", "", f"i{k}") for k in range(6)]
    manifest = BatchManifest(out, "test", None, {})
    with RayExecutor(max_retries=2) as ex:
        report = run_batch(ex, write_item, items, manifest, Shared(identity, state), progress=False)
    assert (tmp_path / "killed").exists(), "the worker was not killed"
    attempts = (tmp_path / "attempts.txt").read_text().split()
    assert attempts.count("i2") == 2 and sorted(set(attempts)) == [it.key for it in items]
    assert report.done == 6 and not report.failures
    data = json.loads((out / "manifest.json").read_text())
    assert sorted(data["items"]) == [it.key for it in items]
    assert sorted(p.name for p in out.glob("*.txt")) == sorted(f"{it.key}.txt" for it in items)
    for it in items:
        assert (out / f"{it.key}.txt").read_text() == f"{it.key}\n"
        assert data["items"][it.key]["files"] == {f"{it.key}.txt": hashlib.sha256(f"{it.key}\n".encode()).hexdigest()}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _cli(argv: list[str]) -> None:
    try:
        main(argv)
    except SystemExit as exc:
        assert not exc.code, exc.code


def test_make_dataset_images_same_bytes_on_both_backends(ray_session: None, tmp_path: Path) -> None:
    args = ["make-dataset", "images", "--category", "hammer", "--n-train-meshes", "1", "--n-test-meshes", "1",
            "--views-per-mesh", "2", "--template-views", "1", "--size", "32", "--set", "supersample=1",
            "--set", "background.photo_prob=0", "--workers", "2", "--no-progress"]
    _cli([*args, "--out", str(tmp_path / "local")])
    _cli([*args, "--out", str(tmp_path / "ray"), "--backend", "ray"])
    local, on_ray = _files(tmp_path / "local"), _files(tmp_path / "ray")
    assert len(local) > 20 and sorted(local) == sorted(on_ray)
    assert [rel for rel in local if local[rel] != on_ray[rel]] == []


def test_segment_same_predictions_on_both_backends(ray_session: None, tiny_partstad: Path, toy_shapes: Path,
                                                   toy_keys: list[str], tmp_path: Path) -> None:
    shapes = [str(toy_shapes / key) for key in toy_keys[:4]]
    _cli(["segment", str(tiny_partstad), *shapes, "--out", str(tmp_path / "local"), "--no-progress"])
    _cli(["segment", str(tiny_partstad), *shapes, "--out", str(tmp_path / "ray"), "--no-progress", "--backend",
          "ray"])
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert summary["backend"] == "ray" and summary["done"] == 4 and summary["workers"] == 2
    for key in toy_keys[:4]:
        a = (tmp_path / "local" / key / "label.npy").read_bytes()
        assert a == (tmp_path / "ray" / key / "label.npy").read_bytes(), key


def test_cuda_batches_reserve_a_gpu_per_item_on_ray(ray_session: None) -> None:
    from partlift.commands.options import executor_config
    from partlift.errors import ConfigError

    assert executor_config("ray", 1, None, "cuda:0").gpus_per_item == 1.0
    assert executor_config("ray", 1, None, "cpu").gpus_per_item == 0.0
    assert executor_config("local", 2, None, "cuda").gpus_per_item == 0.0  # a local pool shares the GPU
    assert RayExecutor(workers=1).gpus_per_item == 0.0
    with pytest.raises(ConfigError, match="--device cuda: the Ray cluster has 0 GPUs"):
        RayExecutor(workers=1, gpus_per_item=1.0)  # the CPU-only test cluster
