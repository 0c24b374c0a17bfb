"""PartSTAD benchmark: Tables 1-3 on the embedded data plus per-stage timings.

    .venv/bin/python benchmarks/bench_partstad.py [--quick] [--json OUT] [--categories A,B]
                                                  [--stage-shapes 10] [--workdir DIR]

Runs ``partlift bench partstad`` (resumable; results cached in the work folder), then times the
preprocessing stages separately on ``--stage-shapes`` 10k-point test shapes: normals + cut-pursuit
superpoints (target <= 0.3 s), rendering, proposals, voting and the whole inference (target <= 2 s).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def stage_timings(workdir: Path, category: str, shapes: int) -> dict:
    """Best-of-2 wall times per stage on ``shapes`` test clouds of ``category`` (no cache)."""
    from partlift.datasets.cache import embedded_points_root
    from partlift.datasets.loaders import load_partnete_split
    from partlift.geometry.normalize import unit_sphere_normalization
    from partlift.metrics.oversegmentation import superpoint_purity
    from partlift.partstad.model import PartSTAD
    from partlift.partstad.normals import estimate_normals
    from partlift.partstad.superpoints import compute_superpoints

    model = PartSTAD.load(workdir / category / "model-partstad")
    clouds = load_partnete_split(embedded_points_root(category, False), "test", category, shapes)
    rows: dict[str, list[float]] = {}
    for c in clouds:
        p = unit_sphere_normalization(c.points).apply(c.points)
        best = {}
        for _ in range(2):
            t = time.perf_counter()
            n = estimate_normals(p)
            t1 = time.perf_counter()
            sp = compute_superpoints(p, c.colors, model.config.superpoints, normals=n)
            t2 = time.perf_counter()
            pred = model.predict(c, instances=True)
            t3 = time.perf_counter()
            cur = {"normals": t1 - t, "cut_pursuit": t2 - t1, "superpoints_total": t2 - t,
                   "inference_total": t3 - t2, **{f"inference_{k}": v for k, v in pred.timings.items()}}
            best = {k: min(v, best.get(k, np.inf)) for k, v in cur.items()}
        # superpoint count and purity (share of points whose superpoint's majority label is theirs)
        best["superpoint_count"] = float(sp.max() + 1)
        best["superpoint_purity"] = superpoint_purity(sp, c.labels)
        for k, v in best.items():
            rows.setdefault(k, []).append(v)
    return {k: {"mean": float(np.mean(v)), "max": float(np.max(v))} for k, v in rows.items()}


def main() -> None:
    from partlift.datasets.cache import default_cache_dir
    from partlift.experiments.partstad_benchmark import BenchSettings, format_bench, quick_settings, run_bench
    from partlift.metrics.tables import json_safe

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--categories", default=None)
    ap.add_argument("--stage-shapes", type=int, default=10)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    settings = quick_settings() if args.quick else BenchSettings()
    if args.categories:
        settings = replace(settings, categories=tuple(c for c in args.categories.split(",") if c))
    wd = Path(args.workdir) if args.workdir else default_cache_dir() / "partstad" / (
        "bench-quick" if args.quick else "bench")
    result = run_bench(settings, wd, progress=False, log=print)
    print(format_bench(result))
    stages = stage_timings(wd, settings.categories[0], args.stage_shapes)
    print(f"\nStages on {args.stage_shapes} {settings.categories[0]} test shapes (10k points, best of 2 runs; s):")
    for k, v in stages.items():
        print(f"  {k:28s} mean {v['mean']:.3f}   max {v['max']:.3f}")
    result["stage_timings"] = {"category": settings.categories[0], "shapes": args.stage_shapes, **stages}
    if args.json:
        Path(args.json).write_text(json.dumps(json_safe(result), indent=1))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
