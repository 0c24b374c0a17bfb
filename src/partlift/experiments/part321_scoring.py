"""Evaluation of Part321, its Table 5 ablations and the 2D baseline on DST-Part3D-style test images.

Per test image we write one ground-truth and one prediction record per method in the format of
``partlift eval part321`` (:mod:`partlift.metrics.eval_formats`) and score them with
:func:`partlift.metrics.part321_eval.evaluate_part321`, so the numbers are exactly those of the
eval CLI: pose Acc@pi/6, per-part Chamfer (x100) and oriented 3D box IoU in the camera frame, and
2D part mIoU. Part points are surface samples of the part (ground truth: the test mesh in the
ground-truth camera; prediction: the recognised mesh in the camera frame).
"""

from __future__ import annotations

import math
import time
import typing
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np

from partlift.datasets.loaders import ImageSample
from partlift.geometry.partmesh import PartMesh
from partlift.geometry.sampling import sample_surface
from partlift.metrics.eval_formats import save_part321_record
from partlift.metrics.part321_eval import Part321EvalOptions, evaluate_part321
from partlift.part321.inference import InferenceConfig, ablation_config
from partlift.part321.model import Part321, Part321Prediction

Part321Method = Literal["part321", "wo_scaling", "wo_constraint", "wo_deformation"]
METHODS: tuple[Part321Method, ...] = typing.get_args(Part321Method)
BASELINE = "seg2d_baseline"


def _part_points(mesh: PartMesh, n: int, seed: int) -> dict[str, np.ndarray]:
    pc = sample_surface(mesh, n, seed=seed)
    return {name: pc.points[pc.labels == k].astype(np.float64) for k, name in enumerate(mesh.part_names)}


def ground_truth_record(sample: ImageSample, mesh: PartMesh, path: Path, n_points: int = 4096) -> None:
    """Write the ground truth of one test image: pose, camera-frame part points, part mask."""
    cam_mesh = mesh.copy(vertices=sample.camera.to_camera(mesh.vertices).astype(np.float32))
    pts = _part_points(cam_mesh, n_points, seed=0)
    ann = sample.annotation
    save_part321_record(
        path, (ann["azimuth"], ann["elevation"], ann["theta"]),
        {name: {"points": p} for name, p in pts.items() if len(p)},
        mask=sample.mask.astype(np.int64) if sample.mask is not None else None, part_names=mesh.part_names,
    )


def prediction_record(pred: Part321Prediction, path: Path, n_points: int = 4096) -> None:
    """Write a Part321 prediction: pose, camera-frame part points (boxes are fitted by the evaluator
    exactly as for the ground truth) and the projected part mask."""
    mesh = PartMesh(pred.vertices, pred.faces, pred.labels, pred.part_names)
    pts = _part_points(mesh, n_points, seed=1)
    save_part321_record(path, pred.pose, {name: {"points": p} for name, p in pts.items()}, mask=pred.mask,
                        part_names=pred.part_names)


def mask_record(mask: np.ndarray, part_names, path: Path) -> None:
    """A 2D-only prediction (the baseline): no pose, no 3D parts, a part mask."""
    save_part321_record(path, None, {}, mask=mask, part_names=part_names)


def method_configs(base: InferenceConfig, methods=METHODS) -> dict[str, InferenceConfig]:
    return {m: ablation_config(base, m) for m in methods}


def predict_test_set(
    model: Part321,
    samples: list[ImageSample],
    meshes: dict[str, PartMesh],
    out_dir: str | Path,
    category: str,
    methods=METHODS,
    baseline=None,
    n_points: int = 4096,
    progress: Callable[[int, int], None] | None = None,
    use_camera_distance: bool = True,
) -> dict:
    """Run every method on every test image, writing records under ``out_dir/{gt,<method>}/<category>/``.

    ``use_camera_distance``: the annotated distance is known (NeMo's protocol), else estimated.

    Returns timing: seconds per image of the full model (features + pose + part stage) and of the
    shared pose stage, and of the baseline.
    """
    out = Path(out_dir)
    cfgs = method_configs(model.config.inference, methods)
    assert model.mesh is not None, "score a trained model"
    per_image, pose_stage, base_times = [], [], []
    for i, s in enumerate(samples):
        iid = f"{s.shape_id}_{s.view:03d}"
        ground_truth_record(s, meshes[s.shape_id], out / "gt" / category / f"{iid}.json", n_points)
        preds = model.predict(s.image, s.camera, variants=cfgs, use_camera_distance=use_camera_distance)
        for name, p in preds.items():
            prediction_record(p, out / name / category / f"{iid}.json", n_points)
        full = preds[methods[0]].seconds
        per_image.append(full["features"] + full["init"] + full["pose"] + full["parts"] + full["outputs"])
        pose_stage.append(full["features"] + full["init"] + full["pose"])
        if baseline is not None:
            t0 = time.perf_counter()
            mask = baseline.predict(s.image)
            base_times.append(time.perf_counter() - t0)
            mask_record(mask, model.mesh.part_names, out / BASELINE / category / f"{iid}.json")
        if progress is not None:
            progress(i + 1, len(samples))
    return {
        "seconds_per_image": float(np.mean(per_image)) if per_image else math.nan,
        "pose_stage_seconds_per_image": float(np.mean(pose_stage)) if pose_stage else math.nan,
        "baseline_seconds_per_image": float(np.mean(base_times)) if base_times else math.nan,
        "num_images": len(samples),
    }


def score_methods(out_dir: str | Path, methods=(*METHODS, BASELINE)) -> dict:
    """EvalReport per method from the records under ``out_dir`` (methods without records are skipped)."""
    out = Path(out_dir)
    reports = {}
    for m in methods:
        if not (out / m).is_dir():
            continue
        opts = Part321EvalOptions(allow_missing=(m == BASELINE))
        reports[m] = evaluate_part321(out / "gt", out / m, opts)
    return reports


def summarize(reports: dict) -> dict:
    """The bench JSON's ``methods`` block: overall and per-category values per method.

    Keys: pose_acc_pi6, chamfer (x100, squared), box_iou, miou_2d, per_category. The 2D baseline
    has only miou_2d (its 3D values are null).
    """
    out = {}
    for m, rep in reports.items():
        t = {name: rep.table(name) for name in ("pose_acc_pi_6", "chamfer", "box_iou_3d", "miou_2d")}
        two_d = m == BASELINE

        def val(name, cat=None, t=t, two_d=two_d):
            if two_d and name != "miou_2d":
                return None
            v = t[name].overall if cat is None else t[name].per_category.get(cat, math.nan)
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

        cats = sorted(t["miou_2d"].per_category)
        out[m] = {
            "pose_acc_pi6": val("pose_acc_pi_6"),
            "chamfer": val("chamfer"),
            "box_iou": val("box_iou_3d"),
            "miou_2d": val("miou_2d"),
            "per_category": {c: {"pose_acc_pi6": val("pose_acc_pi_6", c), "chamfer": val("chamfer", c),
                                 "box_iou": val("box_iou_3d", c), "miou_2d": val("miou_2d", c)} for c in cats},
        }
    return out


def format_methods_table(methods: dict, digits: int = 1) -> str:
    """A text table: method x (Acc@pi/6 %, CD x10^-2, 3D box IoU %, 2D mIoU %)."""

    def f(v, scale=1.0):
        return "-" if v is None else f"{v * scale:.{digits}f}"

    rows = [("method", "Acc@pi/6", "CD(1e-2)", "3D box IoU", "2D mIoU")]
    for m, d in methods.items():
        rows.append((m, f(d["pose_acc_pi6"], 100), f(d["chamfer"]), f(d["box_iou"], 100), f(d["miou_2d"], 100)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def format_category_table(methods: dict, method: str = "part321", digits: int = 1) -> str:
    """Table 1-style per-category rows of one method."""
    d = methods.get(method)
    if d is None:
        return ""

    def f(v, scale=1.0):
        return "-" if v is None else f"{v * scale:.{digits}f}"

    rows = [("category", "Acc@pi/6", "CD(1e-2)", "3D box IoU", "2D mIoU")]
    for c, v in d["per_category"].items():
        rows.append((c, f(v["pose_acc_pi6"], 100), f(v["chamfer"]), f(v["box_iou"], 100), f(v["miou_2d"], 100)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def with_inference(model: Part321, **changes) -> Part321:
    """The same model with some inference settings changed (shares the trained parts)."""
    m = Part321(replace(model.config, inference=replace(model.config.inference, **changes)), device=model.device)
    m.mesh, m.net, m.meta = model.mesh, model.net, model.meta
    return m
