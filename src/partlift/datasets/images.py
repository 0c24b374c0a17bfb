"""DST-Part3D-style image datasets of procedural shapes (docs/FORMATS.md, "Datasets").

Splits follow Part321 section 5.1: one annotated *template* mesh, *training* meshes whose part
labels the training code never reads (their labels, part masks and correspondences live only under
``gt/``), and *test* meshes whose images carry part masks. Every view is rendered with randomised
materials (docs/MATERIALS.md), lighting and a background (photograph crop or procedural texture);
viewpoints follow 3D-DST (:mod:`partlift.datasets.poses`).

Layout of one dataset (one category)::

    <out>/config.json  manifest.json  splits.json
    <out>/template/<shape_id>/mesh.ply + mesh.labels.json
    <out>/train/<shape_id>/mesh.ply                           geometry only
    <out>/test/<shape_id>/mesh.ply + mesh.labels.json
    <out>/<split>/<shape_id>/image/<k>.png                    RGB
                            /depth/<k>.npy                    camera z, inf = background
                            /edge/<k>.png                     Canny, 0 / 255
                            /annotation/<k>.json              pose, camera, shape, lighting
                            /mask/<k>.png, instance/<k>.png   label + 1 (template and test only)
    <out>/gt/train/<shape_id>/mesh.ply + mesh.labels.json, mask/<k>.png, instance/<k>.png
    <out>/gt/<split>/<shape_id>/corr.npy                      dense correspondence (if the generator gives it)
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from partlift.datasets.backgrounds import BackgroundConfig, sample_background
from partlift.datasets.generation import (
    FileWriter,
    Manifest,
    TaskExecutor,
    run_tasks,
    to_jsonable,
    write_json_atomic,
)
from partlift.datasets.materials import MaterialConfig, assign_materials
from partlift.datasets.poses import PoseSampling, dst_focal, sample_view
from partlift.datasets.shading import LightingConfig, corner_normals, sample_lighting
from partlift.datasets.shape_source import (
    check_category,
    folder_shape,
    generate_shape,
    load_generator,
    mesh_folder_paths,
    mesh_folder_sources,
    normalised_mesh,
    shuffled_mesh_numbers,
)
from partlift.datasets.synth import PreparedMesh, render_view
from partlift.errors import LabelMismatchError, PartliftError
from partlift.geometry.io import label_png_codes, save_part_mesh
from partlift.geometry.normalize import unit_box_normalization
from partlift.render.camera import Camera
from partlift.validation import bounded, config_from_dict, validate_config

IMAGE_SPLITS = ("template", "train", "test")
ANNOTATION_FORMAT = "partlift-image-annotation"
_SPLIT_SEED_OFFSET = {"template": 0, "train": 10_000, "test": 20_000}
# Splits whose part masks may be read by training code; the others keep them under gt/.
LABELLED_SPLITS = ("template", "test")


@dataclass(frozen=True)
class ImageDatasetConfig:
    """Configuration of one DST-Part3D-style image dataset (one category).

    Attributes:
        category: procedural category (``partlift shapes list``).
        n_train_meshes: unannotated training meshes (their labels go to ``gt/`` only).
        n_test_meshes: test meshes (images with part masks).
        views_per_mesh: rendered views per training / test mesh.
        template_views: rendered views of the annotated template mesh.
        size: image width = height in pixels (3D-DST renders 512; 128 keeps CPU cost low).
        focal: focal length in pixels; None = 3D-DST's lens scaled to ``size`` (35/32 * size,
            560 px at 512 px).
        seed: master seed; shape seeds are ``seed * 100000 + {template: 0, train: 10000,
            test: 20000} + index``.
        pose: viewpoint distribution (3D-DST style; default its preset 3 shape, elevation 30 +- 20 deg).
        materials: material assignment rules.
        materials_per_view: draw new materials for every view (as 3D-DST's diffusion re-paints every
            image); False = one material set per shape.
        lighting: lighting ranges.
        background: background sources.
        supersample: RGB anti-aliasing factor (masks and depth are never supersampled).
        canny_low: Canny low threshold (OpenCV scale, 3D-DST: 100).
        canny_high: Canny high threshold (3D-DST: 200).
        depth_dtype: dtype of the saved depth maps ("float16" or "float32").
        instance_masks: also save instance masks.
        generator: optional custom shape source ``"package.module:function"`` (``fn(seed) ->
            PartMesh`` in the unit box); ``category`` is then only a name.
        meshes: a folder of the user's meshes for the train and test splits (shuffled with
            ``seed``: the first ``n_train_meshes`` train, then up to ``n_test_meshes`` test; test
            meshes need part labels); ``category`` is then only a name and materials come from the
            generic family (docs/FORMATS.md, "Your own meshes").
        template: with ``meshes``, the user's labelled template mesh (the template split).
    """

    category: str = "car"
    n_train_meshes: int = bounded(10, ge=0)
    n_test_meshes: int = bounded(5, ge=0)
    views_per_mesh: int = bounded(20, ge=0)
    template_views: int = bounded(20, ge=0)
    size: int = bounded(128, ge=8, le=4096)
    focal: float | None = bounded(None, gt=0)
    seed: int = bounded(0, ge=0)
    pose: PoseSampling = field(default_factory=PoseSampling)
    materials: MaterialConfig = field(default_factory=MaterialConfig)
    materials_per_view: bool = True
    lighting: LightingConfig = field(default_factory=LightingConfig)
    background: BackgroundConfig = field(default_factory=BackgroundConfig)
    supersample: int = bounded(2, ge=1, le=8)
    canny_low: float = bounded(100.0, ge=0)
    canny_high: float = bounded(200.0, ge=0)
    depth_dtype: Literal["float16", "float32"] = "float16"
    instance_masks: bool = True
    generator: str | None = None
    meshes: str | None = None
    template: str | None = None

    def __post_init__(self) -> None:
        validate_config(self)
        if (self.meshes is None) != (self.template is None):
            raise PartliftError("--template and --meshes go together: a labelled template and a folder of meshes")

    @property
    def focal_px(self) -> float:
        return float(self.focal) if self.focal is not None else dst_focal(self.size)

    def to_dict(self) -> dict:
        return to_jsonable(self)

    @staticmethod
    def from_dict(data: dict, where=None) -> ImageDatasetConfig:
        return config_from_dict(ImageDatasetConfig, data, where)

    def shape_seed(self, split: str, index: int) -> int:
        if self.meshes:
            return self.shapes()[split][index]
        return int(self.seed) * 100_000 + _SPLIT_SEED_OFFSET[split] + int(index)

    def shapes(self) -> dict[str, list[int]]:
        """{split: [shape seed, ...]}; with ``meshes``, 0 is the template and 1 + k mesh k of the folder."""
        if self.meshes:
            n = len(mesh_folder_paths(self.meshes))
            need = self.n_train_meshes + (1 if self.n_test_meshes else 0)
            if n < need:
                raise PartliftError(f"--meshes: {self.meshes} has {n} meshes; {self.n_train_meshes} training + "
                                    f"at least 1 test need {need} (lower --n-train-meshes)")
            order = shuffled_mesh_numbers(n, self.seed)
            train, test = order[: self.n_train_meshes], order[self.n_train_meshes :][: self.n_test_meshes]
            return {"template": [0], "train": [1 + k for k in sorted(train)], "test": [1 + k for k in sorted(test)]}
        counts = {"template": 1, "train": self.n_train_meshes, "test": self.n_test_meshes}
        return {s: [self.shape_seed(s, i) for i in range(n)] for s, n in counts.items()}

    def views(self, split: str) -> int:
        return self.template_views if split == "template" else self.views_per_mesh


def dataset_shape(config: ImageDatasetConfig, split: str, shape_seed: int):
    """The mesh of one shape of the dataset (procedural, generator or the user's files)."""
    if config.meshes:
        assert config.template is not None  # checked by the config
        mesh = normalised_mesh(config.template) if split == "template" else folder_shape(config.meshes, shape_seed - 1)
        return mesh.copy(category=config.category)  # the user's name for the category, not the files' own
    return generate_shape(config.category, shape_seed, config.generator)


def check_user_meshes(config: ImageDatasetConfig) -> None:
    """One-line errors before anything is written: an unlabelled template or test mesh, or part
    names that differ from the template's."""
    assert config.meshes is not None and config.template is not None
    template = normalised_mesh(config.template)
    if template.labels is None or not (np.asarray(template.labels) >= 0).any():
        raise LabelMismatchError(f"--template {config.template}: no part labels (expected a .labels.json sidecar)")
    paths = mesh_folder_paths(config.meshes)
    for seed in config.shapes()["test"]:
        mesh = folder_shape(config.meshes, seed - 1)
        if mesh.labels is None or not (np.asarray(mesh.labels) >= 0).any():
            raise LabelMismatchError(f"{paths[seed - 1]}: a test mesh without part labels (its images need masks)")
        if tuple(mesh.part_names) != tuple(template.part_names):
            raise LabelMismatchError(f"{paths[seed - 1]}: part names {list(mesh.part_names)} differ from the "
                                     f"template's {list(template.part_names)}")


def shape_id(category: str, shape_seed: int) -> str:
    return f"{category}_{shape_seed:06d}"


def view_rng(config: ImageDatasetConfig, shape_seed: int, view: int) -> np.random.Generator:
    """The random stream of one view: independent of worker count and generation order."""
    return np.random.default_rng([int(config.seed), zlib.crc32(config.category.encode()), int(shape_seed), int(view)])


def view_files(split: str, sid: str, view: int, config: ImageDatasetConfig) -> dict[str, str]:
    """Relative paths of the files of one view, by role."""
    k = f"{view:03d}"
    base = f"{split}/{sid}"
    labels_base = base if split in LABELLED_SPLITS else f"gt/{split}/{sid}"
    files = {
        "image": f"{base}/image/{k}.png",
        "depth": f"{base}/depth/{k}.npy",
        "edge": f"{base}/edge/{k}.png",
        "annotation": f"{base}/annotation/{k}.json",
        "mask": f"{labels_base}/mask/{k}.png",
    }
    if config.instance_masks:
        files["instance"] = f"{labels_base}/instance/{k}.png"
    return files


def _write_mesh(writer: FileWriter, mesh, split: str, sid: str) -> None:
    """Template / test: labelled mesh in the split. Train: geometry in the split, labels in gt/."""
    geometry = mesh.copy(colors=None)  # generator colours could hint at parts
    if split in LABELLED_SPLITS:
        save_part_mesh(geometry, writer.root / split / sid / "mesh.ply")
        writer.existing(f"{split}/{sid}/mesh.ply")
        writer.existing(f"{split}/{sid}/mesh.labels.json")
    else:
        save_part_mesh(geometry, writer.root / "gt" / split / sid / "mesh.ply")
        writer.existing(f"gt/{split}/{sid}/mesh.ply")
        writer.existing(f"gt/{split}/{sid}/mesh.labels.json")
        writer.bytes(f"{split}/{sid}/mesh.ply", (writer.root / "gt" / split / sid / "mesh.ply").read_bytes())
    corr = mesh.extras.get("corr") if mesh.extras else None
    if corr is not None:
        writer.npy(f"gt/{split}/{sid}/corr.npy", np.asarray(corr, dtype=np.float32))


def _image_task(task: dict) -> dict[str, dict[str, dict[str, str | int]]]:
    """Worker: make the missing items of one shape; returns {item key: {file: {sha256, size}}}."""
    config = ImageDatasetConfig.from_dict(task["config"])
    root = Path(task["root"])
    split, shape_seed = task["split"], int(task["shape_seed"])
    sid = shape_id(config.category, shape_seed)
    mesh = dataset_shape(config, split, shape_seed)
    results: dict[str, dict[str, dict[str, str | int]]] = {}
    if task["mesh"]:
        w = FileWriter(root)
        _write_mesh(w, mesh, split, sid)
        results[f"{split}/{sid}/mesh"] = w.files
    if not task["views"]:
        return results
    norm = unit_box_normalization(mesh.vertices)
    cn = corner_normals(mesh)
    mat_seed = zlib.crc32(f"{config.seed}/{config.category}/{shape_seed}".encode())
    family_of = "generic" if config.meshes else config.category  # a folder's name says nothing of materials
    prep = PreparedMesh(mesh, cn, assign_materials(mesh, mat_seed, config.materials, family_of))
    for view in task["views"]:
        rng = view_rng(config, shape_seed, view)
        pose = sample_view(rng, config.pose)
        cam = Camera.from_pose(azimuth=pose.azimuth, elevation=pose.elevation, theta=pose.theta, distance=pose.distance,
                               focal=config.focal_px, width=config.size, height=config.size)
        if config.materials_per_view:
            prep.assignment = assign_materials(mesh, int(rng.integers(2**31)), config.materials, family_of)
        lighting = sample_lighting(rng, config.lighting, cam.rotation)
        bg = sample_background(rng, config.size, config.background)
        out = render_view(prep, cam, lighting, bg, config.supersample, (config.canny_low, config.canny_high),
                          num_threads=task.get("threads"))
        files = view_files(split, sid, view, config)
        w = FileWriter(root)
        w.png(files["image"], out.rgb)
        w.npy(files["depth"], out.depth.astype(config.depth_dtype))
        w.png(files["edge"], out.edges.astype(np.uint8) * 255)
        w.png(files["mask"], label_png_codes(out.labels))
        if "instance" in files:
            w.png(files["instance"], label_png_codes(out.instances))
        ann = {
            "format": ANNOTATION_FORMAT,
            "version": 1,
            "category": config.category,
            "shape_id": sid,
            "split": split,
            "view": int(view),
            "image_size": [config.size, config.size],
            "angle_units": "radians",
            "azimuth": pose.azimuth,
            "elevation": pose.elevation,
            "theta": pose.theta,
            "distance": pose.distance,
            "principal": [cam.cx, cam.cy],
            "focal_length": cam.fx,
            "world_to_camera": cam.world_to_camera().tolist(),
            "camera": cam.to_dict(),
            "scale": norm.scale,
            "offset": norm.offset.tolist(),
            "normalization": "normalised = (mesh - offset) * scale (unit box, docs/CONVENTIONS.md)",
            "part_names": list(mesh.part_names),
            "lighting": lighting.to_dict(),
            # a training annotation does not even point at its ground truth under gt/
            "files": {k: v for k, v in files.items() if k != "annotation" and (
                split in LABELLED_SPLITS or k not in ("mask", "instance"))},
        }
        w.json(files["annotation"], ann)
        results[f"{split}/{sid}/{view:03d}"] = w.files
    return results


def generate_image_dataset(
    config: ImageDatasetConfig, out: str | Path, workers: int = 1, progress: bool = True, verify: bool = False,
    log: Callable[[str], None] | None = print,
    executor: TaskExecutor | None = None,
) -> Path:
    """Generate (or finish) an image dataset in ``out``; finished items are skipped.

    Args:
        config: what to generate.
        out: output folder of this category's dataset.
        workers: processes (1 = in this process, all numba threads).
        progress: show a tqdm progress bar.
        verify: check the SHA-256 of every finished file, not only its size, before reusing it.
        log: receives one line if items had to be regenerated (or, with ``verify``, that none had);
            None = silent.
        executor: run the tasks there instead (its ``workers`` replace ``workers``); the files are
            the same byte for byte.

    Returns:
        ``out`` as a Path. Raises PartliftError if ``out`` holds a dataset made with another config.
    """
    if config.meshes:
        check_user_meshes(config)
    elif config.generator:
        load_generator(config.generator)
    else:
        check_category(config.category)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    cfg = config.to_dict()
    sources = mesh_folder_sources(config.meshes, config.template) if config.meshes else None
    manifest = Manifest(root / "manifest.json", "images", cfg, config.seed, sources=sources)
    write_json_atomic(root / "config.json", cfg)
    shapes = config.shapes()
    write_json_atomic(
        root / "splits.json", {s: [shape_id(config.category, x) for x in seeds] for s, seeds in shapes.items()}
    )
    if executor is not None:
        workers = executor.workers
    tasks: list[dict[str, Any]] = []
    for split in IMAGE_SPLITS:
        for seed in shapes[split]:
            sid = shape_id(config.category, seed)
            todo = [v for v in range(config.views(split))
                    if not manifest.is_done(f"{split}/{sid}/{v:03d}", verify)]
            need_mesh = not manifest.is_done(f"{split}/{sid}/mesh", verify)
            if todo or need_mesh:
                tasks.append({"config": cfg, "root": str(root), "split": split, "shape_seed": seed,
                              "views": todo, "mesh": need_mesh, "threads": 1 if workers > 1 else None})
    # long tasks first keeps the pool busy to the end
    tasks.sort(key=lambda t: -len(t["views"]))
    try:
        run_tasks(_image_task, tasks, workers, manifest.add, progress, f"images {config.category}",
                  lambda t: len(t["views"]) + int(t["mesh"]), executor)
    except BaseException:
        manifest.write(complete=False)  # keep what finished, so a rerun resumes from there
        raise
    manifest.write(complete=True)
    note = manifest.repair_note(f"images {config.category} ({root})", verify)
    if note and log is not None:
        log(note)
    return root


def quick_image_config(category: str, seed: int = 0) -> ImageDatasetConfig:
    """A tiny configuration for tests and first runs (2 train, 1 test mesh, 4 views, 64 px)."""
    return replace(
        ImageDatasetConfig(category=category, seed=seed),
        n_train_meshes=2, n_test_meshes=1, views_per_mesh=4, template_views=4, size=64,
    )
