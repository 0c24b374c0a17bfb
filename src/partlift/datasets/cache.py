"""The embedded default datasets, generated on first use into a cache folder and reused after.

``ensure_embedded_dataset("images", "car")`` returns a ready DST-Part3D-style dataset folder,
``ensure_embedded_dataset("points", "Chair")`` a PartNetE-style root holding that category. The
folder name carries a hash of the configuration (and the dataset format version), so a changed
configuration never reuses stale data; a finished dataset is recognised by its complete manifest
whose files all exist with their recorded sizes. A cache with a missing or truncated file is
repaired: generation runs again and remakes only the damaged items.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Literal

from partlift.datasets.generation import DATASET_FORMAT_VERSION, manifest_complete
from partlift.datasets.images import ImageDatasetConfig, generate_image_dataset, quick_image_config
from partlift.datasets.points import PointsDatasetConfig, generate_points_dataset, quick_points_config
from partlift.errors import PartliftError

KINDS = ("images", "points")


def default_cache_dir() -> Path:
    """``$PARTLIFT_CACHE`` if set, else ``~/.cache/partlift``."""
    env = os.environ.get("PARTLIFT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "partlift"


def in_cache_dir(path: str | os.PathLike) -> bool:
    """Whether ``path`` lies inside partlift's cache folder (which only partlift writes)."""
    try:
        return Path(path).resolve().is_relative_to(default_cache_dir().resolve())
    except OSError:
        return False


def _config_hash(config: dict) -> str:
    blob = json.dumps({"config": config, "format": DATASET_FORMAT_VERSION}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:10]


def embedded_config(kind: str, category: str, quick: bool = False) -> ImageDatasetConfig | PointsDatasetConfig:
    """The default configuration of an embedded dataset (``quick``: the tiny test configuration)."""
    if kind == "images":
        return quick_image_config(category) if quick else ImageDatasetConfig(category=category)
    if kind == "points":
        return quick_points_config(category) if quick else PointsDatasetConfig(category=category)
    raise PartliftError(f"unknown dataset kind {kind!r}; use one of {', '.join(KINDS)}")


def embedded_dataset_path(kind: str, category: str, root: str | os.PathLike | None = None, quick: bool = False,
                          config=None) -> Path:
    """Where :func:`ensure_embedded_dataset` keeps a dataset (it may not exist yet)."""
    base = Path(root) if root is not None else default_cache_dir() / "datasets"
    cfg = config if config is not None else embedded_config(kind, category, quick)
    if kind == "images":
        return base / f"images-{_config_hash(cfg.to_dict())}" / category
    # points: every category with the same settings shares one PartNetE root
    return base / f"points-{_config_hash(replace(cfg, category='*').to_dict())}"


def ensure_embedded_dataset(
    kind: str,
    category: str,
    root: str | os.PathLike | None = None,
    quick: bool = False,
    workers: int = 1,
    progress: bool = True,
    config: ImageDatasetConfig | PointsDatasetConfig | None = None,
) -> Path:
    """Generate an embedded dataset once and reuse it afterwards.

    Args:
        kind: "images" (DST-Part3D-style, one category per folder) or "points" (PartNetE-style).
        category: procedural category.
        root: cache folder (default :func:`default_cache_dir` / "datasets").
        quick: tiny configuration (tests, smoke runs).
        workers: processes used when it has to be generated.
        progress: show a progress bar while generating.
        config: explicit configuration (overrides ``quick``; its category must be ``category``).

    Returns:
        the dataset folder: for "images" the category's dataset (open with
        :class:`~partlift.datasets.loaders.ImageDataset`), for "points" the PartNetE root (open with
        :func:`~partlift.datasets.loaders.iter_partnete`).
    """
    cfg = config if config is not None else embedded_config(kind, category, quick)
    if cfg.category != category:
        raise PartliftError(f"config is for category {cfg.category!r}, not {category!r}")
    path = embedded_dataset_path(kind, category, root, quick, cfg)
    if kind == "images":
        if not isinstance(cfg, ImageDatasetConfig):
            raise PartliftError(f"an images dataset needs an ImageDatasetConfig, got {type(cfg).__name__}")
        if not manifest_complete(path / "manifest.json"):
            generate_image_dataset(cfg, path, workers=workers, progress=progress)
    else:
        if not isinstance(cfg, PointsDatasetConfig):
            raise PartliftError(f"a points dataset needs a PointsDatasetConfig, got {type(cfg).__name__}")
        if not manifest_complete(path / "manifests" / f"{category}.json", root=path):
            generate_points_dataset(cfg, path, workers=workers, progress=progress)
    return path


def embedded_points_root(category: str, progress: bool = False,
                         split: Literal["random", "style"] = "random") -> Path:
    """Root of the embedded PartNetE-layout dataset of ``category``, generated on first use.

    Any procedural category: the PartNetE-style ones and the Part321 taxonomies (``car``,
    ``airliner``, ...), sampled the same way (docs/FORMATS.md, "Datasets"). ``split="style"``: the
    style hold-out dataset (:mod:`partlift.datasets.style_split`; it adds ``test_heldout``)."""
    from partlift.errors import LabelMismatchError
    from partlift.shapes.registry import list_categories

    cats = list_categories()
    if category not in cats:
        raise LabelMismatchError(f"no embedded category {category!r}; available: {', '.join(cats)}")
    if split not in ("random", "style"):
        raise PartliftError(f"unknown split {split!r}; use random or style")
    config = replace(PointsDatasetConfig(category=category), split=split)
    return ensure_embedded_dataset("points", category, progress=progress, config=config)
