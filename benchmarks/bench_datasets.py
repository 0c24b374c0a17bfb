"""Benchmark dataset generation: DST-Part3D-style images and PartNetE-style point clouds.

Target: 1000 images at 128 x 128 in <= 2 minutes with 2 workers. Prints wall-clock
figures (including process start-up) for docs/BENCHMARKS.md, "Dataset generation":

    .venv/bin/python benchmarks/bench_datasets.py                 # 1000 images + 36 point clouds
    .venv/bin/python benchmarks/bench_datasets.py --quick         # smoke run (100 images)
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from partlift.datasets.images import ImageDatasetConfig, generate_image_dataset
from partlift.datasets.points import PointsDatasetConfig, generate_points_dataset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 images, 6 point clouds")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--category", default="car")
    ap.add_argument("--points-category", default="Chair")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--keep", type=Path, default=None, help="write here and keep the data (default: temp dir)")
    args = ap.parse_args()

    views = 20
    meshes = 5 if args.quick else 50  # 1 template + train + test meshes, 20 views each
    img_cfg = ImageDatasetConfig(
        category=args.category, n_train_meshes=meshes - 1 - max(1, meshes // 5), n_test_meshes=max(1, meshes // 5),
        views_per_mesh=views, template_views=views, size=args.size,
    )
    n_images = views * meshes
    pts_cfg = PointsDatasetConfig(category=args.points_category)
    if args.quick:
        pts_cfg = replace(pts_cfg, n_few_shot=2, n_val=2, n_test=2)
    n_clouds = pts_cfg.n_few_shot + pts_cfg.n_val + pts_cfg.n_test

    load_before = os.getloadavg()[0]
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_datasets_"))
    try:
        t0 = time.perf_counter()
        generate_image_dataset(img_cfg, base / "images", workers=args.workers, progress=False)
        t_img = time.perf_counter() - t0
        t0 = time.perf_counter()
        generate_image_dataset(img_cfg, base / "images", workers=args.workers, progress=False)
        t_resume = time.perf_counter() - t0
        t0 = time.perf_counter()
        generate_points_dataset(pts_cfg, base / "points", workers=args.workers, progress=False)
        t_pts = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in (base / "images").rglob("*") if p.is_file()) / 2**20
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"1-min load average before the run: {load_before:.2f}")
    print("| dataset | items | workers | wall time | throughput |")
    print("|---|---|---|---|---|")
    print(f"| images {args.category} {args.size}x{args.size} (supersample {img_cfg.supersample}) | {n_images} | "
          f"{args.workers} | {t_img:.1f} s | {n_images / t_img:.1f} images/s |")
    print(f"| images, second run (resume, nothing to do) | {n_images} | {args.workers} | {t_resume:.2f} s | - |")
    print(f"| points {args.points_category} ({pts_cfg.n_points} points, visible-only) | {n_clouds} | {args.workers} | "
          f"{t_pts:.1f} s | {n_clouds / t_pts:.2f} clouds/s |")
    print(f"image dataset size on disk: {size_mb:.1f} MiB")


if __name__ == "__main__":
    main()
