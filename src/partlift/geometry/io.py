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

import numpy as np

from partlift.errors import LabelMismatchError, ReadError
from partlift.geometry.partmesh import PartMesh
from partlift.geometry.pointcloud import PartPointCloud
from partlift.geometry.safe_load import load_npy

MESH_SUFFIXES = (".obj", ".ply", ".glb", ".gltf", ".stl", ".off")
SIDECAR_FORMAT = "partlift-labels"
SIDECAR_VERSION = 1


def sidecar_path(mesh_path: str | os.PathLike) -> Path:
    """``dir/chair.obj`` -> ``dir/chair.labels.json``."""
    p = Path(mesh_path)
    return p.with_name(p.stem + ".labels.json")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write a file so that a reader never sees a partial one (write to a temp name, then rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _existing(path: str | os.PathLike, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise ReadError(f"{what} not found: {p}")
    if p.is_dir():
        raise ReadError(f"{what} is a directory, expected a file: {p}")
    return p


def _load_trimesh(path: Path):
    import trimesh

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


def _vertex_colors(tm) -> np.ndarray | None:
    try:
        if tm.visual.kind == "vertex":
            c = np.asarray(tm.visual.vertex_colors, dtype=np.float32)[:, :3] / 255.0
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
    if meta is None:
        return PartMesh(vertices, faces, colors=_vertex_colors(tm), name=name)
    labels, instances = _labels_for(meta, len(vertices), faces, sc, p)
    colors = _vertex_colors(tm)
    return PartMesh(
        vertices,
        faces,
        labels=labels,
        part_names=meta["part_names"],
        category=meta.get("category", ""),
        colors=colors,
        instances=instances,
        name=meta.get("name") or name,
    )


def _read_sidecar(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ReadError(f"cannot read label sidecar {path}: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != SIDECAR_FORMAT:
        raise ReadError(f"{path} is not a partlift label sidecar (missing \"format\": \"{SIDECAR_FORMAT}\")")
    for key in ("part_names", "labels"):
        if key not in meta:
            raise ReadError(f"label sidecar {path} lacks the field {key!r}")
    return meta


def _labels_for(meta: dict, num_vertices: int, faces: np.ndarray, sc: Path, mesh_path: Path):
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
    kwargs = {"include_normals": False} if p.suffix.lower() == ".obj" else {}
    data = tm.export(file_type=p.suffix.lower().lstrip("."), **kwargs)
    atomic_write_bytes(p, data if isinstance(data, bytes) else data.encode())
    face_ins = mesh.face_instances()
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
    sem = np.asarray(d["semantic_seg"], dtype=np.int64).reshape(-1)
    ins = np.asarray(d.get("instance_seg", np.full(len(sem), -1)), dtype=np.int64).reshape(-1)
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
    save_partnete_labels(folder / "label.npy", cloud.labels, cloud.instances)


def save_partnete_labels(path: str | os.PathLike, semantic: np.ndarray, instance: np.ndarray) -> None:
    """Write a PartNetE ``label.npy`` dict (``semantic_seg``, ``instance_seg``, int32) atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.npy")
    np.save(tmp, {"semantic_seg": np.asarray(semantic, np.int32), "instance_seg": np.asarray(instance, np.int32)})
    os.replace(tmp, path)
