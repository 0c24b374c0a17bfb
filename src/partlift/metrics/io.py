"""Walking the evaluation directory layouts and collecting every input problem before failing.

Layouts (docs/FORMATS.md, "Metric files"):

* PartNetE: ``<root>/<Category>/<shape_id>/label.npy``; optional ``<gt root>/meta.json`` (or, for
  a split folder ``<PartNetE root>/test``, the root's) =
  {category: [part names]} (else the built-in :data:`~partlift.metrics.partnete_meta.PARTNETE_PARTS`).
* Part321: ``<root>/<Category>/<image_id>.json``; optional ``<gt root>/meta.json`` likewise.

Directories and files whose name starts with ``.`` are not data and are not listed.
Problems (missing files, count mismatches, unknown labels or categories, ...) are collected in a
:class:`Problems` list and raised together, one line per offending file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from partlift.errors import LabelMismatchError, PartliftError, ReadError


class Problems:
    """Accumulates (file, message, kind) entries; :meth:`raise_if_any` raises them all at once."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, type]] = []

    def add(self, where: str | os.PathLike, message: str, kind: type = ReadError) -> None:
        self.items.append((str(where), message, kind))

    @contextmanager
    def capture(self, where: str | os.PathLike) -> Iterator[None]:
        """Record a PartliftError / ValueError raised inside the block instead of propagating it."""
        try:
            yield
        except PartliftError as exc:
            self.add(where, str(exc), LabelMismatchError if isinstance(exc, LabelMismatchError) else ReadError)
        except ValueError as exc:
            self.add(where, str(exc), LabelMismatchError)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self, what: str) -> None:
        """Raise LabelMismatchError if every problem is a label/count mismatch, else ReadError."""
        if not self.items:
            return
        kind = LabelMismatchError if all(k is LabelMismatchError for _, _, k in self.items) else ReadError
        lines = [f"{len(self.items)} problem(s) in {what}:"]
        # messages from the readers already name their file
        lines += [f"  - {msg}" if where in msg else f"  - {where}: {msg}" for where, msg, _ in self.items]
        raise kind("\n".join(lines))


def _visible_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def check_root(path: str | os.PathLike, what: str) -> Path:
    p = Path(path)
    if not p.is_dir():
        raise ReadError(f"{what} directory not found: {p}")
    return p


POINT_SPLIT_NAMES = ("few_shot", "val", "test", "train")
"""Split folders of a PartNetE root: a ground-truth folder named so may take its root's meta.json."""


def read_meta(root: Path, problems: Problems) -> dict[str, tuple[str, ...]] | None:
    """``<root>/meta.json`` as {category: part names} - or, when ``root`` is a split folder of a
    PartNetE root (few_shot / val / test / train) without one, the root's - or None if absent.
    Problems are recorded."""
    f = root / "meta.json"
    if not f.exists() and root.name in POINT_SPLIT_NAMES and (root.parent / "meta.json").is_file():
        f = root.parent / "meta.json"
    if not f.exists():
        return None
    try:
        d = json.loads(f.read_text())
    except Exception as exc:
        problems.add(f, f"cannot read: {type(exc).__name__}: {exc}")
        return None
    valid = isinstance(d, dict) and all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in d.values()
    )
    if not valid:
        problems.add(f, "must be a JSON object {category: [part names]}")
        return None
    out = {}
    for cat, names in d.items():
        if len(set(names)) != len(names):
            problems.add(f, f"category {cat!r} lists a part name twice: {names}", LabelMismatchError)
        out[str(cat)] = tuple(names)
    return out


def discover_partnete(root: Path) -> dict[str, list[str]]:
    """{category: sorted shape ids} of the shape folders under ``root`` (no file checks)."""
    return {c.name: [s.name for s in _visible_dirs(c)] for c in _visible_dirs(root)}


def discover_records(root: Path, suffix: str = ".json") -> dict[str, list[str]]:
    """{category: sorted record ids} of ``<root>/<Category>/<id><suffix>`` files."""
    out = {}
    for c in _visible_dirs(root):
        out[c.name] = sorted(p.stem for p in c.iterdir()
                             if p.is_file() and p.suffix == suffix and not p.name.startswith("."))
    return out


def check_extra(
    gt: Mapping[str, Sequence[str]], pred: Mapping[str, Sequence[str]], pred_root: Path, problems: Problems, unit: str
) -> None:
    """Record prediction categories / items that have no ground truth (likely a wrong directory)."""
    for cat, items in pred.items():
        if cat not in gt:
            problems.add(pred_root / cat, f"prediction category {cat!r} has no ground truth")
            continue
        known = set(gt[cat])
        for item in items:
            if item not in known:
                problems.add(pred_root / cat / item, f"prediction {unit} has no ground truth")
