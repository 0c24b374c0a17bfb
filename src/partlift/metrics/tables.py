"""Per-category / per-part result tables, their means, JSON export and text formatting.

Every aggregate metric of partlift is reported as a :class:`MetricTable`: one value per part of each
category, one per category and one overall. Undefined entries (a part that never occurs in the
ground truth, say) are NaN in memory, ``null`` in JSON and ``-`` in printed tables; means skip them
and the number of defined entries is reported beside each mean, so nothing disappears unnoticed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def nanmean(values: Iterable[float]) -> float:
    """Mean of the finite-or-inf, non-NaN values; NaN if there are none (no warning)."""
    v = [float(x) for x in values if not math.isnan(float(x))]
    return float(np.mean(v)) if v else math.nan


@dataclass(frozen=True)
class MetricTable:
    """One metric at three levels.

    Attributes:
        name: metric key used in JSON, e.g. ``"miou"``.
        overall: mean over categories with a defined value (NaN if none).
        per_category: category -> value.
        per_part: category -> part name -> value (empty for category-level metrics).
        higher_is_better: for display only.
    """

    name: str
    overall: float
    per_category: dict[str, float]
    per_part: dict[str, dict[str, float]] = field(default_factory=dict)
    higher_is_better: bool = True

    @staticmethod
    def from_parts(
        name: str, per_part: Mapping[str, Mapping[str, float]], higher_is_better: bool = True
    ) -> MetricTable:
        """Category value = mean over its defined parts; overall = mean over defined categories."""
        pp = {c: {p: float(v) for p, v in parts.items()} for c, parts in per_part.items()}
        pc = {c: nanmean(parts.values()) for c, parts in pp.items()}
        return MetricTable(name, nanmean(pc.values()), pc, pp, higher_is_better)

    @staticmethod
    def from_categories(name: str, per_category: Mapping[str, float], higher_is_better: bool = True) -> MetricTable:
        pc = {c: float(v) for c, v in per_category.items()}
        return MetricTable(name, nanmean(pc.values()), pc, {}, higher_is_better)

    def num_defined_categories(self) -> int:
        return sum(not math.isnan(v) for v in self.per_category.values())


def json_safe(obj: Any) -> Any:
    """Recursively convert numpy scalars/arrays to Python and NaN/Inf to None (strict JSON)."""
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


def tables_to_json(tables: Sequence[MetricTable]) -> dict:
    """{"overall": {metric: v}, "per_category": {cat: {metric: v}}, "per_part": {cat: {part: {metric: v}}}}."""
    overall = {t.name: t.overall for t in tables}
    overall.update({f"{t.name}_num_categories": t.num_defined_categories() for t in tables})
    per_category: dict[str, dict[str, float]] = {}
    per_part: dict[str, dict[str, dict[str, float]]] = {}
    for t in tables:
        for c, v in t.per_category.items():
            per_category.setdefault(c, {})[t.name] = v
        for c, parts in t.per_part.items():
            for p, v in parts.items():
                per_part.setdefault(c, {}).setdefault(p, {})[t.name] = v
    return json_safe({"overall": overall, "per_category": per_category, "per_part": per_part})


def _fmt(v: float, scale: float, digits: int) -> str:
    return "-" if v is None or math.isnan(v) else f"{v * scale:.{digits}f}"


def format_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-align the first column, right-align the others."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for j, r in enumerate([header, *rows]):
        cells = [str(r[0]).ljust(widths[0])] + [str(c).rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_category_table(
    tables: Sequence[MetricTable], scales: Sequence[float] | None = None, digits: int = 1
) -> str:
    """Text table: one row per category plus a final ``mean`` row, one column per metric.

    ``scales`` multiplies each metric for display (e.g. 100 for percentages); default 1.
    """
    scales = list(scales) if scales is not None else [1.0] * len(tables)
    cats = sorted({c for t in tables for c in t.per_category})
    header = ["category", *(t.name for t in tables)]
    rows = [[c, *(_fmt(t.per_category.get(c, math.nan), s, digits) for t, s in zip(tables, scales, strict=True))]
            for c in cats]
    rows.append(["mean", *(_fmt(t.overall, s, digits) for t, s in zip(tables, scales, strict=True))])
    return format_rows(header, rows)


def format_part_table(tables: Sequence[MetricTable], scales: Sequence[float] | None = None, digits: int = 1) -> str:
    """Text table: one row per (category, part), one column per metric that has per-part values."""
    scales = list(scales) if scales is not None else [1.0] * len(tables)
    pairs = [(t, s) for t, s in zip(tables, scales, strict=True) if t.per_part]
    tables, scales = [t for t, _ in pairs], [s for _, s in pairs]
    keys = sorted({(c, p) for t in tables for c, parts in t.per_part.items() for p in parts})
    header = ["category/part", *(t.name for t in tables)]
    rows = [[f"{c}/{p}", *(_fmt(t.per_part.get(c, {}).get(p, math.nan), s, digits)
                           for t, s in zip(tables, scales, strict=True))] for c, p in keys]
    return format_rows(header, rows)
