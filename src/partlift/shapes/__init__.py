"""Procedural part-annotated shape categories, deterministic by seed (docs/SHAPES.md).

``generate(category, seed)`` returns a :class:`~partlift.geometry.partmesh.PartMesh` in the
canonical frame (+Y up, +Z front, +X the object's left), normalised to the unit box, with disjoint
part labels and ground-truth correspondence data in ``extras``. Part321 categories (Table 9 of the
paper, lower-case names) and PartNetE categories (CamelCase) live in separate registries.
"""

from partlift.shapes.correspondence import ground_truth_correspondence
from partlift.shapes.registry import (
    PART321_CATEGORIES,
    PARTNETE_CATEGORIES,
    CategoryInfo,
    category_info,
    generate,
    generate_many,
    list_categories,
)

__all__ = [
    "PART321_CATEGORIES",
    "PARTNETE_CATEGORIES",
    "CategoryInfo",
    "category_info",
    "generate",
    "generate_many",
    "ground_truth_correspondence",
    "list_categories",
]
