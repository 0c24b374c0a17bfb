"""Single-file readers and writers of the evaluation formats (docs/FORMATS.md, "Metric files").

Two formats, both written by the methods and read by ``partlift eval``:

* PartNetE label files (``<Category>/<shape_id>/label.npy``): ground truth as released by PartSLIP,
  predictions in the same dict plus one label and one confidence per predicted instance
  (:func:`save_partnete_prediction`, :func:`read_partnete_label_file`).
* Part321 per-image records (``<Category>/<image_id>.json``): pose, per-part points and boxes, and a
  2D part mask (:func:`save_part321_record`, :func:`read_part321_record`).

Readers raise :class:`~partlift.errors.ReadError` / :class:`~partlift.errors.LabelMismatchError`
naming the file; directory walking and collecting every problem is done in ``partlift.metrics.io``.
This module sits in the datasets layer so that the methods can write their outputs without
importing the metrics.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from partlift.errors import LabelMismatchError, ReadError
from partlift.geometry.atomic import atomic_save_npy, atomic_write_bytes, atomic_write_json
from partlift.geometry.boxes import Box3D
from partlift.geometry.io import integer_labels
from partlift.geometry.safe_load import load_npy

PARTNETE_PREDICTION_FORMAT = "partlift-partnete-prediction"
PART321_RECORD_FORMAT = "partlift-part321-eval"
FORMAT_VERSION = 1


# ----------------------------------------------------------------------------------------- PartNetE


@dataclass(frozen=True)
class PartneteLabels:
    """The content of one PartNetE ``label.npy`` (ground truth or prediction).

    Attributes:
        semantic: (N,) int64 part label per point, -1 = no part.
        instance: (N,) int64 instance id per point, -1 = no instance; None if the file has no
            ``instance_seg``.
        instance_label: (K,) int64 part label of instance id k (predictions only, else None).
        instance_score: (K,) float64 confidence of instance id k (predictions only, else None).
        part_names: the part names stored in the file, or None.
    """

    semantic: np.ndarray
    instance: np.ndarray | None = None
    instance_label: np.ndarray | None = None
    instance_score: np.ndarray | None = None
    part_names: tuple[str, ...] | None = None


def _int_vector(d: dict, key: str, path: Path) -> np.ndarray:
    return integer_labels(d[key], f"{path}: '{key}'", error=ReadError)


def read_partnete_label_file(path: str | os.PathLike, prediction: bool = False) -> PartneteLabels:
    """Read a PartNetE ``label.npy`` dict (ground truth, or a prediction if ``prediction``).

    A prediction that has ``instance_seg`` must also have ``instance_label`` and ``instance_score``
    (one entry per instance id; ids in ``instance_seg`` must be < their length), finite scores.
    Raises ReadError / LabelMismatchError naming ``path``.
    """
    p = Path(path)
    if not p.is_file():
        raise ReadError(f"label file not found: {p}")
    d = load_npy(p, what="PartNetE label file")  # restricted unpickling: the file may come from anyone
    if not isinstance(d, dict) or "semantic_seg" not in d:
        raise ReadError(f"{p} is not a PartNetE label dict with 'semantic_seg'")
    sem = _int_vector(d, "semantic_seg", p)
    ins = _int_vector(d, "instance_seg", p) if "instance_seg" in d else None
    if ins is not None and len(ins) != len(sem):
        raise LabelMismatchError(f"{p}: semantic_seg has {len(sem)} entries but instance_seg has {len(ins)}")
    names = d.get("part_names")
    names = None if names is None else tuple(str(s) for s in names)
    if not prediction:
        return PartneteLabels(sem, ins, part_names=names)
    lab = score = None
    if ins is not None:
        missing = [k for k in ("instance_label", "instance_score") if k not in d]
        if missing:
            raise ReadError(
                f"{p}: a prediction with 'instance_seg' needs {' and '.join(missing)} "
                "(one part label and one confidence per instance id; confidences are never assumed)"
            )
        lab = _int_vector(d, "instance_label", p)
        score = np.asarray(d["instance_score"], dtype=np.float64).reshape(-1)
        if len(lab) != len(score):
            raise LabelMismatchError(
                f"{p}: instance_label has {len(lab)} entries but instance_score has {len(score)}"
            )
        if not np.all(np.isfinite(score)):
            raise ReadError(f"{p}: instance_score contains NaN/Inf")
        if ins.min(initial=-1) < -1 or ins.max(initial=-1) >= len(lab):
            raise LabelMismatchError(
                f"{p}: instance_seg ids must lie in [-1, {len(lab) - 1}] (one instance_label entry per id), "
                f"found {int(ins.min())}..{int(ins.max())}"
            )
    return PartneteLabels(sem, ins, lab, score, names)


def save_partnete_prediction(
    folder: str | os.PathLike,
    semantic_seg: np.ndarray,
    instance_seg: np.ndarray | None = None,
    instance_label: Sequence[int] | np.ndarray | None = None,
    instance_score: Sequence[float] | np.ndarray | None = None,
    part_names: Sequence[str] | None = None,
) -> Path:
    """Write a PartNetE prediction ``<folder>/label.npy`` for ``partlift eval partstad``.

    Args:
        folder: the shape's folder ``<pred root>/<Category>/<shape_id>`` (created).
        semantic_seg: (N,) int part label per point, -1 = no part.
        instance_seg: optional (N,) int instance id per point (0..K-1), -1 = no instance.
        instance_label: (K,) int part label of each instance id (required with ``instance_seg``).
        instance_score: (K,) float confidence of each instance id (required with ``instance_seg``).
        part_names: optional category part names, checked against the ground truth's at eval time.

    Returns the written path. The file is written atomically (temp + rename).
    """
    folder = Path(folder)
    sem = np.asarray(semantic_seg).astype(np.int32).reshape(-1)
    d: dict = {"format": PARTNETE_PREDICTION_FORMAT, "version": FORMAT_VERSION, "semantic_seg": sem}
    if instance_seg is not None:
        if instance_label is None or instance_score is None:
            raise ValueError("instance_seg needs instance_label and instance_score (one per instance id)")
        ins = np.asarray(instance_seg).astype(np.int32).reshape(-1)
        lab = np.asarray(instance_label).astype(np.int32).reshape(-1)
        score = np.asarray(instance_score, dtype=np.float64).reshape(-1)
        if len(ins) != len(sem):
            raise LabelMismatchError(f"instance_seg has {len(ins)} entries, semantic_seg {len(sem)}")
        if len(lab) != len(score) or ins.max(initial=-1) >= len(lab):
            raise LabelMismatchError(
                f"need one instance_label and instance_score per instance id: {len(lab)} labels, "
                f"{len(score)} scores, largest id {int(ins.max(initial=-1))}"
            )
        if not np.all(np.isfinite(score)):
            raise ValueError("instance_score contains NaN/Inf")
        d.update(instance_seg=ins, instance_label=lab, instance_score=score)
    if part_names is not None:
        d["part_names"] = [str(s) for s in part_names]
    return atomic_save_npy(folder / "label.npy", d, allow_pickle=True)


# ------------------------------------------------------------------------------------------ Part321


@dataclass(frozen=True)
class Part321Part:
    """One part of a Part321 record. ``points``: (M, 3) float64 or None; ``box``: Box3D or None."""

    points: np.ndarray | None = None
    box: Box3D | None = None


@dataclass(frozen=True)
class Part321Record:
    """One image of a Part321 evaluation set (ground truth or prediction).

    Attributes:
        pose: (3,) float64 (azimuth, elevation, theta) in radians; NaN where the method gave none.
        parts: part name -> Part321Part.
        mask: (H, W) int64 part label map (-1 = background) or None.
        part_names: the ordered part names stored in the record (indexed by ``mask``), or None.
    """

    pose: np.ndarray
    parts: dict[str, Part321Part] = field(default_factory=dict)
    mask: np.ndarray | None = None
    part_names: tuple[str, ...] | None = None


def _load_points(value: Any, base: Path, where: str) -> np.ndarray:
    if isinstance(value, str):
        f = base / value
        if not f.is_file():
            raise ReadError(f"{where}: points file not found: {f}")
        try:
            if f.suffix.lower() == ".npy":
                pts = np.load(f, allow_pickle=False)
            else:
                import trimesh

                pts = np.asarray(trimesh.load(f, process=False).vertices)  # type: ignore[attr-defined]  # a Scene raises
        except Exception as exc:
            raise ReadError(f"{where}: cannot read points file {f}: {type(exc).__name__}: {exc}") from exc
    else:
        pts = value
    pts = np.asarray(pts, dtype=np.float64)
    if pts.size == 0:
        return np.zeros((0, 3))
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ReadError(f"{where}: points must be (M, 3), got shape {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise ReadError(f"{where}: points contain NaN/Inf")
    return pts


def _load_mask(value: Any, base: Path, where: str) -> np.ndarray:
    if isinstance(value, str):
        f = base / value
        if not f.is_file():
            raise ReadError(f"{where}: mask file not found: {f}")
        try:
            if f.suffix.lower() == ".npy":
                m = np.asarray(np.load(f, allow_pickle=False))
            else:
                from PIL import Image

                # PNG masks store label + 1 (0 = background), docs/CONVENTIONS.md "Labels".
                m = np.asarray(Image.open(f)).astype(np.int64) - 1
        except Exception as exc:
            raise ReadError(f"{where}: cannot read mask {f}: {type(exc).__name__}: {exc}") from exc
    else:
        m = np.asarray(value)
    if m.ndim != 2:
        raise ReadError(f"{where}: mask must be a 2-D label map, got shape {m.shape}")
    if m.size and not np.issubdtype(m.dtype, np.integer):
        raise ReadError(f"{where}: mask must hold integer labels, got dtype {m.dtype}")
    return m.astype(np.int64)


def read_part321_record(path: str | os.PathLike) -> Part321Record:
    """Read a Part321 per-image JSON record (format in docs/FORMATS.md). Relative file paths
    inside it are resolved against the JSON's folder. Raises ReadError naming the file."""
    p = Path(path)
    if not p.is_file():
        raise ReadError(f"record not found: {p}")
    try:
        d = json.loads(p.read_text())
    except Exception as exc:
        raise ReadError(f"cannot read {p}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(d, dict) or d.get("format") != PART321_RECORD_FORMAT:
        raise ReadError(f"{p} is not a '{PART321_RECORD_FORMAT}' record (missing or wrong 'format' field)")
    if "pose" not in d or not isinstance(d["pose"], dict):
        raise ReadError(f"{p}: missing 'pose' object with azimuth, elevation, theta (radians; null if unknown)")
    pose = []
    for key in ("azimuth", "elevation", "theta"):
        if key not in d["pose"]:
            raise ReadError(f"{p}: pose has no '{key}'")
        v = d["pose"][key]
        try:
            pose.append(math.nan if v is None else float(v))
        except (TypeError, ValueError) as exc:
            raise ReadError(f"{p}: pose '{key}' is not a number: {v!r}") from exc
    parts: dict[str, Part321Part] = {}
    raw_parts = d.get("parts", {})
    if not isinstance(raw_parts, dict):
        raise ReadError(f"{p}: 'parts' must be an object mapping part name -> {{points, box}}")
    for name, rec in raw_parts.items():
        where = f"{p} part {name!r}"
        if not isinstance(rec, dict):
            raise ReadError(f"{where}: must be an object with 'points' / 'points_file' and/or 'box'")
        pts = None
        if "points" in rec:
            pts = _load_points(rec["points"], p.parent, where)
        elif "points_file" in rec:
            pts = _load_points(str(rec["points_file"]), p.parent, where)
        box = None
        if rec.get("box") is not None:
            try:
                box = Box3D.from_dict(rec["box"])
            except Exception as exc:
                raise ReadError(f"{where}: bad box {rec['box']!r}: {type(exc).__name__}: {exc}") from exc
            if box.center.shape != (3,) or box.size.shape != (3,) or box.rotation.shape != (3, 3):
                raise ReadError(f"{where}: box needs center (3,), size (3,), rotation (3, 3)")
            if not (np.all(np.isfinite(box.center)) and np.all(np.isfinite(box.size))
                    and np.all(np.isfinite(box.rotation))) or np.any(box.size < 0):
                raise ReadError(f"{where}: box has NaN/Inf or negative size")
            r = box.rotation
            if not np.allclose(r @ r.T, np.eye(3), atol=1e-4) or np.linalg.det(r) <= 0:
                raise ReadError(f"{where}: box rotation is not a proper rotation (orthonormal, det +1)")
        parts[str(name)] = Part321Part(pts, box)
    mask = None if d.get("mask") is None else _load_mask(d["mask"], p.parent, f"{p} mask")
    names = d.get("part_names")
    names = None if names is None else tuple(str(s) for s in names)
    return Part321Record(np.asarray(pose, dtype=np.float64), parts, mask, names)


def save_part321_record(
    path: str | os.PathLike,
    pose: Sequence[float] | None,
    parts: Mapping[str, Mapping],
    mask: np.ndarray | None = None,
    part_names: Sequence[str] | None = None,
) -> Path:
    """Write a Part321 per-image record for ``partlift eval part321``.

    Args:
        path: ``<root>/<Category>/<image_id>.json``; the mask goes beside it as
            ``<image_id>_mask.png`` (label + 1, 0 = background).
        pose: (azimuth, elevation, theta) radians, or None if the method has no pose.
        parts: part name -> {"points": (M, 3) array (optional), "box": Box3D (optional)}.
        mask: optional (H, W) int label map indexing ``part_names``, -1 = background.
        part_names: ordered part names (required in ground truth, optional in predictions).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out: dict = {"format": PART321_RECORD_FORMAT, "version": FORMAT_VERSION}
    if part_names is not None:
        out["part_names"] = [str(s) for s in part_names]
    a, e, t = (None, None, None) if pose is None else (float(x) for x in pose)
    out["pose"] = {k: (None if v is None or not math.isfinite(v) else v)
                   for k, v in zip(("azimuth", "elevation", "theta"), (a, e, t), strict=True)}
    out["parts"] = {}
    for name, rec in parts.items():
        entry: dict = {}
        if rec.get("points") is not None:
            entry["points"] = np.asarray(rec["points"], dtype=np.float64).tolist()
        if rec.get("box") is not None:
            entry["box"] = rec["box"].to_dict()
        out["parts"][str(name)] = entry
    if mask is not None:
        import io

        from PIL import Image

        m = np.asarray(mask, dtype=np.int64)
        if m.min(initial=-1) < -1 or m.max(initial=-1) >= 65535:
            raise ValueError("mask labels must lie in [-1, 65534]")
        mask_name = path.stem + "_mask.png"
        code = (m + 1).astype(np.uint8 if m.max(initial=-1) < 255 else np.uint16)
        buf = io.BytesIO()
        Image.fromarray(code).save(buf, format="PNG")
        atomic_write_bytes(path.parent / mask_name, buf.getvalue())  # before the record that names it
        out["mask"] = mask_name
    return atomic_write_json(path, out, indent=None)
