"""Training and test data for Part321: the embedded DST-Part3D-style datasets or a user's meshes.

Training never reads the part labels of training meshes: meshes come from
:meth:`ImageDataset.mesh` of the train split (geometry only) and train images without masks.
For a user's own category (one annotated template + a folder of unannotated meshes) the training
images are synthesised here with the dataset generator's renderer, materials, lighting and
backgrounds (3D-DST-style viewpoints).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from partlift.datasets.backgrounds import BackgroundConfig, sample_background
from partlift.datasets.loaders import ImageDataset, ImageSample
from partlift.datasets.materials import MaterialConfig, assign_materials
from partlift.datasets.poses import PoseSampling, dst_focal, sample_view
from partlift.datasets.shading import LightingConfig, corner_normals, sample_lighting
from partlift.datasets.synth import PreparedMesh, render_view
from partlift.errors import InvalidGeometryError, PartliftError
from partlift.geometry.normalize import unit_box_normalization
from partlift.geometry.partmesh import PartMesh
from partlift.render.camera import Camera

TEMPLATE = -1
"""Mesh index of the template in :class:`TrainImage`."""


@dataclass
class TrainImage:
    """One training image: RGB, camera, depth and which mesh it shows.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        camera: its camera (object at the world origin, unit-box frame).
        depth: (H, W) float32 camera z, inf on background.
        mesh: index into the training meshes, or :data:`TEMPLATE`.
        name: identifier.
    """

    image: np.ndarray
    camera: Camera
    depth: np.ndarray
    mesh: int
    name: str = ""


@dataclass
class TrainingData:
    """Template, unannotated training meshes and their images."""

    template: PartMesh
    meshes: list[PartMesh]
    images: list[TrainImage]
    category: str = ""


def load_training_data(root: str | Path, max_views: int | None = None) -> TrainingData:
    """Template (labelled) + train split (geometry only, no masks) of an image dataset folder.

    Args:
        root: a dataset folder of ``partlift make-dataset images`` (or :func:`ensure_embedded_dataset`).
        max_views: keep at most this many views per mesh (None = all).
    """
    tpl_ds = ImageDataset(root, "template")
    train_ds = ImageDataset(root, "train")  # with_gt=False: no labels, no masks
    template = tpl_ds.template()
    meshes = [train_ds.mesh(sid) for sid in train_ds.shape_ids]
    index = {sid: i for i, sid in enumerate(train_ds.shape_ids)}
    images: list[TrainImage] = []
    for ds, which in ((tpl_ds, None), (train_ds, index)):
        count: dict[str, int] = {}
        for i in range(len(ds)):
            sid = ds.items[i][0]
            if max_views is not None and count.get(sid, 0) >= max_views:
                continue
            count[sid] = count.get(sid, 0) + 1
            s = ds[i]
            if s.mask is not None and which is not None:
                raise PartliftError("internal error: a training image came with a part mask")
            images.append(TrainImage(s.image, s.camera, s.depth, TEMPLATE if which is None else which[sid],
                                     f"{s.split}/{s.shape_id}/{s.view:03d}"))
    return TrainingData(template, meshes, images, tpl_ds.category or template.category)


def load_test_samples(root: str | Path, max_images: int | None = None, per_shape: int | None = None,
                      ) -> tuple[list[ImageSample], dict[str, PartMesh]]:
    """Test images (with masks) and their labelled meshes {shape_id: mesh}, for evaluation.

    ``per_shape`` keeps the first views of every test shape; ``max_images`` caps the total.
    """
    ds = ImageDataset(root, "test")
    picked: list[int] = []
    count: dict[str, int] = {}
    for i, (sid, _) in enumerate(ds.items):
        if per_shape is not None and count.get(sid, 0) >= per_shape:
            continue
        count[sid] = count.get(sid, 0) + 1
        picked.append(i)
    if max_images is not None:
        # spread over shapes: round-robin by view index
        picked = sorted(picked, key=lambda i: (int(ds.items[i][1].stem), ds.items[i][0]))[:max_images]
        picked.sort()
    samples = [ds[i] for i in picked]
    meshes = {sid: ds.mesh(sid) for sid in {s.shape_id for s in samples}}
    return samples, meshes


def normalise_mesh(mesh: PartMesh) -> PartMesh:
    """The mesh moved and scaled into the unit box (3D-DST normalisation, docs/CONVENTIONS.md)."""
    return mesh.copy(vertices=unit_box_normalization(mesh.vertices).apply(mesh.vertices))


def synthesize_training_images(
    template: PartMesh,
    meshes: Sequence[PartMesh],
    views_per_mesh: int = 20,
    template_views: int = 20,
    size: int = 128,
    seed: int = 0,
    pose: PoseSampling | None = None,
) -> list[TrainImage]:
    """Render DST-style training images of the (unit-box) template and meshes.

    Materials are assigned without looking at part labels (all geometry of a training mesh is one
    material unit; the template's own images may use its parts as units, as the dataset does).
    """
    if size % 32:
        raise PartliftError(f"image size must be a multiple of 32 for the feature CNN, got {size}")
    pose = PoseSampling() if pose is None else pose
    out: list[TrainImage] = []
    jobs = [(TEMPLATE, template, template_views)] + [(i, m, views_per_mesh) for i, m in enumerate(meshes)]
    for idx, mesh, nviews in jobs:
        if len(mesh.faces) == 0:
            raise InvalidGeometryError(f"mesh {mesh.name!r} has no faces")
        geo = mesh if idx == TEMPLATE else mesh.copy(labels=np.full(len(mesh.vertices), -1), part_names=())
        mseed = zlib.crc32(f"{seed}/{idx}/{mesh.name}".encode())
        prep = PreparedMesh(geo, corner_normals(geo), assign_materials(geo, mseed, MaterialConfig(), template.category))
        for view in range(nviews):
            rng = np.random.default_rng([seed, mseed, view])
            vp = sample_view(rng, pose)
            cam = Camera.from_pose(azimuth=vp.azimuth, elevation=vp.elevation, theta=vp.theta, distance=vp.distance,
                                   focal=dst_focal(size), width=size, height=size)
            prep.assignment = assign_materials(geo, int(rng.integers(2**31)), MaterialConfig(), template.category)
            light = sample_lighting(rng, LightingConfig(), cam.rotation)
            bg = sample_background(rng, size, BackgroundConfig())
            r = render_view(prep, cam, light, bg, supersample=2, canny_thresholds=None)
            out.append(TrainImage(r.rgb, cam, r.depth, idx, f"{mesh.name or idx}/{view:03d}"))
    return out
