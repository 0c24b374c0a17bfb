"""Part321: 3D part recognition from one image with one annotated mesh per category, by
render-and-compare on a deformable neural mesh (docs/PART321.md).

Main entry points (imported lazily): :class:`Part321` (``fit`` / ``predict`` / ``save`` / ``load``),
:class:`Part321Config` and :class:`Part321Prediction`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the real types for type checkers and editors; at run time names load on first use
    from partlift.part321.model import Part321, Part321Config, Part321Prediction

_EXPORTS = {
    "Part321": "partlift.part321.model",
    "Part321Config": "partlift.part321.model",
    "Part321Prediction": "partlift.part321.model",
}

__all__ = ["Part321", "Part321Config", "Part321Prediction"]


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'partlift.part321' has no attribute {name!r}")
