"""Synthetic part datasets and readers of the public formats (docs/FORMATS.md, docs/MATERIALS.md).

- DST-Part3D-style image datasets: :class:`ImageDatasetConfig`, :func:`generate_image_dataset`.
- PartNetE-style point clouds: :class:`PointsDatasetConfig`, :func:`generate_points_dataset`.
- Embedded defaults in a cache folder: :func:`ensure_embedded_dataset`, :func:`default_cache_dir`.
- Readers: :class:`ImageDataset`, :func:`iter_partnete`, :func:`dst_camera`, :func:`load_mesh_folder`.
- Optional diffusion backend: :mod:`partlift.datasets.diffusion`.

Attributes are imported lazily so that light submodules (``partnete_meta``) stay cheap to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the real types for type checkers and editors; at run time names load on first use
    from partlift.datasets.cache import default_cache_dir, ensure_embedded_dataset
    from partlift.datasets.dst_format import dst_camera, dst_pose, load_dst_annotation
    from partlift.datasets.images import ImageDatasetConfig, generate_image_dataset, quick_image_config
    from partlift.datasets.loaders import (
        ImageDataset,
        ImageSample,
        iter_partnete,
        list_partnete_shapes,
        load_mesh_folder,
        load_partnete_meta,
    )
    from partlift.datasets.materials import MaterialConfig, assign_materials
    from partlift.datasets.points import PointsDatasetConfig, generate_points_dataset, quick_points_config
    from partlift.datasets.poses import PoseSampling

_EXPORTS = {
    "ImageDatasetConfig": "partlift.datasets.images",
    "generate_image_dataset": "partlift.datasets.images",
    "quick_image_config": "partlift.datasets.images",
    "PointsDatasetConfig": "partlift.datasets.points",
    "generate_points_dataset": "partlift.datasets.points",
    "quick_points_config": "partlift.datasets.points",
    "ensure_embedded_dataset": "partlift.datasets.cache",
    "default_cache_dir": "partlift.datasets.cache",
    "ImageDataset": "partlift.datasets.loaders",
    "ImageSample": "partlift.datasets.loaders",
    "iter_partnete": "partlift.datasets.loaders",
    "list_partnete_shapes": "partlift.datasets.loaders",
    "load_partnete_meta": "partlift.datasets.loaders",
    "load_mesh_folder": "partlift.datasets.loaders",
    "load_dst_annotation": "partlift.datasets.dst_format",
    "dst_camera": "partlift.datasets.dst_format",
    "dst_pose": "partlift.datasets.dst_format",
    "MaterialConfig": "partlift.datasets.materials",
    "assign_materials": "partlift.datasets.materials",
    "PoseSampling": "partlift.datasets.poses",
}

__all__ = [
    "ImageDataset",
    "ImageDatasetConfig",
    "ImageSample",
    "MaterialConfig",
    "PointsDatasetConfig",
    "PoseSampling",
    "assign_materials",
    "default_cache_dir",
    "dst_camera",
    "dst_pose",
    "ensure_embedded_dataset",
    "generate_image_dataset",
    "generate_points_dataset",
    "iter_partnete",
    "list_partnete_shapes",
    "load_dst_annotation",
    "load_mesh_folder",
    "load_partnete_meta",
    "quick_image_config",
    "quick_points_config",
]


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'partlift.datasets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
