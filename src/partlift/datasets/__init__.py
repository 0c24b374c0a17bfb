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

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'partlift.datasets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
