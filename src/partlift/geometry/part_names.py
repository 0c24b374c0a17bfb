"""Part names that say where a part is, and how they change when an image or shape is mirrored.

Spatial tokens follow the canonical object frame (docs/CONVENTIONS.md, "Canonical object frame"):
``left`` = +X, ``right`` = -X, ``front`` = +Z, ``back`` = -Z. A name is split into tokens at ``_``,
``-``, ``.`` and spaces (``wheel_front_left`` -> wheel, front, left).

Mirroring an image left-right shows the object reflected across a vertical plane. For an object
that is symmetric about its x = 0 plane (cars, chairs, aircraft) the reflection is the same object
seen from another azimuth with its left and right parts exchanged, whatever the view, so a mirrored
training image keeps correct labels when ``left`` and ``right`` are swapped in every name
(:func:`mirror_label_map`). A 180-degree turn about the vertical axis swaps both pairs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

MIRROR_X: dict[str, str] = {"left": "right", "right": "left"}
"""Token swaps of a reflection across the object's x = 0 plane (an image mirrored left-right)."""
TURN_Y_180: dict[str, str] = {"left": "right", "right": "left", "front": "back", "back": "front"}
"""Token swaps of a half turn about the vertical axis."""

_SPLIT = re.compile(r"([_\-.\s]+)")


def spatial_tokens(name: str) -> set[str]:
    """The spatial tokens (left, right, front, back, ...) a part name contains, lower case."""
    return {t.lower() for t in _SPLIT.split(name) if t.lower() in TURN_Y_180 or t.lower() == "middle"}


def swap_tokens(name: str, swaps: Mapping[str, str]) -> str:
    """``name`` with every token in ``swaps`` replaced (case of the first letter kept)."""
    out = []
    for tok in _SPLIT.split(name):
        new = swaps.get(tok.lower())
        if new is not None and tok:
            new = new.capitalize() if tok[0].isupper() else new
            tok = new.upper() if tok.isupper() and len(tok) > 1 else new
        out.append(tok)
    return "".join(out)


def mirror_label_map(part_names: Sequence[str], swaps: Mapping[str, str] = MIRROR_X) -> np.ndarray | None:
    """(C,) int64 label permutation of a mirrored sample: label k becomes ``perm[k]``.

    Names without a swapped token map to themselves. Returns None when some name's counterpart is
    not in the taxonomy (``left_door`` without ``right_door``): such a category cannot be mirrored
    with correct labels, so the augmentation must be off for it.
    """
    index = {n: i for i, n in enumerate(part_names)}
    perm = np.arange(len(part_names), dtype=np.int64)
    for i, n in enumerate(part_names):
        m = swap_tokens(n, swaps)
        if m == n:
            continue
        if m not in index:
            return None
        perm[i] = index[m]
    return perm


def has_sided_pairs(part_names: Sequence[str]) -> bool:
    """Whether some part's left/right or front/back counterpart is also a part of the taxonomy.

    Only then do names tell parts apart by side (``wheel_front_left`` vs ``wheel_front_right``); a
    lone side word is a part's own name (a chair's ``back`` is its backrest, not a side).
    """
    names = set(part_names)
    return any(swap_tokens(n, TURN_Y_180) in names - {n} or swap_tokens(n, MIRROR_X) in names - {n}
               for n in part_names)
