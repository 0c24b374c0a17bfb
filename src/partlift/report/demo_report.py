"""The demo's HTML page, built only from what a demo run saved (``partlift report RUN_DIR``).

Inputs under ``RUN_DIR`` (written by :mod:`partlift.experiments.demo`): ``run.json`` (provenance, stage
timings), ``config.json``, ``partstad/results.json``, ``part321/results.json`` and the gallery data
(``<method>/gallery/data.json`` and its NPZ files, drawn by :mod:`partlift.report.gallery`). A method
whose results are missing is reported as not run; nothing is recomputed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from partlift.errors import ReadError
from partlift.report.gallery import draw_part321_gallery, draw_partstad_gallery
from partlift.report.html import Report
from partlift.report.paper_numbers import PART321_PAPER, PART321_SOURCE, PARTSTAD_PAPER, PARTSTAD_SOURCE

PARTSTAD_LABELS = {
    "satr": "SATR", "satr_sp": "SATR+SP", "partslip": "PartSLIP", "wo_weights": "PartSTAD w/o weight pred.",
    "wo_masks": "PartSTAD w/o masks", "partstad": "PartSTAD", "ce_loss": "PartSTAD, CE loss",
    "conf_weights": "PartSTAD, conf. as weight",
}
PART321_LABELS = {"part321": "Part321", "wo_scaling": "w/o scaling", "wo_constraint": "w/o constraint",
                  "wo_deformation": "w/o deformation", "seg2d_baseline": "2D U-Net baseline"}


def _read_json(path: Path):
    """A saved result, None when it was never written; a damaged one is an error, not "not run"."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ReadError(f"{path} is damaged ({exc}); delete it and rerun the demo with the same --out to "
                        "recompute it") from None


def _pct(v):
    return None if v is None else 100.0 * float(v)


def _num(v):
    return None if v is None else float(v)


def _legend(names, pal):
    return [(n, [int(c) for c in pal[k]]) for k, n in enumerate(names)]


def _label_colors(labels: np.ndarray, pal: np.ndarray) -> np.ndarray:
    lab = np.asarray(labels, np.int64)
    out = np.full((len(lab), 3), 170, np.int64)
    ok = (lab >= 0) & (lab < len(pal))
    out[ok] = pal[lab[ok]]
    return out


def _open_section(rep: Report, run_dir: Path, method: str, title: str) -> dict | None:
    """Heading of a method's section; its saved results, or None (and a note) when it was not run."""
    rep.heading(title, anchor=method)
    res = _read_json(run_dir / method / "results.json")
    if res is None:
        rep.paragraph(f"Not run (no {method}/results.json in the run folder).", note=True)
    return res


def _summary_table(rep: Report, methods: dict, labels: dict, paper: dict, columns, caption: str) -> None:
    """Our rows, then the papers' rows for the same methods (styled apart).

    columns: (header, key, formatter) per metric column.
    """
    def row(name: str, values: dict) -> list:
        return [name] + [fmt(values.get(key)) for _, key, fmt in columns]

    rows = [row(labels.get(m, m), v) for m, v in methods.items()]
    start = len(rows)
    rows += [row(f"{labels.get(m, m)} (paper)", paper[m]) for m in methods if m in paper]
    rep.table(["method"] + [h for h, _, _ in columns], rows, paper_rows=range(start, len(rows)), caption=caption)


def _first_per_category(entries: list[dict]) -> list[dict]:
    """The first gallery entry of each category (one 3D view per category keeps the page light)."""
    first: dict[str, dict] = {}
    for e in entries:
        first.setdefault(e["category"], e)
    return list(first.values())


# ------------------------------------------------------------------------------------------- sections
def _partstad_section(rep: Report, run_dir: Path, cfg: dict) -> None:
    from partlift.report.figures import palette

    res = _open_section(rep, run_dir, "partstad", "PartSTAD: few-shot 3D part segmentation")
    if res is None:
        return
    st = res["settings"]
    rep.paragraph(
        f"Point clouds of {', '.join(st['categories'])} segmented into named parts from 8 annotated shapes per "
        f"category: 10 PartSLIP views, 2D part proposals from a CNN trained on renders of the 8 shapes "
        f"({st['proposer_steps']} steps), superpoints by cut pursuit, voting, and PartSTAD's learned proposal "
        f"weights ({st['epochs']} epochs, best epoch on 8 validation shapes). Scored on "
        f"{st['test_shapes'] or 'all'} test shapes per category with the PartNetE protocol.")
    methods = res["methods"]
    _summary_table(rep, methods, PARTSTAD_LABELS, PARTSTAD_PAPER,
                   [("mIoU (%)", "miou", _pct), ("mAP50 part-aware (%)", "map50_part_aware", _pct),
                    ("mAP50 part-agnostic (%)", "map50_part_agnostic", _pct)],
                   caption=f"Ours: embedded procedural data. Grey italic rows: {PARTSTAD_SOURCE} - measured on "
                           "different data with different 2D models, shown for scale only.")
    cats = list(next(iter(methods.values()))["per_category"])
    rep.heading("Per category", level=3, anchor="partstad-per-category")
    ccols = ["category"] + [f"{PARTSTAD_LABELS.get(m, m)} mIoU" for m in methods]
    if "partstad" in methods:
        ccols += ["PartSTAD mAP50 part-aware", "PartSTAD mAP50 part-agnostic"]
    crows = []
    for c in cats:
        row = [c] + [_pct(methods[m]["per_category"][c]["miou"]) for m in methods]
        if "partstad" in methods:
            pc = methods["partstad"]["per_category"][c]
            row += [_pct(pc["map50_part_aware"]), _pct(pc["map50_part_agnostic"])]
        crows.append(row)
    rep.table(ccols, crows, caption="Values in %.")
    if "partstad" in methods:
        rep.heading("Per part (PartSTAD mIoU, %)", level=3, anchor="partstad-per-part")
        for c in cats:
            parts = methods["partstad"]["per_category"][c].get("per_part_miou") or {}
            if parts:
                rep.table(["category"] + list(parts), [[c] + [_pct(v) for v in parts.values()]])

    gal = draw_partstad_gallery(run_dir)
    if gal:
        rep.heading("Gallery", level=3, anchor="partstad-gallery")
        rep.paragraph("Per test shape and view: the input point cloud rendered in one of the 10 views | the 2D "
                      "proposals of that view (masks in their part colour, boxes outlined) | PartSTAD's "
                      "prediction | ground truth. Grey: points left without a part.", note=True)
        rows = []
        for e in gal:
            for v in e["views"]:
                tag = f"{e['category']} {e['shape']} view {v['view']}"
                rows.append([(run_dir / v["input"], f"{tag}: input"),
                             (run_dir / v["proposals"], f"{v['num_proposals']} proposals"),
                             (run_dir / v["prediction"], "prediction"), (run_dir / v["ground_truth"], "ground truth")])
        rep.gallery(rows, columns=4)
        rep.heading("3D view", level=3, anchor="partstad-3d")
        rep.paragraph("Drag to rotate, wheel to zoom, double-click to reset.", note=True)
        for e in _first_per_category(gal):
            with np.load(run_dir / e["points"]) as z:
                pts, pred, gt = z["points"], z["pred"], z["gt"]
            pal = palette(len(e["part_names"]))
            leg = _legend(e["part_names"], pal)
            rep.point_cloud(pts, _label_colors(pred, pal), f"{e['category']} {e['shape']}: PartSTAD", leg)
            rep.point_cloud(pts, _label_colors(gt, pal), f"{e['category']} {e['shape']}: ground truth", leg)


def _part321_section(rep: Report, run_dir: Path, cfg: dict) -> None:
    from partlift.report.figures import palette

    res = _open_section(rep, run_dir, "part321", "Part321: 3D parts from one image")
    if res is None:
        return
    st = res["settings"]
    cats = st.get("categories") or []
    ep = st["model"]["training"]["epochs"]
    rep.paragraph(
        f"From one image of a {' / '.join(cats)}, Part321 recovers the object's pose and each part's 3D box and "
        f"shape, using one part-annotated template mesh per category and unannotated training meshes: "
        f"template-to-mesh correspondence, a deformation network, a neural mesh whose vertex features are "
        f"learned contrastively with an image CNN ({ep} epochs), then render-and-compare inference (144 initial "
        f"poses, pose stage, part stage). Scored on {st['test_images']} test images per category.")
    ds = st.get("dataset") or {}
    from partlift.part321.feature_training import FeatureTrainingConfig

    full_epochs = FeatureTrainingConfig().epochs  # what `partlift bench part321` trains
    if ds or ep < full_epochs:
        from partlift.datasets.images import ImageDatasetConfig

        full = ImageDatasetConfig()
        meshes, views = ds.get("n_train_meshes", full.n_train_meshes), ds.get("views_per_mesh", full.views_per_mesh)
        rep.paragraph(f"Training here is shortened to fit the demo's time budget: {meshes} training meshes x {views} "
                      f"views, {ep} epochs, against {full.n_train_meshes} meshes x {full.views_per_mesh} views and "
                      f"{full_epochs} epochs in `partlift bench part321`; expect lower pose accuracy than there "
                      "(docs/BENCHMARKS.md, Part321).", note=True)
    methods = res["methods"]
    _summary_table(rep, methods, PART321_LABELS, PART321_PAPER,
                   [("pose Acc@pi/6 (%)", "pose_acc_pi6", _pct), ("Chamfer (x10^2, lower better)", "chamfer", _num),
                    ("3D box IoU (%)", "box_iou", _pct), ("2D mIoU (%)", "miou_2d", _pct)],
                   caption=f"Ours: embedded procedural data, camera frame, unit-box objects. Grey italic rows: "
                           f"{PART321_SOURCE} - different data and protocol, shown for scale only. The 2D baseline "
                           f"predicts 2D parts only.")
    rep.heading("Per category", level=3, anchor="part321-per-category")
    full = methods.get("part321")
    if full:
        crows = [[c, _pct(v["pose_acc_pi6"]), _num(v["chamfer"]), _pct(v["box_iou"]), _pct(v["miou_2d"]),
                  _pct(methods.get("seg2d_baseline", {}).get("per_category", {}).get(c, {}).get("miou_2d"))]
                 for c, v in full["per_category"].items()]
        rep.table(["category", "Acc@pi/6 (%)", "Chamfer (x10^2)", "3D box IoU (%)", "2D mIoU (%)",
                   "2D baseline mIoU (%)"], crows)

    gal = draw_part321_gallery(run_dir)
    if gal:
        rep.heading("Gallery", level=3, anchor="part321-gallery")
        rep.paragraph("Per test image: input | the fit: outline of the projected recognised mesh (yellow) over "
                      "the object's true outline (cyan), with their silhouette IoU | predicted 2D parts (projection "
                      "of the recognised 3D parts) | predicted 3D part boxes projected into the image | ground "
                      "truth (part mask and boxes).", note=True)
        rows = []
        for e in gal:
            err = e.get("pose_error_deg")
            perr = "no pose" if err is None else f"pose error {err:.0f} deg"
            sil = e.get("silhouette_iou")
            fit = "fit" if sil is None else f"fit: silhouette IoU {sil:.2f}"
            rows.append([(run_dir / e["input"], f"{e['category']} {e['image']}"),
                         (run_dir / e["fit_outline"], fit) if "fit_outline" in e else (run_dir / e["input"], ""),
                         (run_dir / e["parts_2d"], "predicted 2D parts"),
                         (run_dir / e["boxes_3d"], f"predicted 3D boxes ({perr})"),
                         (run_dir / e["ground_truth"], "ground truth")])
        rep.gallery(rows, columns=5)
        rep.heading("3D view", level=3, anchor="part321-3d")
        rep.paragraph("The recognised parts in the camera frame (y up on screen). Drag to rotate.", note=True)
        for e in _first_per_category(gal):
            with np.load(run_dir / e["points"]) as z:
                pts, lab = z["points"], z["labels"]
            if not len(pts):
                continue
            pal = palette(len(e["part_names"]))
            pts = pts * np.array([1.0, -1.0, -1.0], np.float32)  # OpenCV camera frame -> y up, z towards viewer
            rep.point_cloud(pts, _label_colors(lab, pal), f"{e['category']} {e['image']}: recognised parts",
                            _legend(e["part_names"], pal))


def _timing_section(rep: Report, run_dir: Path, info: dict) -> None:
    rep.heading("Time", anchor="time")
    stages = info.get("stage_seconds", {})
    reused = set(info.get("reused_stages", []))
    rows = [[k, float(v), "reused from an earlier run" if k in reused else ""] for k, v in stages.items()]
    rows.append(["total", float(sum(stages.values())), ""])
    rep.table(["stage", "seconds", ""], rows, digits=1)
    extra = []
    pst = _read_json(run_dir / "partstad" / "results.json")
    if pst:
        t = pst["timing"]
        if t.get("inference_s_per_shape"):
            extra.append(["PartSTAD inference per shape (render, proposals, superpoints, voting)",
                          t["inference_s_per_shape"]])
        extra.append(["PartSTAD proposer training per category", t["proposer_train_s"]])
    p321 = _read_json(run_dir / "part321" / "results.json")
    if p321:
        t = p321["timing"]
        extra.append(["Part321 inference per image", t["seconds_per_image"]])
        extra.append(["Part321 training per category", t["train_seconds_per_category"]])
    if extra:
        rep.table(["measure", "seconds"], extra, digits=2)


def _provenance_section(rep: Report, info: dict, cfg: dict) -> None:
    rep.heading("Provenance", anchor="provenance")
    prov = dict(info.get("provenance", {}))
    prov.pop("config", None)
    pk = prov.pop("packages", {}) or {}
    rows = [["git commit", prov.get("git_commit") or "unknown"], ["created", prov.get("created")],
            ["seed", prov.get("seed")], ["python", prov.get("python")], ["platform", prov.get("platform")]]
    rows += [[name, ver or "not installed"] for name, ver in pk.items()]
    rep.table(["item", "value"], rows)
    rep.paragraph("Configuration (config.json in the run folder; rerun with the same settings to reproduce):",
                  note=True)
    rep.preformatted(json.dumps(cfg, indent=1))


def build_report(run_dir: str | Path) -> Path:
    """Write ``RUN_DIR/report.html`` from the saved results of a demo run; returns its path."""
    from partlift.experiments.demo import load_run_info

    run_dir = Path(run_dir)
    info = load_run_info(run_dir)
    cfg = _read_json(run_dir / "config.json") or {}
    title = "partlift demo" + (" (quick)" if cfg.get("quick") else "")
    rep = Report(title, run_dir)
    note = ("Quick preset: tiny training, so the numbers only show that every stage runs; run `partlift demo` "
            "without --quick for meaningful ones. " if cfg.get("quick") else "")
    rep.paragraph(note + "Both methods of partlift trained and evaluated on its embedded procedural data: PartSTAD "
                  "lifts 2D part proposals onto point clouds; Part321 recognises 3D parts from single images. "
                  "Percentages unless marked; the papers' own numbers are in grey italics and come from different "
                  "data.", note=bool(note))
    _partstad_section(rep, run_dir, cfg)
    _part321_section(rep, run_dir, cfg)
    _timing_section(rep, run_dir, info)
    _provenance_section(rep, info, cfg)
    return rep.write()
