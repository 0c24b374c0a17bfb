"""Superpoints on the embedded PartNetE-style data: counts, purity, boundary recall, time, a figure.

    .venv/bin/python benchmarks/bench_superpoints.py [--shapes 3] [--figure docs/images/superpoints.png]
                                                     [--json OUT] [--scaling-model MODEL_DIR]

PartSLIP's superpoints (L0 cut pursuit, k = 10, [normal, 0.3 rgb], reg 0.05, merge <= 10 points;
its src/gen_superpoint.py) on the first ``--shapes`` test clouds of every embedded category: how many
superpoints, how pure they are (``partlift.metrics.oversegmentation``), how many of the parts'
borders they follow (edge boundary recall on the 10-NN graph), and seconds per cloud. Then a sweep of
``reg`` on Chair (PartSLIP's README: reg sets the granularity), and a figure: per category, one view
coloured by ground-truth part and by superpoint (random colours, superpoint borders dark).
With ``--scaling-model`` (a trained Chair model, e.g. ``<bench workdir>/Chair/model-partstad``), the
whole inference is also timed on one Chair sampled at 10k, 30k and 100k points (PartNetE's clouds are
denser than the embedded 10k), with its mIoU at each density.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def clouds(category: str, n: int) -> list:
    from partlift.datasets.cache import embedded_points_root
    from partlift.datasets.loaders import load_partnete_split
    from partlift.geometry.normalize import unit_sphere_normalization

    out = []
    for c in load_partnete_split(embedded_points_root(category, False), "test", category, n):
        out.append((unit_sphere_normalization(c.points).apply(c.points), c))
    return out


def score(points, cloud, config) -> dict:
    from partlift.metrics.oversegmentation import boundary_scores, superpoint_purity
    from partlift.partstad.superpoints import compute_superpoints

    t = time.perf_counter()
    sp = compute_superpoints(points, cloud.colors, config)
    seconds = time.perf_counter() - t
    b = boundary_scores(points, sp, cloud.labels, k=10)
    return {"count": int(sp.max() + 1), "purity": superpoint_purity(sp, cloud.labels), "boundary_recall": b.recall,
            "boundary_precision": b.precision, "seconds": seconds, "points": len(points), "superpoints": sp}


def figure(path: Path, per_category: dict, view: int = 4, size: int = 192) -> None:
    from PIL import Image, ImageDraw

    from partlift.partstad.config import ViewConfig
    from partlift.partstad.views import render_views
    from partlift.report.figures import owner_label_image, save_png

    tiles = []
    for cat, (points, cloud, sp) in per_category.items():
        views = render_views(points, cloud.colors, replace(ViewConfig(), image_size=size))
        idx = views.point_index[view]
        gt = owner_label_image(idx, cloud.labels, len(cloud.part_names))
        colours = np.random.default_rng(0).integers(40, 230, (int(sp.max()) + 1, 3)).astype(np.uint8)
        sp_img = np.full(idx.shape + (3,), 255, np.uint8)
        fg = idx >= 0
        sp_pix = np.where(fg, sp[np.maximum(idx, 0)], -1)
        sp_img[fg] = colours[sp_pix[fg]]
        edge = np.zeros_like(fg)
        edge[:-1] |= (sp_pix[:-1] != sp_pix[1:]) & fg[:-1] & fg[1:]
        edge[:, :-1] |= (sp_pix[:, :-1] != sp_pix[:, 1:]) & fg[:, :-1] & fg[:, 1:]
        sp_img[edge] = (30, 30, 30)
        tile = Image.fromarray(np.concatenate([gt, sp_img], axis=0))
        ImageDraw.Draw(tile).text((4, 4), f"{cat}: parts", fill=(0, 0, 0))
        ImageDraw.Draw(tile).text((4, size + 4), f"{int(sp.max()) + 1} superpoints", fill=(0, 0, 0))
        tiles.append(np.asarray(tile))
    save_png(path, np.concatenate(tiles, axis=1))


def scaling(model_dir: str, counts=(10_000, 30_000, 100_000)) -> dict:
    """Inference seconds per stage and mIoU of one test Chair sampled at each point count."""
    from partlift.datasets.points import PointsDatasetConfig, sample_shape_cloud
    from partlift.datasets.shape_source import generate_shape
    from partlift.metrics.segmentation import shape_part_ious
    from partlift.partstad.model import PartSTAD

    model = PartSTAD.load(model_dir)
    cfg = PointsDatasetConfig(category="Chair")
    mesh = generate_shape("Chair", cfg.shape_seed("test", 0))
    out = {}
    for n in counts:
        cloud = sample_shape_cloud(mesh, replace(cfg, n_points=n), seed=n)
        t = time.perf_counter()
        pred = model.predict(cloud)
        seconds = time.perf_counter() - t
        ious = shape_part_ious(pred.semantic, cloud.labels, len(cloud.part_names), cloud.name)
        out[n] = {"seconds": seconds, "miou": float(np.nanmean(ious)), "superpoints": int(pred.superpoints.max() + 1),
                  **{f"{k}_s": float(v) for k, v in pred.timings.items()}}
    return out


def main() -> None:
    from partlift.experiments.partstad_benchmark import BenchSettings
    from partlift.partstad.config import SuperpointConfig

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", type=int, default=3, help="test clouds per category")
    ap.add_argument("--figure", default=None, help="write the figure here (PNG)")
    ap.add_argument("--figure-categories", default="Chair,Lamp,Kettle,StorageFurniture,Faucet,Display")
    ap.add_argument("--json", default=None)
    ap.add_argument("--scaling-model", default=None, help="a trained Chair PartSTAD model folder")
    args = ap.parse_args()
    cfg = SuperpointConfig()
    rows, shown = {}, {}
    figure_cats = args.figure_categories.split(",")
    print(f"{'category':18s} {'points':>7s} {'count':>6s} {'purity':>7s} {'b.recall':>8s} {'b.prec':>7s} {'s':>6s}")
    chair = []
    for cat in BenchSettings().categories:
        res = []
        loaded = clouds(cat, args.shapes)
        if cat == "Chair":
            chair = loaded
        for points, cloud in loaded:
            r = score(points, cloud, cfg)
            if cat in figure_cats and cat not in shown:
                shown[cat] = (points, cloud, r["superpoints"])
            res.append({k: v for k, v in r.items() if k != "superpoints"})
        mean = {k: float(np.mean([r[k] for r in res])) for k in res[0]}
        rows[cat] = mean
        print(f"{cat:18s} {mean['points']:7.0f} {mean['count']:6.1f} {mean['purity']:7.3f} "
              f"{mean['boundary_recall']:8.3f} {mean['boundary_precision']:7.3f} {mean['seconds']:6.3f}")
    overall = {k: float(np.mean([r[k] for r in rows.values()])) for k in next(iter(rows.values()))}
    print(f"{'mean':18s} {overall['points']:7.0f} {overall['count']:6.1f} {overall['purity']:7.3f} "
          f"{overall['boundary_recall']:8.3f} {overall['boundary_precision']:7.3f} {overall['seconds']:6.3f}")

    print("\nreg sweep on Chair (same clouds):")
    sweep = {}
    for reg in (0.01, 0.02, 0.05, 0.1, 0.2):
        res = [score(p, c, replace(cfg, reg=reg)) for p, c in chair]
        sweep[reg] = {k: float(np.mean([r[k] for r in res])) for k in ("count", "purity", "boundary_recall")}
        s = sweep[reg]
        print(f"  reg {reg:<5g} count {s['count']:6.1f}  purity {s['purity']:.3f}  boundary recall "
              f"{s['boundary_recall']:.3f}")
    scale = None
    if args.scaling_model:
        scale = scaling(args.scaling_model)
        print("\ninference vs point count (one test Chair; s):")
        for n, r in scale.items():
            stages = ", ".join(f"{k[:-2]} {v:.2f}" for k, v in r.items() if k.endswith("_s"))
            print(f"  {n:7d} points: {r['seconds']:.2f} s ({stages}); {r['superpoints']} superpoints; "
                  f"mIoU {100 * r['miou']:.1f}")
    if args.figure:
        figure(Path(args.figure), {c: shown[c] for c in figure_cats if c in shown})
        print(f"wrote {args.figure}")
    if args.json:
        Path(args.json).write_text(json.dumps({"per_category": rows, "mean": overall, "reg_sweep_chair": sweep,
                                               "scaling": scale},
                                              indent=1))


if __name__ == "__main__":
    main()
