"""Timings of the metrics at realistic sizes (prints figures; no assertions).

    .venv/bin/python benchmarks/bench_metrics.py [--shapes 50] [--points 100000]

PartNetE-sized shapes (~10^5 points, ~20 instances) through the full `partlift eval partstad` path
(files written to a temp dir, then read and scored), plus per-call costs of the 3D box IoU, Chamfer
and pose error.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from partlift.geometry.boxes import Box3D
from partlift.geometry.io import save_partnete_labels
from partlift.metrics.box3d import box_iou_3d
from partlift.metrics.chamfer import chamfer_distance
from partlift.metrics.eval_formats import save_partnete_prediction
from partlift.metrics.partnete_meta import PARTNETE_PARTS
from partlift.metrics.partstad_eval import evaluate_partstad
from partlift.metrics.pose import pose_errors


def _timeit(fn, repeat: int) -> float:
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def bench_partstad(shapes: int, points: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cat = "Table"
        p = len(PARTNETE_PARTS[cat])
        for s in range(shapes):
            ins = rng.integers(-1, 20, points)
            sem = np.where(ins >= 0, ins % p, -1)
            (root / "gt" / cat / f"{s}").mkdir(parents=True)
            save_partnete_labels(root / "gt" / cat / f"{s}" / "label.npy", sem, ins)
            pins = np.where(rng.random(points) < 0.9, ins, -1)
            save_partnete_prediction(root / "pred" / cat / f"{s}", np.where(pins >= 0, pins % p, -1), pins,
                                     np.arange(20) % p, rng.random(20))
        t = time.perf_counter()
        report = evaluate_partstad(root / "gt", root / "pred")
        dt = time.perf_counter() - t
    print(f"eval partstad: {shapes} shapes x {points} points, 20 instances each: {dt:.2f} s "
          f"({1000 * dt / shapes:.1f} ms/shape incl. reading both files); mIoU {report.table('miou').overall:.3f}")


def bench_small(seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    pairs = [(Box3D(rng.uniform(-0.3, 0.3, 3), rng.uniform(0.2, 1, 3), Rotation.random(random_state=i).as_matrix()),
              Box3D(rng.uniform(-0.3, 0.3, 3), rng.uniform(0.2, 1, 3), Rotation.random(random_state=i + 1).as_matrix()))
             for i in range(200)]
    dt = _timeit(lambda: [box_iou_3d(a, b) for a, b in pairs], 3) / len(pairs)
    print(f"box_iou_3d oriented: {1e6 * dt:.0f} us/pair")
    aligned = [(Box3D(a.center, a.size, np.eye(3)), Box3D(b.center, b.size, np.eye(3))) for a, b in pairs]
    dt = _timeit(lambda: [box_iou_3d(a, b) for a, b in aligned], 3) / len(pairs)
    print(f"box_iou_3d axis-aligned: {1e6 * dt:.0f} us/pair")
    a, b = rng.normal(size=(5000, 3)), rng.normal(size=(5000, 3))
    print(f"chamfer 5000 vs 5000 points: {1e3 * _timeit(lambda: chamfer_distance(a, b), 5):.1f} ms")
    poses = rng.uniform(-1, 1, (1000, 3))
    print(f"pose error: {1e6 * _timeit(lambda: pose_errors(poses, poses[::-1]), 3) / 1000:.0f} us/pose")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", type=int, default=50)
    ap.add_argument("--points", type=int, default=100_000)
    args = ap.parse_args()
    bench_partstad(args.shapes, args.points)
    bench_small()
