"""Reading and writing part-labelled meshes and PartNetE point clouds (docs/FORMATS.md).

Meshes go through trimesh (OBJ, PLY, GLB/GLTF, STL, OFF); part labels live in a JSON sidecar
``<mesh stem>.labels.json`` beside the mesh file. PartNetE shapes are a folder holding
``pc.ply`` (xyz + rgb) and ``label.npy`` (a pickled dict with ``semantic_seg`` and
``instance_seg``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from partlift.errors import InvalidGeometryError, LabelMismatchError, PartliftError, ReadError
from partlift.geometry.atomic import atomic_save_npy, atomic_write_bytes
from partlift.geometry.partmesh import PartMesh
from partlift.geometry.pointcloud import PartPointCloud
from partlift.geometry.safe_load import load_npy

if TYPE_CHECKING:
    import trimesh

MESH_SUFFIXES = (".obj", ".ply", ".glb", ".gltf", ".stl", ".off")
SIDECAR_FORMAT = "partlift-labels"
SIDECAR_VERSION = 1


def sidecar_path(mesh_path: str | os.PathLike) -> Path:
    """``dir/chair.obj`` -> ``dir/chair.labels.json``."""
    p = Path(mesh_path)
    return p.with_name(p.stem + ".labels.json")


def _existing(path: str | os.PathLike, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise ReadError(f"{what} not found: {p}")
    if p.is_dir():
        raise ReadError(f"{what} is a directory, expected a file: {p}")
    return p


def _check_obj_indices(path: Path) -> None:
    """OBJ face indices are 1-based (negative = relative); trimesh silently wraps a 0 or drops an
    index past the end, so both are refused here with the line that holds them."""
    count = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.startswith("v "):
                    count += 1
                elif line.startswith("f "):
                    for tok in line.split()[1:]:
                        try:
                            i = int(tok.split("/")[0])
                        except ValueError:
                            raise ReadError(f"{path}: line {lineno}: face index {tok!r} is not an integer") from None
                        if i == 0 or i > count or i < -count:
                            raise ReadError(f"{path}: line {lineno}: face index {i} is out of range (OBJ indices are "
                                            f"1-based; {count} vertices so far)")
    except OSError as exc:
        raise ReadError(f"cannot read mesh {path}: {exc.strerror or exc}") from None


def _load_trimesh(path: Path) -> trimesh.Trimesh:
    import trimesh

    if path.suffix.lower() == ".obj":
        _check_obj_indices(path)

    if path.suffix.lower() not in MESH_SUFFIXES:
        raise ReadError(f"unsupported mesh format {path.suffix!r} for {path}; use one of {', '.join(MESH_SUFFIXES)}")
    try:
        loaded = trimesh.load(path, process=False, force=None)
    except Exception as exc:  # trimesh raises many types for corrupt files
        raise ReadError(f"cannot read mesh {path}: {type(exc).__name__}: {exc}") from exc
    if isinstance(loaded, trimesh.Scene):
        geoms = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)]
        if not geoms:
            raise ReadError(f"{path} contains no triangle mesh")
        loaded = trimesh.util.concatenate(geoms) if len(geoms) > 1 else geoms[0]
    if not isinstance(loaded, trimesh.Trimesh):
        raise ReadError(f"{path} holds a {type(loaded).__name__}, not a triangle mesh")
    return loaded


def _vertex_colors(tm: trimesh.Trimesh) -> np.ndarray | None:
    import trimesh

    try:
        visual = tm.visual
        if isinstance(visual, trimesh.visual.ColorVisuals) and visual.kind == "vertex":
            c = np.asarray(visual.vertex_colors, dtype=np.float32)[:, :3] / 255.0
            return c if len(c) == len(tm.vertices) else None
    except Exception:  # visuals of foreign files are best effort
        return None
    return None


def load_part_mesh(path: str | os.PathLike, labels_path: str | os.PathLike | None = None) -> PartMesh:
    """Load a mesh and, if present, its label sidecar.

    Args:
        path: mesh file (OBJ, PLY, GLB, GLTF, STL, OFF).
        labels_path: sidecar JSON; default ``<stem>.labels.json`` beside the mesh. If that default
            does not exist the mesh is returned unlabelled (all -1); an explicitly given
            ``labels_path`` must exist.

    Raises:
        ReadError: missing, unreadable or unsupported file; LabelMismatchError: the sidecar does not
        fit the mesh; InvalidGeometryError: the geometry is empty or non-finite.
    """
    p = _existing(path, "mesh file")
    tm = _load_trimesh(p)
    vertices = np.asarray(tm.vertices, dtype=np.float64)
    faces = np.asarray(tm.faces, dtype=np.int64)
    sc = Path(labels_path) if labels_path is not None else sidecar_path(p)
    if labels_path is not None:
        _existing(sc, "label sidecar")
    meta = _read_sidecar(sc) if sc.exists() else None
    name = p.stem
    try:
        if meta is None:
            return PartMesh(vertices, faces, colors=_vertex_colors(tm), name=name)
        labels, instances = _labels_for(meta, len(vertices), faces, sc, p)
        return PartMesh(
            vertices,
            faces,
            labels=labels,
            part_names=meta["part_names"],
            category=meta.get("category", ""),
            colors=_vertex_colors(tm),
            instances=instances,
            name=meta.get("name") or name,
        )
    except InvalidGeometryError as exc:
        raise InvalidGeometryError(f"{p}: {exc}") from None


def _read_sidecar(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ReadError(f"cannot read label sidecar {path}: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != SIDECAR_FORMAT:
        raise ReadError(f"{path} is not a partlift label sidecar (missing \"format\": \"{SIDECAR_FORMAT}\")")
    for key in ("part_names", "labels"):
        if key not in meta:
            raise ReadError(f"label sidecar {path} lacks the field {key!r}")
    names = meta["part_names"]
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise ReadError(f"label sidecar {path}: part_names must be a list of non-empty strings, "
                        f"got {type(names).__name__}")
    if len(set(names)) != len(names):
        raise ReadError(f"label sidecar {path}: part_names has duplicates")
    for key in ("labels", "face_labels", "instances", "face_instances"):
        if meta.get(key) is not None:
            meta[key] = integer_labels(meta[key], f"label sidecar {path}: {key}",
                                        len(names) if key in ("labels", "face_labels") else None)
    return meta


def integer_labels(values: ArrayLike, what: str, num_parts: int | None = None,
                   error: type[PartliftError] = LabelMismatchError) -> np.ndarray:
    """(N,) int64 labels (or ids) from a JSON list or array, an (N, 1) column accepted; fractional,
    non-finite, non-numeric or (with ``num_parts``) out-of-range entries (not in -1 .. num_parts - 1)
    raise ``error`` with ``what`` (the file and field) in its one line."""
    try:
        a = np.asarray(values)
    except (TypeError, ValueError):
        raise error(f"{what} is not an array of integers") from None
    if a.ndim == 2 and 1 in a.shape:  # PartNetE files sometimes hold (N, 1) columns
        a = a.reshape(-1)
    if a.ndim != 1 or a.dtype == bool or (a.size and a.dtype.kind not in "iuf"):
        raise error(f"{what} must be a flat list of integers (got shape {a.shape}, dtype {a.dtype})")
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a) | (a != np.round(a))
        if bad.any():
            raise error(f"{what} holds non-integer values (e.g. {a[bad][0]})")
    a = a.astype(np.int64)
    if num_parts is not None and a.size and (a.min() < -1 or a.max() >= num_parts):
        raise error(f"{what} holds labels outside -1..{num_parts - 1} ({int(a.min())}..{int(a.max())})")
    return a


def _labels_for(meta: dict[str, Any], num_vertices: int, faces: np.ndarray, sc: Path,
                mesh_path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    labels = np.asarray(meta["labels"], dtype=np.int64)
    instances = None if meta.get("instances") is None else np.asarray(meta["instances"], dtype=np.int64)
    if len(labels) == num_vertices:
        return labels, instances
    # Formats without shared vertices (STL) or exporters that split vertices change the vertex
    # count but keep the faces: rebuild per-vertex labels from the stored per-face labels.
    face_labels = meta.get("face_labels")
    if face_labels is not None and len(face_labels) == len(faces):
        out = np.full(num_vertices, -1, dtype=np.int64)
        out_ins = None if meta.get("face_instances") is None else np.full(num_vertices, -1, dtype=np.int64)
        for k in range(3):
            out[faces[:, k]] = face_labels
            if out_ins is not None:
                out_ins[faces[:, k]] = meta["face_instances"]
        return out, out_ins
    raise LabelMismatchError(
        f"label sidecar {sc} has {len(labels)} vertex labels but {mesh_path} has {num_vertices} vertices "
        f"(and {len(faces)} faces vs {len(face_labels) if face_labels is not None else 'no'} face labels)"
    )


def save_part_mesh(mesh: PartMesh, path: str | os.PathLike) -> Path:
    """Write ``mesh`` to ``path`` (format from the suffix) plus ``<stem>.labels.json``.

    Vertex order is preserved for OBJ, PLY, GLB and OFF; the sidecar also stores per-face labels so
    STL (which has no shared vertices) round-trips too. Returns the sidecar path.
    """
    import trimesh

    p = Path(path)
    if p.suffix.lower() not in MESH_SUFFIXES:
        raise ValueError(f"unsupported mesh format {p.suffix!r}; use one of {', '.join(MESH_SUFFIXES)}")
    p.parent.mkdir(parents=True, exist_ok=True)
    colors = None if mesh.colors is None else np.clip(np.round(mesh.colors * 255), 0, 255).astype(np.uint8)
    tm = trimesh.Trimesh(mesh.vertices, mesh.faces, vertex_colors=colors, process=False)
    kwargs: dict[str, Any] = {"include_normals": False} if p.suffix.lower() == ".obj" else {}
    data = tm.export(file_type=p.suffix.lower().lstrip("."), **kwargs)
    assert not isinstance(data, dict)  # only scene formats export a dict of files
    atomic_write_bytes(p, data if isinstance(data, bytes) else data.encode())
    face_ins = mesh.face_instances()
    assert mesh.labels is not None  # set by PartMesh.__post_init__
    meta = {
        "format": SIDECAR_FORMAT,
        "version": SIDECAR_VERSION,
        "name": mesh.name,
        "category": mesh.category,
        "part_names": list(mesh.part_names),
        "num_vertices": int(len(mesh.vertices)),
        "labels": mesh.labels.tolist(),
        "instances": None if mesh.instances is None else mesh.instances.tolist(),
        "face_labels": mesh.face_labels().tolist(),
        "face_instances": None if face_ins is None else face_ins.tolist(),
    }
    sc = sidecar_path(p)
    atomic_write_bytes(sc, json.dumps(meta).encode())
    return sc


# ---------------------------------------------------------------------------------------- PartNetE


def load_partnete_shape(
    folder: str | os.PathLike, part_names: tuple[str, ...] = (), category: str = ""
) -> PartPointCloud:
    """Read a PartNetE shape folder (``pc.ply`` + optional ``label.npy``).

    Colours are returned in [0, 1]. Coordinates are returned as stored (PartSLIP normalises them
    to the unit sphere at load time; do that with ``normalize_unit_sphere`` if needed).
    """
    import trimesh

    folder = Path(folder)
    if not folder.is_dir():
        raise ReadError(f"PartNetE shape folder not found: {folder}")
    ply = _existing(folder / "pc.ply", "PartNetE point cloud")
    try:
        pc = trimesh.load(ply, process=False)
    except Exception as exc:
        raise ReadError(f"cannot read {ply}: {type(exc).__name__}: {exc}") from exc
    points = np.asarray(getattr(pc, "vertices", np.zeros((0, 3))), dtype=np.float32)
    colors = None
    raw = getattr(pc, "colors", None)
    if raw is None and hasattr(pc, "visual"):
        raw = getattr(pc.visual, "vertex_colors", None)
    if raw is not None and len(raw) == len(points):
        colors = np.asarray(raw, dtype=np.float32)[:, :3] / 255.0
    labels = instances = None
    label_file = folder / "label.npy"
    if label_file.exists():
        labels, instances = read_partnete_labels(label_file, len(points))
    return PartPointCloud(
        points, colors=colors, labels=labels, instances=instances, part_names=part_names,
        category=category or folder.parent.name, name=folder.name,
    )


def read_partnete_labels(path: str | os.PathLike, num_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read PartNetE ``label.npy`` -> (semantic_seg (N,) int64, instance_seg (N,) int64)."""
    p = _existing(path, "PartNetE label file")
    d = load_npy(p, what="PartNetE label file")  # restricted unpickling: the file may come from anyone
    if not isinstance(d, dict) or "semantic_seg" not in d:
        raise ReadError(f"{p} is not a PartNetE label dict with 'semantic_seg' (and 'instance_seg')")
    sem = integer_labels(d["semantic_seg"], f"{p}: semantic_seg")
    ins = integer_labels(d.get("instance_seg", np.full(len(sem), -1)), f"{p}: instance_seg")
    if len(ins) != len(sem):
        raise LabelMismatchError(f"{p}: semantic_seg has {len(sem)} entries but instance_seg has {len(ins)}")
    if num_points is not None and len(sem) != num_points:
        raise LabelMismatchError(f"{p} has {len(sem)} labels but the point cloud has {num_points} points")
    return sem, ins


def save_partnete_shape(cloud: PartPointCloud, folder: str | os.PathLike) -> None:
    """Write ``pc.ply`` (binary, xyz float + rgb uchar) and ``label.npy`` into ``folder``."""
    import trimesh

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    colors = cloud.colors if cloud.colors is not None else np.full((len(cloud), 3), 0.5, np.float32)
    rgba = np.concatenate(
        [np.clip(np.round(colors * 255), 0, 255), np.full((len(cloud), 1), 255)], axis=1
    ).astype(np.uint8)
    data = trimesh.PointCloud(cloud.points, colors=rgba).export(file_type="ply")
    atomic_write_bytes(folder / "pc.ply", data)
    assert cloud.labels is not None and cloud.instances is not None  # set by PartPointCloud.__post_init__
    save_partnete_labels(folder / "label.npy", cloud.labels, cloud.instances)


def save_partnete_labels(path: str | os.PathLike, semantic: np.ndarray, instance: np.ndarray) -> None:
    """Write a PartNetE ``label.npy`` dict (``semantic_seg``, ``instance_seg``, int32) atomically."""
    atomic_save_npy(path, {"semantic_seg": np.asarray(semantic, np.int32),
                           "instance_seg": np.asarray(instance, np.int32)}, allow_pickle=True)


def load_points_or_mesh(
    path: str | os.PathLike, num_points: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """A point cloud (.ply) as it is, or a mesh sampled to ``num_points`` surface points (seeded).

    Returns (points (N, 3) float64, colours (N, 3) float32 in [0, 1] or None, a short description of
    the source for messages)."""
    import trimesh

    from partlift.geometry.sampling import sample_surface

    path = _existing(path, "input")

    if path.suffix.lower() not in MESH_SUFFIXES:
        raise ReadError(f"{path}: unsupported input {path.suffix!r}; use a .ply point cloud or a mesh "
                        f"({', '.join(MESH_SUFFIXES)})")
    try:
        loaded = trimesh.load(path, process=False)
    except Exception as exc:  # trimesh raises many types for corrupt files
        raise ReadError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
    if isinstance(loaded, trimesh.PointCloud):
        pts = np.asarray(loaded.vertices, np.float64)
        col = None
        raw = getattr(loaded, "colors", None)
        if raw is not None and len(raw) == len(pts) and len(pts):
            col = np.asarray(raw, np.float32)[:, :3] / 255.0
        if len(pts) == 0:
            raise ReadError(f"{path} holds no points")
        return pts, col, "point cloud"
    mesh = load_part_mesh(path)
    cloud = sample_surface(mesh, num_points, seed=seed)
    return cloud.points, cloud.colors, f"mesh sampled to {num_points} points"


def write_labelled_ply(path: str | os.PathLike, points: np.ndarray, colors: np.ndarray, labels: np.ndarray,
                       instances: np.ndarray) -> None:
    """Binary PLY of ``points`` (N, 3) with ``colors`` (N, 3) in [0, 1] -> uchar red green blue, and
    int ``labels`` (part index, -1 none) and ``instances`` (N,) as extra vertex properties."""
    n = len(points)
    dt = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1"),
                   ("label", "<i4"), ("instance", "<i4")])
    rec = np.zeros(n, dt)
    for i, k in enumerate("xyz"):
        rec[k] = points[:, i]
    rgb = np.clip(np.round(colors * 255), 0, 255).astype(np.uint8)
    rec["red"], rec["green"], rec["blue"] = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    rec["label"], rec["instance"] = labels, instances
    header = "\n".join([
        "ply", "format binary_little_endian 1.0", "comment partlift segment: label = part index (-1 none)",
        f"element vertex {n}", "property float x", "property float y", "property float z",
        "property uchar red", "property uchar green", "property uchar blue", "property int label",
        "property int instance", "end_header",
    ]) + "\n"
    atomic_write_bytes(path, header.encode() + rec.tobytes())


def label_png_codes(labels: np.ndarray) -> np.ndarray:
    """An (H, W) label map (-1 = background) as PNG codes: label + 1 (0 = background) in uint8, or
    uint16 when there are more than 255 codes."""
    code = np.asarray(labels).astype(np.int64) + 1
    if code.min(initial=0) < 0:
        raise ValueError("labels below -1 in a label map")
    return code.astype(np.uint8 if code.max(initial=0) < 256 else np.uint16)


def write_label_png(path: str | os.PathLike, labels: np.ndarray) -> Path:
    """An (H, W) part label map (-1 = background) as a PNG index image (:func:`label_png_codes`:
    0 = background, part k -> k + 1). Returns the path."""
    import io as _io

    from PIL import Image

    lab = np.asarray(labels)
    if lab.ndim != 2:
        raise ValueError(f"label map must be (H, W), got {lab.shape}")
    buf = _io.BytesIO()
    Image.fromarray(label_png_codes(lab)).save(buf, format="PNG")
    return atomic_write_bytes(path, buf.getvalue())


def read_label_png(path: str | os.PathLike) -> np.ndarray:
    """(H, W) int64 labels (-1 = background) of a :func:`write_label_png` PNG, or a one-line ReadError."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im).astype(np.int64) - 1
    except Exception as exc:  # PIL raises many types for damaged files
        raise ReadError(f"cannot read label map {path}: {exc}") from exc
