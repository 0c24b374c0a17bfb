"""Data flows one way (README / guide): a package may import only packages of lower layers."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "partlift"
# docs/ARCHITECTURE.md draws this order; same-layer packages may not import each other either.
LAYER = {
    "errors": 0, "outputs": 0, "validation": 0, "geometry": 1, "metrics": 2, "render": 3, "shapes": 4,
    "datasets": 4, "models": 5, "partstad": 6, "part321": 6, "experiments": 7, "report": 8, "commands": 9, "cli": 9,
    "__main__": 10,
}
# Same-layer imports that are part of the design (a dataset generator builds on the shape registry;
# output claiming and config validation raise the shared error types).
SAME_LAYER_ALLOWED = {("datasets", "shapes"), ("outputs", "errors"), ("validation", "errors")}
IMPORT = re.compile(r"^\s*(?:from|import)\s+partlift\.(\w+)", re.MULTILINE)


def _package(path: Path) -> str:
    rel = path.relative_to(SRC).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def test_no_upward_or_sideways_imports():
    bad = []
    for path in SRC.rglob("*.py"):
        pkg = _package(path)
        if pkg not in LAYER:
            continue
        for target in IMPORT.findall(path.read_text()):
            if target not in LAYER or target == pkg:
                continue
            up = LAYER[target] > LAYER[pkg]
            sideways = LAYER[target] == LAYER[pkg] and (pkg, target) not in SAME_LAYER_ALLOWED
            if up or sideways:
                bad.append(f"{path.relative_to(SRC)} imports partlift.{target}")
    assert not bad, "\n".join(sorted(bad))


def test_the_check_sees_imports():
    # The scan must find real imports (guards against a regex that matches nothing).
    found = IMPORT.findall((SRC / "experiments" / "demo.py").read_text())
    assert "partstad" in found or "part321" in found
