"""The demo's gallery pictures, drawn from the arrays a demo run saved.

:mod:`partlift.experiments.demo` saves, per gallery item, what a picture needs (rendered views,
proposals, labels, eval records) and lists them in ``<method>/gallery/data.json``; the functions here
draw the PNGs beside them and return the rows of the HTML gallery. Drawing is cheap, so it is redone
whenever the report is built.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from partlift.errors import ReadError
from partlift.geometry.atomic import atomic_savez, atomic_write_json
from partlift.metrics.segmentation import silhouette_iou
from partlift.report.figures import draw_boxes, draw_proposals, overlay_labels, owner_label_image, save_png, upscale


def _entries(path: Path) -> list[dict]:
    """The gallery items a run saved ([] when it saved none); damaged data is an error naming the file."""
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ReadError(f"{path} is damaged ({exc}); delete the run's stages/*gallery*.json and rerun the demo "
                        "with the same --out") from None
    if not isinstance(data, list):
        raise ReadError(f"{path} is not a gallery list")
    return data


def _arrays(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ReadError(f"gallery data {path} is damaged ({exc}); delete the run's stages/*gallery*.json and "
                        "rerun the demo with the same --out") from None


def draw_partstad_gallery(run_dir: str | Path) -> list[dict]:
    """PNGs of each saved PartSTAD gallery shape: per view the input | proposals | prediction |
    ground truth. Returns one entry per shape: ``category``, ``shape``, ``part_names``, ``points``
    (NPZ with ``points``, ``pred``, ``gt``) and ``views`` (per view the four PNG paths, relative to
    ``run_dir``, and ``num_proposals``)."""
    run_dir = Path(run_dir)
    out = run_dir / "partstad" / "gallery"
    entries = []
    for e in _entries(out / "data.json"):
        n = len(e["part_names"])
        d = _arrays(run_dir / e["data"])
        row = {"category": e["category"], "shape": e["shape"], "part_names": e["part_names"],
               "points": e["data"], "views": []}
        stem = out / e["category"] / e["shape"]
        for i, v in enumerate(d["views"].tolist()):
            img, pix = d["images"][i], d["point_index"][i]
            sel = d["proposal_view"] == v
            files = {
                "input": save_png(f"{stem}_v{v}_input.png", upscale(img, 2)),
                "proposals": save_png(f"{stem}_v{v}_proposals.png", draw_proposals(
                    img, d["proposal_masks"][sel], d["proposal_box"][sel], d["proposal_label"][sel],
                    d["proposal_score"][sel], n, scale=2)),
                "prediction": save_png(f"{stem}_v{v}_pred.png", upscale(owner_label_image(pix, d["pred"], n), 2)),
                "ground_truth": save_png(f"{stem}_v{v}_gt.png", upscale(owner_label_image(pix, d["gt"], n), 2)),
            }
            row["views"].append({"view": int(v), "num_proposals": int(sel.sum()),
                                 **{k: str(p.relative_to(run_dir)) for k, p in files.items()}})
        entries.append(row)
    if entries:  # the page's record of what it showed
        atomic_write_json(out / "gallery.json", entries, indent=None)
    return entries


def record_boxes(record, part_names) -> list:
    """The record's part boxes in ``part_names`` order: the stored box, else the oriented box of the
    part's points (>= 4), else None."""
    from partlift.geometry.boxes import oriented_box

    boxes = []
    for name in part_names:
        part = record.parts.get(name)
        pts = None if part is None else part.points
        if part is not None and part.box is not None:
            boxes.append(part.box)
        elif pts is not None and len(pts) >= 4:
            boxes.append(oriented_box(pts))
        else:
            boxes.append(None)
    return boxes


def mask_outline(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool outline of a label map's foreground (label >= 0 pixels with a background 4-neighbour)."""
    from scipy import ndimage

    fg = np.asarray(mask) >= 0
    return fg & ~ndimage.binary_erosion(fg, border_value=0)


def draw_fit_outline(image: np.ndarray, pred_mask: np.ndarray, true_mask: np.ndarray, scale: int) -> np.ndarray:
    """The input (dimmed) with the fitted silhouette's outline in yellow and the object's true
    outline in cyan, upscaled by ``scale``: a fit that misses the object shows at a glance."""
    big = upscale(np.asarray(image, np.uint8), scale).astype(np.float32) * 0.6
    for mask, colour in ((true_mask, (0, 220, 255)), (pred_mask, (255, 230, 0))):
        up = np.kron(np.asarray(mask), np.ones((scale, scale), np.int64)) if scale > 1 else np.asarray(mask)
        big[mask_outline(up)] = colour
    return big.astype(np.uint8)


def draw_part321_gallery(run_dir: str | Path) -> list[dict]:
    """PNGs of each saved Part321 gallery image: input | fitted outline over the input |
    predicted 2D parts | predicted 3D boxes | ground truth (mask and boxes), and an NPZ of the
    predicted parts' points for the 3D view. Returns one entry per image with those paths relative
    to ``run_dir`` and the fit's silhouette IoU."""
    from partlift.metrics.eval_formats import read_part321_record
    from partlift.report.figures import palette

    run_dir = Path(run_dir)
    out = run_dir / "part321" / "gallery"
    entries = []
    for e in _entries(out / "data.json"):
        z = _arrays(run_dir / e["data"])
        image, K = z["image"], z["K"]  # noqa: N806 - intrinsic matrix
        pred = read_part321_record(run_dir / e["prediction"])
        gt = read_part321_record(run_dir / e["ground_truth"])
        names = list(e["part_names"])
        n, pal = len(names), palette(len(names))
        scale = max(1, 256 // max(image.shape[:2]))
        pmask = pred.mask if pred.mask is not None else np.full(image.shape[:2], -1)
        gmask = gt.mask if gt.mask is not None else np.full(image.shape[:2], -1)
        stem = out / e["category"] / e["image"]
        files = {
            "input": save_png(f"{stem}_input.png", upscale(image, scale)),
            "fit_outline": save_png(f"{stem}_fit.png", draw_fit_outline(image, pmask, gmask, scale)),
            "parts_2d": save_png(f"{stem}_parts2d.png", upscale(overlay_labels(image, pmask, n), scale)),
            "boxes_3d": save_png(f"{stem}_boxes3d.png", draw_boxes(image, record_boxes(pred, names), K, pal, scale)),
            "ground_truth": save_png(f"{stem}_gt.png", draw_boxes(overlay_labels(image, gmask, n),
                                                                  record_boxes(gt, names), K, pal, scale, dim=False)),
        }
        pts, lab = [], []
        for k, name in enumerate(names):
            part = pred.parts.get(name)
            if part is not None and part.points is not None and len(part.points):
                pts.append(np.asarray(part.points, np.float32))
                lab.append(np.full(len(part.points), k, np.int16))
        npz = Path(f"{stem}_parts3d.npz")
        atomic_savez(npz, points=np.concatenate(pts) if pts else np.zeros((0, 3), np.float32),
                     labels=np.concatenate(lab) if lab else np.zeros(0, np.int16))
        entries.append({"category": e["category"], "image": e["image"], "part_names": names,
                        "pose_error_deg": e.get("pose_error_deg"), "points": str(npz.relative_to(run_dir)),
                        "silhouette_iou": silhouette_iou(pmask, gmask),
                        **{k: str(p.relative_to(run_dir)) for k, p in files.items()}})
    if entries:  # the page's record of what it showed
        atomic_write_json(out / "gallery.json", entries, indent=None)
    return entries
