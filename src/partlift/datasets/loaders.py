"""Readers for the datasets partlift consumes.

- PartNetE few_shot / val / test folders (PartSLIP's release or ours): :func:`list_partnete_shapes`,
  :func:`iter_partnete`, :func:`load_partnete_meta`.
- 3D-DST / DSPart annotation dicts: :func:`load_dst_annotation`, :func:`dst_camera`,
  :func:`dst_pose` (re-exported from :mod:`partlift.datasets.dst_format`).
- A user folder of meshes with label sidecars: :func:`load_mesh_folder`.
- partlift's own image datasets: :class:`ImageDataset` (images, masks, cameras, annotations) and
  the template / training / test meshes. Training code must open the ``train`` split with
  ``with_gt=False`` (the default): its part masks and labels are then never read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from partlift.datasets.dst_format import dst_camera, dst_normalization, dst_pose, load_dst_annotation
from partlift.errors import ReadError
from partlift.geometry import io as geometry_io
from partlift.geometry.io import MESH_SUFFIXES, load_part_mesh, load_partnete_shape
from partlift.geometry.partmesh import PartMesh
from partlift.geometry.pointcloud import PartPointCloud
from partlift.render.camera import Camera

__all__ = [
    "ImageDataset",
    "ImageSample",
    "dst_camera",
    "dst_normalization",
    "dst_pose",
    "iter_partnete",
    "list_partnete_shapes",
    "load_dst_annotation",
    "load_mesh_folder",
    "load_partnete_meta",
    "load_partnete_split",
    "partnete_categories",
]


# ---------------------------------------------------------------------------------------- PartNetE
def load_partnete_meta(root: str | os.PathLike) -> dict[str, list[str]]:
    """{category: [part names]} from ``meta.json`` or PartSLIP's ``PartNetE_meta.json`` in ``root``;
    falls back to the built-in PartNetE table."""
    root = Path(root)
    for name in ("meta.json", "PartNetE_meta.json"):
        p = root / name
        if p.is_file():
            try:
                return {k: list(v) for k, v in json.loads(p.read_text()).items()}
            except (OSError, ValueError, AttributeError) as exc:
                raise ReadError(f"cannot read part lists from {p}: {exc}") from exc
    from partlift.metrics.partnete_meta import PARTNETE_PARTS

    return {k: list(v) for k, v in PARTNETE_PARTS.items()}


def _split_file_entries(path: Path) -> list[tuple[str | None, str]]:
    out: list[tuple[str | None, str]] = []
    for line in path.read_text().splitlines():
        line = line.strip().replace("\\", "/")
        if not line or line.startswith("#"):
            continue
        parts = [p for p in line.replace(" ", "/").split("/") if p]
        out.append((parts[-2], parts[-1]) if len(parts) >= 2 else (None, parts[-1]))
    return out


def list_partnete_shapes(
    root: str | os.PathLike, split: str = "test", category: str | None = None
) -> list[tuple[str, Path]]:
    """(category, shape folder) pairs of a split, sorted.

    Uses ``<root>/split/<split>.txt`` (lines ``Category/shape_id``; a bare ``shape_id`` is looked
    up in every category) when present, else the folders ``<root>/<split>/<Category>/<shape_id>``.
    """
    root = Path(root)
    base = root / split
    if not base.is_dir():
        raise ReadError(f"PartNetE split folder not found: {base}")
    listing = root / "split" / f"{split}.txt"
    found: list[tuple[str, Path]] = []
    if listing.is_file():
        for cat, sid in _split_file_entries(listing):
            cats = [cat] if cat else sorted(p.name for p in base.iterdir() if p.is_dir())
            for c in cats:
                if category is not None and c != category:
                    continue
                folder = base / c / sid
                if folder.is_dir():
                    found.append((c, folder))
                elif cat:
                    raise ReadError(f"{listing} lists {cat}/{sid} but {folder} does not exist")
    else:
        cats = [category] if category else sorted(p.name for p in base.iterdir() if p.is_dir())
        for c in cats:
            if not (base / c).is_dir():
                raise ReadError(f"category {c!r} not found in {base}")
            found += [(c, p) for p in sorted((base / c).iterdir()) if (p / "pc.ply").is_file()]
    return sorted(found, key=lambda x: (x[0], x[1].name))


def iter_partnete(
    root: str | os.PathLike, split: str = "test", category: str | None = None
) -> Iterator[PartPointCloud]:
    """Load the shapes of a PartNetE split as labelled :class:`PartPointCloud` (points as stored)."""
    meta = load_partnete_meta(root)
    for cat, folder in list_partnete_shapes(root, split, category):
        yield load_partnete_shape(folder, part_names=tuple(meta.get(cat, ())), category=cat)


# ---------------------------------------------------------------------------------------- meshes
def load_partnete_split(root: str | os.PathLike, split: str, category: str,
                        limit: int | None = None) -> list[PartPointCloud]:
    """Labelled clouds of ``<root>/<split>/<category>``, at most ``limit`` ([] when the split or the
    category folder does not exist, so optional splits such as ``val/`` need no special case)."""
    if not (Path(root) / split).is_dir():
        return []
    try:
        found = list_partnete_shapes(root, split, category)
    except ReadError:
        return []
    if not found:
        return []
    shapes = list(iter_partnete(root, split, category))
    return shapes[:limit] if limit is not None else shapes


def partnete_categories(root: str | os.PathLike, split: str) -> list[str]:
    """Sorted category folder names of ``<root>/<split>`` ([] when the split does not exist)."""
    base = Path(root) / split
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def load_mesh_folder(folder: str | os.PathLike, recursive: bool = False) -> list[PartMesh]:
    """Every mesh file in a folder (OBJ, PLY, GLB, GLTF, STL, OFF), with its ``.labels.json`` sidecar
    when there is one, sorted by path."""
    return [load_part_mesh(p) for p in mesh_files(folder, recursive)]


def mesh_files(folder: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """The mesh files (OBJ, PLY, GLB, GLTF, STL, OFF) of a folder sorted by path, or a one-line
    ReadError when the folder is missing or holds none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReadError(f"mesh folder not found: {folder}")
    pattern = "**/*" if recursive else "*"
    paths = sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in MESH_SUFFIXES)
    if not paths:
        raise ReadError(f"no mesh files ({', '.join(MESH_SUFFIXES)}) in {folder}")
    return paths


# ---------------------------------------------------------------------------------------- images
@dataclass
class ImageSample:
    """One view of a partlift image dataset.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        camera: the camera (world = the shape's unit-box frame).
        annotation: the annotation dict (pose in radians, docs/FORMATS.md).
        depth: (H, W) float32 camera z, inf on background.
        edges: (H, W) bool Canny edges.
        mask: (H, W) int16 part label, -1 = background; None when not loaded (train without gt).
        instances: (H, W) int16 instance id, -1 = none; None when not available.
        shape_id, split, view: where the sample comes from.
    """

    image: np.ndarray
    camera: Camera
    annotation: dict
    depth: np.ndarray
    edges: np.ndarray
    mask: np.ndarray | None
    instances: np.ndarray | None
    shape_id: str
    split: str
    view: int


def read_label_png(path: str | os.PathLike) -> np.ndarray:
    """A ``label + 1`` PNG (0 = background) -> (H, W) int16 labels with -1 on background."""
    return geometry_io.read_label_png(path).astype(np.int16)


class ImageDataset:
    """A split of a partlift image dataset (``partlift make-dataset images``).

    Args:
        root: the dataset folder (holding ``config.json`` and ``splits.json``).
        split: "template", "train" or "test".
        with_gt: for the train split, also read part / instance masks from ``gt/`` (evaluation
            only; training code must leave this False).
    """

    def __init__(self, root: str | os.PathLike, split: str = "test", with_gt: bool = False):
        self.root = Path(root)
        if split not in ("template", "train", "test"):
            raise ReadError(f"unknown image split {split!r}; use template, train or test")
        splits = self.root / "splits.json"
        if not splits.is_file():
            raise ReadError(f"not a partlift image dataset (no splits.json): {self.root}")
        self.split = split
        self.with_gt = with_gt
        self.config = json.loads((self.root / "config.json").read_text())
        self.category: str = self.config.get("category", "")
        self.shape_ids: list[str] = json.loads(splits.read_text())[split]
        self.items: list[tuple[str, Path]] = []
        for sid in self.shape_ids:
            for ann in sorted((self.root / split / sid / "annotation").glob("*.json")):
                self.items.append((sid, ann))

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[ImageSample]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, index: int) -> ImageSample:
        sid, ann_path = self.items[index]
        ann = json.loads(ann_path.read_text())
        files = dict(ann["files"])
        mask = instances = None
        if self.split == "train" and self.with_gt:
            gt = self.root / "gt" / "train" / sid
            files["mask"] = gt / "mask" / f"{int(ann['view']):03d}.png"
            if files["mask"].is_file() and (gt / "instance").is_dir():
                files["instance"] = gt / "instance" / f"{int(ann['view']):03d}.png"
        if "mask" in files:
            mask = read_label_png(self.root / files["mask"])
            if "instance" in files:
                instances = read_label_png(self.root / files["instance"])
        return ImageSample(
            image=np.asarray(Image.open(self.root / files["image"]).convert("RGB")),
            camera=Camera.from_dict(ann["camera"]),
            annotation=ann,
            depth=np.load(self.root / files["depth"]).astype(np.float32),
            edges=np.asarray(Image.open(self.root / files["edge"])) > 0,
            mask=mask,
            instances=instances,
            shape_id=sid,
            split=self.split,
            view=int(ann["view"]),
        )

    @property
    def part_names(self) -> list[str]:
        if self.items:
            return list(json.loads(self.items[0][1].read_text())["part_names"])
        return []

    def mesh(self, shape_id: str) -> PartMesh:
        """The mesh of a shape of this split: labelled for template / test, geometry only for train
        (unless ``with_gt``, which reads the labels from ``gt/``)."""
        path = self.root / self.split / shape_id / "mesh.ply"
        if self.split == "train":
            if self.with_gt:
                return load_part_mesh(self.root / "gt" / "train" / shape_id / "mesh.ply")
            return _unlabelled(path)
        return load_part_mesh(path)

    def template(self) -> PartMesh:
        """The annotated template mesh of the dataset."""
        sid = json.loads((self.root / "splits.json").read_text())["template"][0]
        return load_part_mesh(self.root / "template" / sid / "mesh.ply")

    def correspondence(self, shape_id: str) -> np.ndarray | None:
        """Ground-truth dense correspondence coordinates (V, 3) of a shape (evaluation only)."""
        p = self.root / "gt" / self.split / shape_id / "corr.npy"
        return np.load(p) if p.is_file() else None


def _unlabelled(path: Path) -> PartMesh:
    m = load_part_mesh(path)  # train meshes have no sidecar; drop labels even if one was added
    return m.copy(labels=np.full(len(m.vertices), -1), instances=None)
