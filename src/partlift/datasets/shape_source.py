"""The procedural shapes the datasets are built from (a thin seam over :mod:`partlift.shapes`)."""

from __future__ import annotations

from partlift.errors import PartliftError
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


def generate_shape(category: str, seed: int, generator: str | None = None) -> PartMesh:
    """One instance: procedural ``category`` (unit box, canonical frame), or ``generator(seed)``.

    The same (category, seed) gives the same mesh.
    """
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
