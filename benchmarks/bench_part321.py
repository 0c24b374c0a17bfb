"""Benchmark Part321 on the embedded data (Table 1/4/5-style tables, inference and training time).

    .venv/bin/python benchmarks/bench_part321.py --quick --json part321_quick.json   # <= 15 min
    .venv/bin/python benchmarks/bench_part321.py --json part321.json                 # all categories
    .venv/bin/python benchmarks/bench_part321.py --timing MODEL_DIR                  # s/image only
    .venv/bin/python benchmarks/bench_part321.py --full-model-only --workdir DIR     # no ablations

The first two are ``partlift bench part321 [--quick]``; ``--timing`` times the inference of a
trained model (``partlift train part321``) on its category's embedded test images at the default
settings, without the silhouette term (``w_silhouette=0``, the reference for its cost in the same
run) and at NeMo's full pose schedule (300 pose steps), best and median of the per-image times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path


def timing(model_dir: str, images: int) -> dict:
    from partlift.datasets.cache import ensure_embedded_dataset
    from partlift.part321.data import load_test_samples
    from partlift.part321.model import Part321

    model = Part321.load(model_dir)
    root = ensure_embedded_dataset("images", model.meta["category"], progress=False)
    samples, _ = load_test_samples(root, max_images=images)
    model.predict(samples[0].image, samples[0].camera)  # warm-up: JIT compilation, pre-rendering
    out = {}
    for name, cfg in (("default", model.config.inference),
                      ("no_silhouette", replace(model.config.inference, w_silhouette=0.0)),
                      ("nemo_pose_300", replace(model.config.inference, pose_steps=300))):
        per_stage: dict[str, list[float]] = {}
        totals = []
        for s in samples:
            t0 = time.perf_counter()
            p = model.predict(s.image, s.camera, config=cfg)
            totals.append(time.perf_counter() - t0)
            for k, v in p.seconds.items():
                per_stage.setdefault(k, []).append(v)
        out[name] = {"best": min(totals), "median": statistics.median(totals),
                     "stages_median": {k: statistics.median(v) for k, v in per_stage.items()}}
        print(f"{name:14s} best {min(totals):.2f} s  median {statistics.median(totals):.2f} s  " +
              "  ".join(f"{k} {statistics.median(v):.2f}" for k, v in per_stage.items()))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the <= 15-minute configuration")
    ap.add_argument("--json", default=None, help="write the results JSON here")
    ap.add_argument("--workdir", default=None, help="models / records folder (reused when present)")
    ap.add_argument("--categories", default=None, help="comma-separated categories")
    ap.add_argument("--timing", metavar="MODEL_DIR", default=None, help="only time inference of a trained model")
    ap.add_argument("--images", type=int, default=10, help="test images for --timing")
    ap.add_argument("--full-model-only", action="store_true",
                    help="score the full model and the 2D baseline only (no Table 5 ablations)")
    args = ap.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, python {sys.version.split()[0]}")
    if args.timing:
        res = timing(args.timing, args.images)
    else:
        from partlift.experiments.part321_benchmark import BenchSettings, format_bench, quick_settings, run_bench
        from partlift.part321.correspondence import default_cache_dir

        settings = quick_settings() if args.quick else BenchSettings()
        if args.categories:
            settings = replace(settings, categories=tuple(args.categories.split(",")))
        if args.full_model_only:
            settings = replace(settings, methods=("part321",))
        wd = Path(args.workdir) if args.workdir else default_cache_dir() / "part321" / (
            "bench-quick" if args.quick else "bench")
        res = run_bench(settings, wd)
        print(format_bench(res))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
