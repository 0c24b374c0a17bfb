"""Category registries and the generic generation API.

Two registries with one API: :data:`PART321_CATEGORIES` (lower-case DST-Part3D class names, part
taxonomies from Table 9 of the Part321 paper, every vertex labelled) and
:data:`PARTNETE_CATEGORIES` (PartNetE CamelCase names and part lists; geometry outside the listed
parts is labelled -1 as in the real data).
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from partlift.errors import PartliftError
from partlift.geometry.partmesh import PartMesh
from partlift.shapes.builder import ShapeBuilder

KINDS = ("part321", "partnete")


@dataclass(frozen=True)
class CategoryInfo:
    """Static description of a procedural category.

    Attributes:
        name: category name ("car", "Chair", ...).
        kind: "part321" or "partnete".
        super_category: Part321 super-category ("car", "airplane", "bicycle", "boat", "tool");
            for PartNetE a coarse group ("furniture", "household", "fixture", "container").
        part_names: ordered part names; label k means part_names[k].
        optional_parts: parts absent from some styles (all other parts are always non-empty).
        unlabelled_regions: generator regions labelled -1 (PartNetE only), e.g. ("body",).
        styles: style variable -> its discrete options (continuous proportions are not listed).
        description: one line on what varies.
        region_map: generator region -> part name (or None = unlabelled); identity if missing.
        generator: ``fn(builder, rng)`` adding the primitives of one instance.
    """

    name: str
    kind: str
    super_category: str
    part_names: tuple[str, ...]
    optional_parts: tuple[str, ...] = ()
    unlabelled_regions: tuple[str, ...] = ()
    styles: dict = field(default_factory=dict)
    description: str = ""
    region_map: dict = field(default_factory=dict)
    generator: Callable | None = field(default=None, repr=False, compare=False)


PART321_CATEGORIES: dict[str, CategoryInfo] = {}
PARTNETE_CATEGORIES: dict[str, CategoryInfo] = {}


def register(info: CategoryInfo) -> CategoryInfo:
    """Add a category to the registry of its kind (used by the generator modules)."""
    if info.kind not in KINDS:
        raise ValueError(f"unknown category kind {info.kind!r}; use one of {KINDS}")
    table = PART321_CATEGORIES if info.kind == "part321" else PARTNETE_CATEGORIES
    if info.name in PART321_CATEGORIES or info.name in PARTNETE_CATEGORIES:
        raise ValueError(f"category {info.name!r} registered twice")
    table[info.name] = info
    return info


# generator modules, in the order their categories are listed
GENERATOR_MODULES = (
    "vehicles",
    "aircraft",
    "cycles",
    "watercraft",
    "household",
    "tools",
    "furniture",
    "fixtures",
    "containers",
)


def _load() -> None:
    # generator modules register themselves on import; importing lazily here avoids import cycles
    for name in GENERATOR_MODULES:
        importlib.import_module(f"partlift.shapes.{name}")


def list_categories(kind: str | None = None) -> list[str]:
    """Category names, Part321 first then PartNetE, each in registration order.

    ``kind`` = "part321" or "partnete" restricts to one registry.
    """
    _load()
    if kind is not None and kind not in KINDS:
        raise PartliftError(f"unknown category kind {kind!r}; use one of {', '.join(KINDS)}")
    out = []
    if kind in (None, "part321"):
        out += list(PART321_CATEGORIES)
    if kind in (None, "partnete"):
        out += list(PARTNETE_CATEGORIES)
    return out


def category_info(category: str) -> CategoryInfo:
    """The :class:`CategoryInfo` of a category (exact name, e.g. "car" or "Chair")."""
    _load()
    info = PART321_CATEGORIES.get(category) or PARTNETE_CATEGORIES.get(category)
    if info is None:
        raise PartliftError(f"unknown shape category {category!r}; known: {', '.join(list_categories())}")
    return info


def category_rng(category: str, seed: int) -> np.random.Generator:
    """The generator's random stream: independent per (category, seed), reproducible."""
    return np.random.default_rng([zlib.crc32(category.encode()), int(seed) & 0xFFFFFFFF])


def generate(category: str, seed: int) -> PartMesh:
    """One procedural instance of ``category``; the same (category, seed) gives the same mesh.

    Returns a PartMesh in the canonical frame (+Y up, +Z front, +X left), normalised to the unit
    box, with ``extras`` holding ``corr`` (V, 3) float32, ``part_instance_key`` (V,) int64,
    ``part_keys`` {key: "slot|region"}, ``region`` / ``region_names``, ``style`` and ``seed``.
    """
    info = category_info(category)
    if int(seed) < 0:
        raise PartliftError(f"seed must be >= 0, got {seed}")
    region_map = {**info.region_map, **{r: None for r in info.unlabelled_regions}}
    b = ShapeBuilder(info.name, info.part_names, region_map, seed=int(seed))
    assert info.generator is not None, f"category {info.name!r} has no generator"
    info.generator(b, category_rng(info.name, seed))
    return b.finish()


def generate_many(category: str, n: int, seed: int = 0) -> list[PartMesh]:
    """``n`` instances with seeds ``seed, seed + 1, ..., seed + n - 1``."""
    if n < 0:
        raise PartliftError(f"n must be >= 0, got {n}")
    return [generate(category, seed + i) for i in range(n)]
