"""A small, dependency-free HTML report builder.

The page is self-contained: CSS and the point-cloud viewer script are inlined, images are files
next to the page (relative links), nothing is fetched from the network, so the report opens
from disk and works offline.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from partlift.geometry.atomic import atomic_write_text

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1280px; padding: 0 24px 48px; color: #1d2329; }
h1 { margin: 24px 0 4px; } h2 { border-bottom: 2px solid #e3e7eb; padding-bottom: 4px; margin-top: 40px; }
h3 { margin-top: 28px; }
p.note, figcaption, .small { color: #5b6570; font-size: 0.88em; }
table { border-collapse: collapse; margin: 10px 0 6px; font-size: 0.92em; }
th, td { border: 1px solid #d5dbe0; padding: 4px 9px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f2f5f7; }
td.paper { color: #6b7580; font-style: italic; }
.gallery { display: grid; gap: 6px; margin: 8px 0 18px; }
.gallery figure { margin: 0; text-align: center; }
.gallery img { width: 100%; image-rendering: pixelated; border: 1px solid #e3e7eb; }
.viewer { display: inline-block; margin: 6px 12px 6px 0; vertical-align: top; }
.viewer canvas { border: 1px solid #d5dbe0; cursor: grab; }
.legend span { display: inline-block; margin-right: 10px; font-size: 0.85em; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 3px; border: 1px solid #999; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 0.82em; }
nav a { margin-right: 14px; }
"""


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return "n/a"
        return f"{value:.{digits}f}"
    return html.escape(str(value))


@dataclass
class Report:
    """Collects sections of HTML and writes ``report.html`` into ``out_dir``.

    Attributes:
        title: page title.
        out_dir: folder of the page; images passed as paths must lie inside it.
    """

    title: str
    out_dir: Path
    parts: list[str] = field(default_factory=list)
    nav: list[tuple[str, str]] = field(default_factory=list)
    _viewer_count: int = 0

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)

    def heading(self, text: str, level: int = 2, anchor: str | None = None) -> None:
        anchor = anchor or "".join(c if c.isalnum() else "-" for c in text.lower())
        if level == 2:
            self.nav.append((anchor, text))
        self.parts.append(f'<h{level} id="{anchor}">{html.escape(text)}</h{level}>')

    def paragraph(self, text: str, note: bool = False) -> None:
        cls = ' class="note"' if note else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence],
        caption: str = "",
        digits: int = 1,
        paper_rows: Sequence[int] = (),
    ) -> None:
        """A table; ``paper_rows`` are indices of rows quoting the papers (styled apart)."""
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
        body = []
        for i, row in enumerate(rows):
            cls = ' class="paper"' if i in paper_rows else ""
            body.append("<tr>" + "".join(f"<td{cls}>{_fmt(v, digits)}</td>" for v in row) + "</tr>")
        cap = f'<p class="note">{html.escape(caption)}</p>' if caption else ""
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{cap}")

    def gallery(self, rows: Sequence[Sequence[tuple[str | os.PathLike, str]]], columns: int | None = None) -> None:
        """A grid of images; each row is a list of (image path, caption)."""
        ncol = columns or max(len(r) for r in rows)
        cells = []
        for row in rows:
            for path, caption in row:
                rel = os.path.relpath(Path(path), self.out_dir).replace(os.sep, "/")
                cells.append(
                    f'<figure><img src="{html.escape(rel)}" alt="{html.escape(caption)}">'
                    f"<figcaption>{html.escape(caption)}</figcaption></figure>"
                )
        self.parts.append(
            f'<div class="gallery" style="grid-template-columns: repeat({ncol}, 1fr)">{"".join(cells)}</div>'
        )

    def point_cloud(
        self,
        points: np.ndarray,
        colors: np.ndarray,
        title: str = "",
        legend: Sequence[tuple[str, Sequence[int]]] = (),
        size: int = 380,
        max_points: int = 6000,
        seed: int = 0,
    ) -> None:
        """An interactive 3D view (drag to rotate, wheel to zoom) of (N, 3) points, (N, 3) uint8 colours."""
        pts = np.asarray(points, dtype=np.float64)
        cols = np.asarray(colors)
        if len(pts) > max_points:
            keep = np.sort(np.random.default_rng(seed).choice(len(pts), max_points, replace=False))
            pts, cols = pts[keep], cols[keep]
        self._viewer_count += 1
        sid = f"plv{self._viewer_count}"
        payload = {
            "points": np.round(pts, 4).tolist(),
            "colors": np.asarray(cols, dtype=np.int64).clip(0, 255).tolist(),
        }
        leg = "".join(
            f'<span><i style="background: rgb({c[0]},{c[1]},{c[2]})"></i>{html.escape(n)}</span>' for n, c in legend
        )
        self.parts.append(
            f'<div class="viewer"><div class="small">{html.escape(title)}</div>'
            f'<canvas class="pl-viewer" data-src="{sid}" width="{size}" height="{size}"></canvas>'
            f'<div class="legend">{leg}</div>'
            f'<script type="application/json" id="{sid}">{json.dumps(payload, separators=(",", ":"))}</script></div>'
        )

    def preformatted(self, text: str) -> None:
        self.parts.append(f"<pre>{html.escape(text)}</pre>")

    def raw(self, fragment: str) -> None:
        self.parts.append(fragment)

    def write(self, name: str = "report.html") -> Path:
        """Write the page; returns its path."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        viewer_js = resources.files("partlift.report").joinpath("assets/viewer.js").read_text()
        nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t in self.nav)
        page = (
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1><nav>{nav}</nav>{''.join(self.parts)}"
            f"<script>{viewer_js}</script></body></html>"
        )
        return atomic_write_text(self.out_dir / name, page)
