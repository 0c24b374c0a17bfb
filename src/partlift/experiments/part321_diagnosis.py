"""Where Part321's errors come from: the same test images scored under controlled conditions.

``partlift bench part321 --diagnose`` runs, per test image:

- ``true_pose_parts``: the true pose and distance given and kept; only the part stage runs;
- ``true_pose_template``: the true pose and distance, the template undeformed (no part stage);
- ``estimated``: the full pipeline (grid, pose hypotheses, pose stage, part stage);
- ``oracle_hypothesis``: the pipeline with ``ORACLE_HYPOTHESES`` pose hypotheses, the one closest
  to the true pose picked with the ground truth (an oracle on hypothesis choice), then the part stage.

Each condition is scored like the benchmark (records of ``partlift eval part321``: Acc@pi/6,
Chamfer, 3D box IoU, 2D mIoU) plus per image: pose error, relative distance error, silhouette IoU
of the projected fit against the object's mask, and the IoU of the features' foreground map (the
silhouette target of inference) against the mask at the feature map's resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from partlift.datasets.loaders import ImageSample
from partlift.experiments.part321_scoring import ground_truth_record, prediction_record
from partlift.geometry.partmesh import PartMesh
from partlift.metrics.part321_eval import Part321EvalOptions, evaluate_part321
from partlift.metrics.pose import pose_error
from partlift.metrics.segmentation import silhouette_iou
from partlift.part321.foreground import mask_at
from partlift.part321.model import Part321, Part321Prediction

CONDITIONS = ("true_pose_parts", "true_pose_template", "estimated", "oracle_hypothesis")
ORACLE_HYPOTHESES = 6
"""Pose hypotheses the oracle chooses among."""


def feature_foreground_iou(model: Part321, sample: ImageSample) -> float:
    """IoU of the foreground map inference uses (``inference.foreground``) with the true mask, both
    at the feature map's size."""
    assert model.mesh is not None and sample.mask is not None
    feat = model.features(model.model_input(sample.image, sample.camera)[0])
    fg = model.foreground_mask(feat)
    # a feature pixel is object if most of its image pixels are (as the foreground head is trained)
    true_small = mask_at(sample.mask >= 0, *fg.shape) >= 0.5
    union = np.logical_or(fg, true_small).sum()
    return 1.0 if union == 0 else float(np.logical_and(fg, true_small).sum() / union)


def diagnose_image(model: Part321, sample: ImageSample, distance_given: bool = True,
                   conditions: tuple[str, ...] = CONDITIONS) -> dict[str, Part321Prediction]:
    """The conditions' predictions for one test image (``distance_given``: the annotated distance
    is known, as in the benchmark's default protocol; else it is estimated)."""
    ann = sample.annotation
    truth = (ann["azimuth"], ann["elevation"], ann["theta"], ann["distance"])
    cfg = model.config.inference
    out: dict[str, Part321Prediction] = {}
    given = {"true_pose_parts": cfg, "true_pose_template": replace(cfg, optimize_parts=False)}
    given = {k: v for k, v in given.items() if k in conditions}
    if given:
        out.update(model.predict(sample.image, sample.camera, initial_pose=truth, fix_pose=True, variants=given))
    if "estimated" in conditions:
        out["estimated"] = model.predict(sample.image, sample.camera, use_camera_distance=distance_given)
    if "oracle_hypothesis" in conditions:
        many = model.predict(sample.image, sample.camera, use_camera_distance=distance_given,
                             config=replace(cfg, hypotheses=ORACLE_HYPOTHESES, optimize_parts=False))
        best = min(many.result.hypotheses, key=lambda h: pose_error(h["pose"][:3], truth[:3]))
        out["oracle_hypothesis"] = model.predict(sample.image, sample.camera, initial_pose=tuple(best["pose"]),
                                                 use_camera_distance=distance_given)
    return out


def diagnose_test_set(
    model: Part321,
    samples: list[ImageSample],
    meshes: dict[str, PartMesh],
    out_dir: str | Path,
    category: str,
    n_points: int = 4096,
    progress: Callable[[int, int], None] | None = None,
    distance_given: bool = True,
    conditions: tuple[str, ...] = CONDITIONS,
) -> list[dict]:
    """Run :func:`diagnose_image` on every test image, writing records under
    ``out_dir/{gt,<condition>}/<category>/``; returns one row per image and condition."""
    out = Path(out_dir)
    rows = []
    for i, s in enumerate(samples):
        assert s.mask is not None, "diagnosis needs test images with part masks"
        iid = f"{s.shape_id}_{s.view:03d}"
        ground_truth_record(s, meshes[s.shape_id], out / "gt" / category / f"{iid}.json", n_points)
        ann = s.annotation
        truth = (ann["azimuth"], ann["elevation"], ann["theta"])
        fg_iou = feature_foreground_iou(model, s)
        for cond, pred in diagnose_image(model, s, distance_given, conditions).items():
            prediction_record(pred, out / cond / category / f"{iid}.json", n_points)
            rows.append({
                "category": category, "image": iid, "condition": cond,
                "pose_error": pose_error(pred.pose, truth),
                "distance_error": abs(pred.distance / ann["distance"] - 1.0),
                "silhouette_iou": silhouette_iou(pred.mask, s.mask),
                "foreground_iou": fg_iou, "flip_margin": pred.result.flip_margin,
            })
        if progress is not None:
            progress(i + 1, len(samples))
    return rows


def summarize_diagnosis(rows: list[dict], records: str | Path) -> dict:
    """Per condition (overall and per category): Acc@pi/6, median pose error (deg), flips (pose
    error > 150 deg), median relative distance error, median silhouette IoU, and the records'
    Chamfer, 3D box IoU and 2D mIoU; plus the features' median foreground IoU."""
    records = Path(records)
    out: dict = {}
    for cond in CONDITIONS:
        sel = [r for r in rows if r["condition"] == cond]
        if not sel or not (records / cond).is_dir():
            continue
        rep = evaluate_part321(records / "gt", records / cond, Part321EvalOptions())
        tables = {k: rep.table(k) for k in ("chamfer", "box_iou_3d", "miou_2d")}

        def block(items: list[dict], cat: str | None, tables=tables) -> dict:
            err = np.degrees([r["pose_error"] for r in items])

            def table(name: str) -> float:
                t = tables[name]
                v = t.overall if cat is None else t.per_category.get(cat, float("nan"))
                return float("nan") if v is None else float(v)

            return {
                "images": len(items),
                "pose_acc_pi6": float(np.mean(err < 30.0)),
                "median_pose_error_deg": float(np.median(err)),
                "flips": float(np.mean(err > 150.0)),
                "median_distance_error": float(np.median([r["distance_error"] for r in items])),
                "median_silhouette_iou": float(np.median([r["silhouette_iou"] for r in items])),
                "chamfer": table("chamfer"), "box_iou": table("box_iou_3d"), "miou_2d": table("miou_2d"),
            }

        cats = sorted({r["category"] for r in sel})
        out[cond] = {**block(sel, None), "per_category": {c: block([r for r in sel if r["category"] == c], c)
                                                          for c in cats}}
    est = [r for r in rows if r["condition"] == "estimated"]
    if est:
        out["features"] = {"median_foreground_iou": float(np.median([r["foreground_iou"] for r in est]))}
    return out


def format_diagnosis(diag: dict) -> str:
    """The printed table of :func:`summarize_diagnosis`."""
    head = ("condition", "Acc@pi/6", "med err", "flips", "dist err", "sil IoU", "CD(1e-2)", "box IoU", "2D mIoU")
    rows = [head]
    for cond in CONDITIONS:
        d = diag.get(cond)
        if d is None:
            continue
        rows.append((cond, f"{d['pose_acc_pi6'] * 100:.1f}", f"{d['median_pose_error_deg']:.1f}",
                     f"{d['flips'] * 100:.1f}", f"{d['median_distance_error'] * 100:.1f}",
                     f"{d['median_silhouette_iou']:.3f}", f"{d['chamfer']:.1f}", f"{d['box_iou'] * 100:.1f}",
                     f"{d['miou_2d'] * 100:.1f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    if "features" in diag:
        lines.append(f"features: median foreground IoU {diag['features']['median_foreground_iou']:.3f} "
                     "(feature-map resolution)")
    lines.append("(Acc, flips, distance error in %; median pose error in degrees; flips = error > 150 deg)")
    return "\n".join(lines)
