"""The procedural shapes the datasets are built from (a thin seam over :mod:`partlift.shapes`)."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from partlift.errors import LabelMismatchError, PartliftError, ReadError
from partlift.geometry.partmesh import PartMesh


def _registry():
    import partlift.shapes as shapes

    if hasattr(shapes, "generate"):
        return shapes
    from partlift.shapes import registry  # the package may not re-export its API yet

    return registry


def load_generator(spec: str):
    """Import a custom shape generator given as ``"package.module:function"`` (``fn(seed) -> PartMesh``)."""
    import importlib

    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise PartliftError(f"generator must look like 'package.module:function', got {spec!r}")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise PartliftError(f"cannot import shape generator {spec!r}: {exc}") from exc


def mesh_folder_paths(folder: str) -> tuple[str, ...]:
    """The mesh files of a user's ``--meshes`` folder, sorted (what ``load_mesh_folder`` reads), or a
    one-line error naming the option."""
    from partlift.datasets.loaders import mesh_files

    try:
        return tuple(str(p) for p in mesh_files(folder))
    except ReadError as exc:
        raise ReadError(f"--meshes: {exc}") from exc


def mesh_folder_sources(folder: str, template: str | None = None) -> dict[str, dict]:
    """{file name: {"sha256", "labels_sha256" (None without a sidecar)}} of every mesh of a user's
    ``--meshes`` folder (and ``template:<name>`` for the ``--template`` mesh): the inputs a dataset
    records in its manifest, so a rerun after the folder changed is refused."""
    from partlift.datasets.generation import sha256_file
    from partlift.geometry.io import sidecar_path

    def entry(path: Path) -> dict:
        side = sidecar_path(path)
        return {"sha256": sha256_file(path), "labels_sha256": sha256_file(side) if side.is_file() else None}

    out = {Path(p).name: entry(Path(p)) for p in mesh_folder_paths(folder)}
    if template:
        out[f"template:{Path(template).name}"] = entry(Path(template))
    return out


def shuffled_mesh_numbers(n: int, seed: int) -> list[int]:
    """Mesh numbers 0..n-1 in the seeded order the dataset splits of a mesh folder are cut from."""
    return np.random.default_rng([int(seed), zlib.crc32(b"mesh-split")]).permutation(n).tolist()


def folder_shape(folder: str, index: int) -> PartMesh:
    """Mesh ``index`` of a user's folder (sorted by name), moved and scaled into the unit box like
    the procedural shapes (3D-DST's normalisation; the mesh must already face the canonical frame,
    docs/CONVENTIONS.md)."""
    paths = mesh_folder_paths(folder)
    if not 0 <= index < len(paths):
        raise PartliftError(f"--meshes: no mesh number {index} in {folder} ({len(paths)} meshes)")
    return normalised_mesh(paths[index])


def normalised_mesh(path: str) -> PartMesh:
    """A user's mesh file (with its sidecar if any) moved and scaled into the unit box."""
    from partlift.geometry.io import load_part_mesh
    from partlift.geometry.normalize import unit_box_normalization

    mesh = load_part_mesh(path)
    return mesh.copy(vertices=unit_box_normalization(mesh.vertices).apply(mesh.vertices).astype(np.float32),
                     name=Path(path).stem)


def folder_part_names(folder: str) -> tuple[str, ...]:
    """The part names every labelled mesh of the folder shares, or a one-line error naming the
    first mesh without labels or with another list."""
    from partlift.geometry.io import load_part_mesh

    names: tuple[str, ...] | None = None
    first = ""
    for path in mesh_folder_paths(folder):
        mesh = load_part_mesh(path)
        if mesh.labels is None or not (np.asarray(mesh.labels) >= 0).any():
            raise LabelMismatchError(f"{path}: no part labels (expected a .labels.json sidecar beside it)")
        if names is None:
            names, first = tuple(mesh.part_names), path
        elif tuple(mesh.part_names) != names:
            raise LabelMismatchError(f"{path}: part names {list(mesh.part_names)} differ from {list(names)} of {first}")
    assert names is not None
    return names


def generate_shape(category: str, seed: int, generator: str | None = None, meshes: str | None = None) -> PartMesh:
    """One instance: procedural ``category`` (unit box, canonical frame), ``generator(seed)``, or
    mesh number ``seed`` of the user's folder ``meshes`` (:func:`folder_shape`).

    The same (category, seed) gives the same mesh.
    """
    if meshes:
        return folder_shape(meshes, int(seed))
    if generator:
        mesh = load_generator(generator)(int(seed))
        if not isinstance(mesh, PartMesh):
            raise PartliftError(f"shape generator {generator!r} returned {type(mesh).__name__}, not a PartMesh")
        return mesh
    return _registry().generate(category, int(seed))


def shape_part_names(category: str) -> tuple[str, ...]:
    """Ordered part names of a procedural category."""
    return tuple(_registry().category_info(category).part_names)


def shape_categories(kind: str | None = None) -> list[str]:
    """Procedural category names ("part321", "partnete" or all)."""
    return list(_registry().list_categories(kind))


def check_category(category: str) -> None:
    """Raise :class:`PartliftError` naming the known categories if ``category`` is unknown."""
    known = shape_categories()
    if category not in known:
        raise PartliftError(f"unknown shape category {category!r}; known: {', '.join(known)}")
