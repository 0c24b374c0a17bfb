"""PartNetE-style coloured point-cloud datasets of procedural shapes (docs/FORMATS.md, "Datasets").

Layout (PartSLIP's PartNet-Ensembled release, Hugging Face dataset ``minghua/PartSLIP``)::

    <out>/meta.json                           {Category: [part names]} (PartNetE_meta.json order)
    <out>/split/{few_shot,val,test}.txt       one "<Category>/<shape_id>" per line
                                              (+ test_heldout.txt with ``split="style"``)
    <out>/configs/<Category>.json             PointsDatasetConfig
    <out>/manifests/<Category>.json           seed, config, versions, file hashes
    <out>/{few_shot,val,test}/<Category>/<shape_id>/pc.ply      xyz float + rgb uchar
                                                   /label.npy   {semantic_seg, instance_seg}
    <out>/style_split/<Category>.json         the held-out style (``split="style"`` only)

``split="random"`` (default) draws every split from the generator's seed stream; ``split="style"``
holds one generator style out of few-shot and validation and tests on it separately
(:mod:`partlift.datasets.style_split`).

Points are stored as generated (the procedural unit box, +Y up, +Z front); PartSLIP normalises
to the unit sphere at load time, so do we (``geometry.normalize_unit_sphere``). PartNetE's clouds
are fused from renders of the mesh, so they only cover surfaces visible from outside: we sample
the surface densely, keep the points seen by at least one of ``visibility_views`` cameras around the
object (depth test against rasterised depth maps) and draw ``n_points`` of them. Colours are the
materials' albedo (docs/MATERIALS.md) with baked lighting and per-point noise.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from partlift.datasets.generation import (
    FileWriter,
    Manifest,
    TaskExecutor,
    run_tasks,
    to_jsonable,
    write_json_atomic,
)
from partlift.datasets.materials import MaterialConfig, albedo, assign_materials, gloss_arrays
from partlift.datasets.shading import LightingConfig, sample_lighting, shade
from partlift.datasets.shape_source import (
    check_category,
    folder_part_names,
    generate_shape,
    load_generator,
    mesh_folder_paths,
    mesh_folder_sources,
    shape_part_names,
    shuffled_mesh_numbers,
)
from partlift.errors import PartliftError
from partlift.geometry.io import save_partnete_shape
from partlift.geometry.partmesh import PartMesh
from partlift.geometry.pointcloud import PartPointCloud
from partlift.geometry.sampling import sample_surface
from partlift.render.camera import Camera
from partlift.validation import bounded, config_from_dict, validate_config

POINT_SPLITS = ("few_shot", "val", "test")
_SPLIT_SEED_OFFSET = {"few_shot": 0, "val": 10_000, "test": 20_000}


@dataclass(frozen=True)
class PointsDatasetConfig:
    """Configuration of the PartNetE-style point clouds of one category.

    Attributes:
        category: procedural PartNetE category (``partlift shapes list``), e.g. "Chair".
        n_few_shot: shapes in the few-shot (training) split (PartNetE: 8 per category).
        n_val: shapes in the validation split (PartSTAD: 8 per category, from the test set).
        n_test: shapes in the test split.
        n_points: points per cloud.
        seed: master seed; shape seeds are ``seed * 100000 + {few_shot: 0, val: 10000, test: 20000}
            + index``.
        visible_only: keep only points visible from outside (as PartNetE's multi-view fusion).
        visibility_views: cameras on a sphere used for the visibility test.
        visibility_size: image size of the visibility depth maps.
        color_noise: standard deviation of the per-point colour noise (RGB in [0, 1]).
        bake_lighting: shade the colours with a random light (PartNetE colours come from renders);
            False = pure albedo.
        materials: material assignment rules.
        lighting: lighting ranges for the baked shading.
        generator: optional custom shape source ``"package.module:function"``.
        meshes: a folder of the user's labelled meshes (``.labels.json`` sidecars) to sample instead
            of procedural shapes; ``category`` then only names the category. The meshes are
            shuffled with ``seed``; the first ``n_few_shot`` go to few_shot, the next ``n_val`` to
            val, then up to ``n_test`` to test (docs/FORMATS.md, "Your own meshes").
        split: "random" (every split drawn from the generator's seed stream) or "style" (the style
            hold-out: few-shot, validation and ``test`` shapes of the in-style values only, plus
            ``n_test`` ``test_heldout`` shapes of the held-out style; :mod:`partlift.datasets.style_split`).
            A mesh folder has no styles, so it takes "random" only.
    """

    category: str = "Chair"
    n_few_shot: int = bounded(8, ge=0)
    n_val: int = bounded(8, ge=0)
    n_test: int = bounded(20, ge=0)
    n_points: int = bounded(10_000, ge=1)
    seed: int = bounded(0, ge=0)
    visible_only: bool = True
    visibility_views: int = bounded(26, ge=1)
    visibility_size: int = bounded(192, ge=16, le=4096)
    color_noise: float = bounded(0.03, ge=0)
    bake_lighting: bool = True
    materials: MaterialConfig = field(default_factory=MaterialConfig)
    lighting: LightingConfig = field(
        default_factory=lambda: LightingConfig(ambient=(0.35, 0.55), second_light_prob=0.8)
    )
    generator: str | None = None
    meshes: str | None = None
    split: Literal["random", "style"] = "random"

    def __post_init__(self) -> None:
        validate_config(self)
        if self.meshes and self.split != "random":
            raise PartliftError("--split style: a mesh folder (--meshes) has no generator styles to hold out; "
                                "use --split random")

    def to_dict(self) -> dict:
        """Every field, JSON-ready; ``split`` only when it is not "random", so the datasets made before
        the field existed keep their configuration (and cache folder)."""
        out = to_jsonable(self)
        if self.split == "random":
            out.pop("split")
        return out

    @staticmethod
    def from_dict(data: dict, where=None) -> PointsDatasetConfig:
        return config_from_dict(PointsDatasetConfig, data, where)

    def shape_seed(self, split: str, index: int) -> int:
        if self.meshes:
            return self.shapes()[split][index]
        return int(self.seed) * 100_000 + _SPLIT_SEED_OFFSET[split] + int(index)

    def shapes(self) -> dict[str, list[int]]:
        """{split: [shape seed, ...]} (with ``split="style"`` also ``test_heldout``); for a mesh
        folder the seeds are mesh numbers (sorted by name)."""
        if self.split == "style":
            from partlift.datasets.style_split import style_split_seeds

            return style_split_seeds(self)
        counts = {"few_shot": self.n_few_shot, "val": self.n_val, "test": self.n_test}
        if self.meshes:
            return split_mesh_folder(len(mesh_folder_paths(self.meshes)), counts, self.seed, self.meshes)
        return {s: [self.shape_seed(s, i) for i in range(n)] for s, n in counts.items()}


def split_mesh_folder(n: int, counts: dict[str, int], seed: int, folder: str = "") -> dict[str, list[int]]:
    """Mesh numbers 0..n-1 shuffled with ``seed``: the first ``counts["few_shot"]`` to few_shot, the
    next ``counts["val"]`` to val, then up to ``counts["test"]`` to test (at least one)."""
    need = counts["few_shot"] + counts["val"] + 1
    if n < need:
        raise PartliftError(f"--meshes: {folder} has {n} meshes; {counts['few_shot']} few-shot + {counts['val']} val "
                            f"+ at least 1 test need {need} (lower --n-few-shot / --n-val)")
    order = shuffled_mesh_numbers(n, seed)
    a, b = counts["few_shot"], counts["few_shot"] + counts["val"]
    return {"few_shot": sorted(order[:a]), "val": sorted(order[a:b]), "test": sorted(order[b : b + counts["test"]])}


def shape_id(category: str, shape_seed: int) -> str:
    return f"{category}_{shape_seed:06d}"


def fibonacci_sphere(n: int) -> np.ndarray:
    """(n, 3) float64 unit vectors spread evenly over the sphere."""
    i = np.arange(n) + 0.5
    y = 1.0 - 2.0 * i / n
    r = np.sqrt(np.clip(1.0 - y * y, 0.0, None))
    phi = np.pi * (3.0 - np.sqrt(5.0)) * i
    return np.stack([r * np.cos(phi), y, r * np.sin(phi)], axis=1)


def visibility_cameras(n_views: int, size: int, distance: float = 2.5) -> list[Camera]:
    """Look-at cameras on a Fibonacci sphere, framing the unit box (FoV 40 deg)."""
    cams = []
    for d in fibonacci_sphere(n_views):
        e = float(np.degrees(np.arcsin(np.clip(d[1], -1, 1))))
        a = float(np.degrees(np.arctan2(d[0], d[2])))
        e = float(np.clip(e, -89.0, 89.0))  # look-at with up +Y is undefined at the poles
        cams.append(Camera.look_at(azimuth=a, elevation=e, distance=distance, fov=40.0, width=size, height=size,
                                   degrees=True))
    return cams


def visible_points(mesh: PartMesh, points: np.ndarray, cameras: list[Camera], tol: float = 0.01) -> np.ndarray:
    """(N,) bool: the point is in front of the rasterised surface (within ``tol``) in some view."""
    from partlift.render.rasterize import rasterize

    frag = rasterize(mesh.vertices, mesh.faces, cameras, with_bary=False)
    seen = np.zeros(len(points), dtype=bool)
    for b, cam in enumerate(cameras):
        uv, z = cam.project(points)
        j = np.floor(uv[:, 0]).astype(np.int64)
        i = np.floor(uv[:, 1]).astype(np.int64)
        inside = (z > 0) & (i >= 0) & (i < cam.height) & (j >= 0) & (j < cam.width)
        d = np.full(len(points), -np.inf)
        d[inside] = frag.depth[b][i[inside], j[inside]]
        seen |= inside & (z <= d + tol * np.maximum(z, 1.0))
    return seen


def sample_shape_cloud(mesh: PartMesh, config: PointsDatasetConfig, seed: int) -> PartPointCloud:
    """Sample a coloured, labelled cloud of ``config.n_points`` points from a mesh (module docstring)."""
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(b"points")])
    n = config.n_points
    over = 3 if config.visible_only else 1
    cloud, face_index, bary = sample_surface(mesh, n * over, seed=int(rng.integers(2**31)), return_index=True)
    keep = np.arange(len(cloud))
    if config.visible_only:
        vis = visible_points(mesh, cloud.points, visibility_cameras(config.visibility_views, config.visibility_size))
        keep = np.flatnonzero(vis)
        if len(keep) < n:  # thin or odd geometry: top up with hidden points rather than fail
            hidden = np.flatnonzero(~vis)
            keep = np.concatenate([keep, rng.choice(hidden, n - len(keep), replace=False)])
    keep = np.sort(rng.choice(keep, n, replace=False))
    cloud = cloud.subset(keep)
    tri = mesh.faces[face_index[keep]]
    vert = tri[np.arange(n), bary[keep].argmax(axis=1)]
    # a user's meshes get the generic materials: a folder's name says nothing reliable about them
    family_of = "generic" if config.meshes else config.category
    assignment = assign_materials(mesh, int(rng.integers(2**31)), config.materials, family_of)
    mat = assignment.vertex_material[vert]
    col = albedo(assignment, cloud.points, mat)
    if config.bake_lighting:
        lighting = sample_lighting(rng, config.lighting)
        # view-independent bake: every point is "seen" along its own outward normal
        spec, shin, _ = gloss_arrays(assignment, mat)
        assert cloud.normals is not None  # sample_surface gives face normals
        col = shade(col, cloud.normals, cloud.normals, lighting, 0.3 * spec, shin, None)
    col = col + rng.normal(0.0, config.color_noise, col.shape).astype(np.float32)
    cloud.colors = np.clip(col, 0.0, 1.0).astype(np.float32)
    return cloud


def _points_task(task: dict) -> dict[str, dict[str, dict[str, str | int]]]:
    """Worker: make one shape's ``pc.ply`` and ``label.npy``."""
    config = PointsDatasetConfig.from_dict(task["config"])
    root = Path(task["root"])
    split, shape_seed = task["split"], int(task["shape_seed"])
    sid = shape_id(config.category, shape_seed)
    mesh = generate_shape(config.category, shape_seed, config.generator, config.meshes)
    if config.meshes:
        mesh = mesh.copy(category=config.category)
    cloud = sample_shape_cloud(mesh, config, zlib.crc32(f"{config.seed}/{config.category}/{shape_seed}".encode()))
    rel = f"{split}/{config.category}/{sid}"
    save_partnete_shape(cloud, root / rel)
    w = FileWriter(root)
    w.existing(f"{rel}/pc.ply")
    w.existing(f"{rel}/label.npy")
    return {rel: w.files}


def _category_parts(config: PointsDatasetConfig) -> list[str]:
    from partlift.metrics.partnete_meta import PARTNETE_PARTS

    if config.meshes:
        return list(folder_part_names(config.meshes))
    if config.generator:
        return list(generate_shape(config.category, config.shape_seed("few_shot", 0), config.generator).part_names)
    parts = list(shape_part_names(config.category))
    known = PARTNETE_PARTS.get(config.category)
    if known is not None and tuple(known) != tuple(parts):
        raise PartliftError(
            f"procedural {config.category} parts {parts} differ from PartNetE's list {list(known)}"
        )
    return parts


def _refresh_index(root: Path) -> None:
    """Rewrite meta.json and split/*.txt from every category's manifest in ``root``."""
    splits: dict[str, list[str]]
    meta, splits = {}, {s: [] for s in POINT_SPLITS}
    for mf in sorted((root / "manifests").glob("*.json")):
        data = json.loads(mf.read_text())
        meta[data["category"]] = data["part_names"]
        for key in data["items"]:
            split, rest = key.split("/", 1)
            splits.setdefault(split, []).append(rest)
    write_json_atomic(root / "meta.json", dict(sorted(meta.items())))
    for split, items in splits.items():
        (root / "split").mkdir(parents=True, exist_ok=True)
        FileWriter(root).bytes(f"split/{split}.txt", "".join(f"{x}\n" for x in sorted(items)).encode())


def generate_points_dataset(
    config: PointsDatasetConfig, out: str | Path, workers: int = 1, progress: bool = True, verify: bool = False,
    log: Callable[[str], None] | None = print,
    executor: TaskExecutor | None = None,
) -> Path:
    """Generate (or finish) one category's point clouds in the PartNetE layout under ``out``.

    Several categories can share ``out`` (run once per category); meta.json and the split lists
    are rebuilt from all categories present. Finished shapes are reused after the check of
    :meth:`Manifest.is_done` (size; with ``verify`` SHA-256); ``log`` receives one line if shapes
    had to be regenerated (None = silent). With ``executor`` the tasks run there instead of in
    ``workers`` processes. Returns ``out``.
    """
    if config.meshes:
        mesh_folder_paths(config.meshes)
    elif config.generator:
        load_generator(config.generator)
    else:
        check_category(config.category)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    cfg = config.to_dict()
    sources = mesh_folder_sources(config.meshes) if config.meshes else None
    manifest = Manifest(root / "manifests" / f"{config.category}.json", "points", cfg, config.seed, root=root,
                        sources=sources)
    manifest.data["category"] = config.category
    manifest.data["part_names"] = _category_parts(config)
    write_json_atomic(root / "configs" / f"{config.category}.json", cfg)
    if config.split == "style":
        from partlift.datasets.style_split import style_holdout

        write_json_atomic(root / "style_split" / f"{config.category}.json",
                          style_holdout(config.category, config.generator).to_dict())
    tasks = []
    for split, seeds in config.shapes().items():
        for seed in seeds:
            if not manifest.is_done(f"{split}/{config.category}/{shape_id(config.category, seed)}", verify):
                tasks.append({"config": cfg, "root": str(root), "split": split, "shape_seed": seed})
    try:
        run_tasks(_points_task, tasks, workers, manifest.add, progress, f"points {config.category}",
                  executor=executor)
    except BaseException:
        manifest.write(complete=False)  # keep what finished, so a rerun resumes from there
        raise
    manifest.write(complete=True)
    _refresh_index(root)
    note = manifest.repair_note(f"points {config.category} ({root})", verify)
    if note and log is not None:
        log(note)
    return root


def quick_points_config(category: str, seed: int = 0) -> PointsDatasetConfig:
    """A tiny configuration for tests and first runs (2 / 2 / 4 shapes of 2048 points)."""
    return replace(PointsDatasetConfig(category=category, seed=seed), n_few_shot=2, n_val=2, n_test=4, n_points=2048)
