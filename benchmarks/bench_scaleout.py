"""Scale-out benchmark: the local process pool against a local Ray on the same CPUs.

Prints the table of docs/BENCHMARKS.md, "Scale-out":

    .venv/bin/python benchmarks/bench_scaleout.py                      # 1000 images + 100 shapes, 2 workers
    .venv/bin/python benchmarks/bench_scaleout.py --images 100 --shapes 10  # smoke run

Two jobs, each run once on ``LocalExecutor(workers)`` (spawned processes) and once on a local Ray
started with ``num_cpus=workers`` (started afresh for every job, so both backends begin with cold
worker processes; Ray's start-up is printed separately, as a cluster pays it once):

1. ``make-dataset images``: DST-Part3D-style images of the embedded ``car`` at 128 px (50 meshes x
   20 views = 1000 images; one task per mesh);
2. ``segment``: 100 PartNetE-style ``Chair`` clouds of 10,000 points (generated first) with a PartSTAD
   model trained quickly on 8 few-shot Chairs (its accuracy is irrelevant here; one task per shape,
   the model loaded once per worker).

Wall time includes starting the pool's processes or Ray's workers (each imports numpy, numba and
torch). Each backend runs ``--repeats`` times, alternating (pool, Ray, Ray, pool, ...), and the
fastest run is reported: the reference machine is shared, and a neighbour's job slows whichever run
it overlaps. Per item: wall and CPU seconds (all threads) in the worker, the CPU figure being the
one a neighbour does not inflate; peak RSS is each worker process's high-water mark (``/proc``).
Every run must give byte-identical files; the script checks it.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from partlift.experiments.executors import Executor, LocalExecutor, Outcome, RayExecutor, Shared


class Recording(Executor):
    """Runs on ``inner`` and keeps every outcome (for worker times and memory)."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.backend, self.workers = inner.backend, inner.workers
        self.outcomes: list[Outcome] = []

    def map_unordered(self, fn: Callable[..., Any], items: Sequence[Any], *,
                      shared: Shared[Any, Any] | None = None) -> Iterator[Outcome]:
        for outcome in self.inner.map_unordered(fn, items, shared=shared):
            self.outcomes.append(outcome)
            yield outcome

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()


def start_ray(workers: int) -> float:
    import ray

    t0 = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    return time.perf_counter() - t0


def stop_ray() -> None:
    import ray

    ray.shutdown()


def tree_digest(root: Path, pattern: str = "*") -> str:
    """SHA-256 over the paths and bytes of the files under ``root`` (hidden files and the run summaries
    left out)."""
    h = hashlib.sha256()
    for p in sorted(root.rglob(pattern)):
        rel = p.relative_to(root)
        if p.is_file() and not any(s.startswith(".") for s in rel.parts) and p.name not in ("summary.json",):
            h.update(rel.as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def run_job(name: str, n_items: int, run: Callable[[Executor, Path], object], out: Path, workers: int,
            check: str, repeats: int) -> dict[str, dict[str, Any]]:
    """``run`` on the pool and on Ray, ``repeats`` times each in the order pool, Ray, Ray, pool, ... (so a
    change in the machine's load hits both alike); per backend the fastest run, with its throughput,
    worker seconds and memory."""
    rows: dict[str, dict[str, Any]] = {}
    digests = set()
    for r in range(repeats):
        for backend in (("pool", "ray") if r % 2 == 0 else ("ray", "pool")):
            load = os.getloadavg()[0]
            init = start_ray(workers) if backend == "ray" else 0.0
            try:
                ex = Recording(LocalExecutor(workers) if backend == "pool" else RayExecutor(workers=workers))
                t0 = time.perf_counter()
                run(ex, out / f"{backend}{r}")
                wall = time.perf_counter() - t0
            finally:
                if backend == "ray":
                    stop_ray()
            rss: dict[str, int] = {}
            for o in ex.outcomes:
                if o.error is not None:
                    raise SystemExit(f"{name} on {backend}: {o.error}")
                rss[o.worker] = max(rss.get(o.worker, 0), o.peak_rss or 0)
            digests.add(tree_digest(out / f"{backend}{r}", check))
            print(f"  {name} {backend} run {r + 1}: {wall:.1f} s (1-min load average before: {load:.2f})", flush=True)
            if backend not in rows or wall < rows[backend]["wall"]:
                rows[backend] = {"wall": wall, "init": init, "throughput": n_items / wall,
                                 "item_seconds": sum(o.seconds for o in ex.outcomes) / n_items,
                                 "item_cpu": sum(o.cpu_seconds for o in ex.outcomes) / n_items,
                                 "rss_mib": sorted(v / 2**20 for v in rss.values()), "processes": len(rss)}
            if r or backend == "ray":  # keep the first pool run's files (sizes are reported from it)
                shutil.rmtree(out / f"{backend}{r}", ignore_errors=True)
    if len(digests) != 1:
        raise SystemExit(f"{name}: the runs wrote different files")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=1000, help="images (a multiple of 20)")
    ap.add_argument("--shapes", type=int, default=100, help="Chair clouds to segment")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=2, help="runs per backend (the fastest is reported)")
    ap.add_argument("--keep", type=Path, default=None, help="work here and keep everything (default: temp dir)")
    args = ap.parse_args()

    from partlift.commands.partstad import save_views_png
    from partlift.datasets.images import ImageDatasetConfig, generate_image_dataset
    from partlift.datasets.loaders import load_partnete_split
    from partlift.datasets.points import PointsDatasetConfig, generate_points_dataset
    from partlift.experiments.batch import BatchManifest, ModelFiles, expand_inputs, run_batch
    from partlift.experiments.batch_jobs import (
        PARTSTAD_MODEL_FILES,
        SegmentJob,
        SegmentPayload,
        load_segmenter,
        segment_item,
    )
    from partlift.partstad.config import PartSTADConfig
    from partlift.partstad.model import PartSTAD

    load_before = os.getloadavg()[0]
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_scaleout_"))
    w = args.workers
    try:
        # ---- 1. image dataset
        meshes = args.images // 20
        img_cfg = ImageDatasetConfig(category="car", n_train_meshes=meshes - 1 - max(1, meshes // 5),
                                     n_test_meshes=max(1, meshes // 5), views_per_mesh=20, template_views=20,
                                     size=args.size)
        print(f"images: {args.images} car images at {args.size} px", flush=True)
        images = run_job("images", args.images,
                         lambda ex, out: generate_image_dataset(img_cfg, out, progress=False, executor=ex),
                         base / "images", w, "*", args.repeats)
        image_mib = sum(p.stat().st_size for p in (base / "images" / "pool0").rglob("*") if p.is_file()) / 2**20

        # ---- 2. PartSTAD: data, a quick model, segmentation
        t0 = time.perf_counter()
        pts_cfg = replace(PointsDatasetConfig(category="Chair"), n_few_shot=8, n_val=0, n_test=args.shapes)
        with LocalExecutor(w) as ex:
            generate_points_dataset(pts_cfg, base / "points", progress=False, executor=ex)
        t_points = time.perf_counter() - t0
        print(f"points: {8 + args.shapes} Chair clouds in {t_points:.1f} s", flush=True)
        t0 = time.perf_counter()
        cfg = PartSTADConfig()
        cfg = replace(cfg, learned=replace(cfg.learned, steps=100, train_views=8),
                      train=replace(cfg.train, epochs=20))
        model_dir = base / "model"
        if not (model_dir / "model.json").is_file():
            few = load_partnete_split(base / "points", "few_shot", "Chair")
            PartSTAD(cfg, cache_dir=base / "train-cache").fit(few, []).save(model_dir)
        t_train = time.perf_counter() - t0
        print(f"model: trained in {t_train:.1f} s", flush=True)
        files = ModelFiles.read(model_dir, PARTSTAD_MODEL_FILES)
        items = expand_inputs([str(base / "points" / "test")], "points").items

        def segment(ex: Executor, out: Path) -> None:
            out.mkdir(parents=True, exist_ok=True)
            job = SegmentJob(str(out), str(model_dir), 10_000, 0, save_views_png)
            manifest = BatchManifest(out, "segment", {"path": str(model_dir), "fingerprint": files.fingerprint()},
                                     {"num_points": 10_000, "seed": 0})
            run_batch(ex, segment_item, items, manifest, Shared(load_segmenter, SegmentPayload(files, job)),
                      progress=False)

        print(f"segment: {len(items)} Chair clouds", flush=True)
        shapes = run_job("segment", len(items), segment, base / "segment", w, "label.npy", args.repeats)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)

    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; 1-min load average "
          f"before the run: {load_before:.2f}; {w} workers")
    print("| job | items | backend | wall time | throughput | per item: worker s / CPU s | peak RSS per worker | "
          "Ray / pool |")
    print("|---|---|---|---|---|---|---|---|")
    for name, n, unit, rows in (("images car 128 px", args.images, "images/s", images),
                                ("segment Chair 10k points", len(items), "shapes/s", shapes)):
        for backend in ("pool", "ray"):
            r = rows[backend]
            ratio = f"**{r['throughput'] / rows['pool']['throughput']:.2f}**" if backend == "ray" else "-"
            label = "local pool" if backend == "pool" else f"local Ray (start-up {r['init']:.1f} s, not included)"
            rss = ", ".join(f"{v:.0f}" for v in r["rss_mib"])
            print(f"| {name} | {n} | {label} | {r['wall']:.1f} s | {r['throughput']:.2f} {unit} | "
                  f"{r['item_seconds']:.3f} / {r['item_cpu']:.3f} s | {rss} MiB ({r['processes']} processes) | "
                  f"{ratio} |")
    print(f"\nimage dataset on disk: {image_mib:.1f} MiB ({image_mib * 1024 / args.images:.0f} KiB per image); "
          f"model files {files.nbytes / 2**20:.2f} MiB; points generation {t_points:.1f} s; training {t_train:.1f} s")
    print(f"fastest of {args.repeats} runs per backend; every run wrote byte-identical files (images: every file; "
          "segment: every label.npy)")


if __name__ == "__main__":
    main()
