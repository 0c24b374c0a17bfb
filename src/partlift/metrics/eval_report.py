"""The result of a dataset evaluation: tables + the protocol and options that produced them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from partlift.geometry.atomic import atomic_write_json
from partlift.metrics.tables import MetricTable, format_category_table, format_part_table, json_safe, tables_to_json

# Bump when a metric definition or default changes (docs/CONVENTIONS.md, "Metrics").
METRIC_PROTOCOL_VERSION = "1.0"


@dataclass
class EvalReport:
    """One evaluation run.

    Attributes:
        protocol: ``"partnete"`` (PartSTAD) or ``"part321"``.
        options: every option that affects the numbers (JSON-serialisable).
        tables: the metric tables (values as computed: fractions in [0, 1], Chamfer scaled).
        display_scales: per table, factor applied when printing (100 for percentages).
        counts: bookkeeping (number of shapes per category, missing predictions, ...).
        notes: human-readable remarks printed under the tables (e.g. what was excluded and why).
        digits: decimals when printing.
    """

    protocol: str
    options: dict
    tables: list[MetricTable]
    display_scales: list[float]
    counts: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    digits: int = 1

    def table(self, name: str) -> MetricTable:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def to_dict(self) -> dict:
        from partlift import __version__

        d = {
            "protocol": self.protocol,
            "protocol_version": METRIC_PROTOCOL_VERSION,
            "partlift_version": __version__,
            "options": self.options,
        }
        d.update(tables_to_json(self.tables))
        d["counts"] = self.counts
        d["notes"] = list(self.notes)
        return json_safe(d)

    def write_json(self, path: str | os.PathLike) -> Path:
        return atomic_write_json(path, self.to_dict(), indent=2, allow_nan=False)

    def format_text(self, per_part: bool = False, tables: Sequence[str] | None = None) -> str:
        chosen = [(t, s) for t, s in zip(self.tables, self.display_scales, strict=True)
                  if tables is None or t.name in tables]
        ts, ss = [t for t, _ in chosen], [s for _, s in chosen]
        out = [f"protocol {self.protocol} v{METRIC_PROTOCOL_VERSION}{_scales_note(ts, ss)}",
               format_category_table(ts, ss, self.digits)]
        if per_part and any(t.per_part for t in ts):
            out += ["", format_part_table(ts, ss, self.digits)]
        out += [f"note: {n}" for n in self.notes]
        return "\n".join(out)


def _scales_note(tables: Sequence[MetricTable], scales: Sequence[float]) -> str:
    groups: dict[float, list[str]] = {}
    for t, s in zip(tables, scales, strict=True):
        if s != 1:
            groups.setdefault(s, []).append(t.name)
    return "".join(f"; shown x{s:g}: {', '.join(names)}" for s, names in groups.items())
