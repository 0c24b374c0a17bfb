"""pyproject.toml declares what the code imports: no missing default dependency, no dead extra.

Imports are read with ``ast`` from every module of ``src/partlift``. An import executed when the
module loads (module or class body) must be a default dependency; one inside a function is lazy
(the optional adapters) and must at least be in some extra.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "partlift"

# Import name -> distribution name where they differ (otherwise "_" -> "-").
IMPORT_TO_DIST = {
    "PIL": "pillow",
    "cv2": "opencv-python-headless",
    "skimage": "scikit-image",
    "yaml": "pyyaml",
    "sklearn": "scikit-learn",
}
# Needed by a default code path although partlift never imports them itself.
INDIRECT_DEFAULT = {
    "rtree": "trimesh.proximity.closest_point, used by transfer_labels_to_points(method='surface')",
}


def dist_of(module: str) -> str:
    return IMPORT_TO_DIST.get(module, module).lower().replace("_", "-")


def requirement_name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement).group(0).lower().replace("_", "-")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def default_dists() -> set[str]:
    return {requirement_name(r) for r in _project()["dependencies"]}


def extra_dists() -> dict[str, set[str]]:
    return {name: {requirement_name(r) for r in reqs} for name, reqs in _project()["optional-dependencies"].items()}


def collect_imports(source: str) -> tuple[dict[str, int], dict[str, int]]:
    """Third-party top-level modules imported by ``source``: ({module: line} at load time, {module: line} lazily)."""
    eager: dict[str, int] = {}
    lazy: dict[str, int] = {}

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            names = []
            if isinstance(child, ast.Import):
                names = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [child.module]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("partlift", "__future__", "_typeshed"):
                    continue
                (lazy if in_function else eager).setdefault(top, child.lineno)
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(source), False)
    return eager, lazy


def undeclared(modules: dict[str, list[str]], declared: set[str]) -> dict[str, list[str]]:
    """The modules (with where they are imported) whose distribution is not in ``declared``."""
    return {m: where for m, where in modules.items() if dist_of(m) not in declared}


def _src_imports() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    eager: dict[str, list[str]] = {}
    lazy: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        e, lz = collect_imports(path.read_text())
        for found, into in ((e, eager), (lz, lazy)):
            for module, line in found.items():
                into.setdefault(module, []).append(f"{path.relative_to(ROOT)}:{line}")
    return eager, lazy


def test_load_time_imports_are_default_dependencies():
    eager, _ = _src_imports()
    missing = undeclared(eager, default_dists())
    assert not missing, f"imported when partlift loads but not in [project] dependencies: {missing}"


def test_lazy_imports_are_declared_somewhere():
    _, lazy = _src_imports()
    missing = undeclared(lazy, default_dists().union(*extra_dists().values()))
    assert not missing, f"imported lazily but in no dependency list: {missing}"


def test_indirect_runtime_dependencies_are_default():
    for dist, why in INDIRECT_DEFAULT.items():
        assert dist in default_dists(), f"{dist} is needed by {why}"


def test_default_dependencies_and_runtime_extras_are_used():
    eager, lazy = _src_imports()
    used = {dist_of(m) for m in (*eager, *lazy)} | set(INDIRECT_DEFAULT)
    unused = {"default": default_dists() - used}
    unused.update({name: dists - used for name, dists in extra_dists().items() if name != "dev"})
    unused = {k: v for k, v in unused.items() if v}
    assert not unused, f"declared but never imported by src/partlift: {unused}"


def test_every_declared_pytest_marker_is_used():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    markers = {m.split(":")[0].strip() for m in config.get("markers", [])}
    text = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py"))
    unused = {m for m in markers if not re.search(rf"\bmark\.{m}\b|-m\s+['\"]?[^'\"]*\b{m}\b", text)}
    assert not unused, f"pytest markers declared but never used: {unused}"


# ---------------------------------------------------------------------------- the checks themselves


def test_collect_imports_separates_load_time_from_lazy():
    source = (
        "import os\nimport numpy as np\nfrom cv2 import Canny\nfrom . import sibling\n"
        "from partlift.geometry import io\n"
        "class A:\n    import trimesh\n"
        "def f():\n    import skimage.data\n    from transformers import AutoModel\n"
    )
    eager, lazy = collect_imports(source)
    assert set(eager) == {"numpy", "cv2", "trimesh"} and eager["cv2"] == 3
    assert set(lazy) == {"skimage", "transformers"}


def test_dependency_names_are_normalised():
    assert requirement_name("cut-pursuit-py>=1.0.12") == "cut-pursuit-py"
    assert requirement_name("Pillow_SIMD[extra]>=1; python_version>'3'") == "pillow-simd"
    assert dist_of("PIL") == "pillow" and dist_of("cv2") == "opencv-python-headless"
    assert dist_of("cut_pursuit_py") == "cut-pursuit-py"
    # the check would catch an undeclared load-time import
    assert dist_of("embreex") not in default_dists()


def test_undeclared_flags_modules_missing_from_the_lists():
    # a fake import list: what the checks above would report if the code imported these
    imports = {m: [f"src/partlift/fake.py:{i}"] for i, m in enumerate(["numpy", "cv2", "PIL", "embreex", "skimage"])}
    defaults = {"numpy", "opencv-python-headless", "pillow"}
    assert set(undeclared(imports, defaults)) == {"embreex", "skimage"}
    assert undeclared(imports, defaults | {"embreex", "scikit-image"}) == {}
    # a lazy import counts as declared in any extra, not only in the default list
    lazy = {"transformers": ["a.py:1"], "ray": ["b.py:2"]}
    assert set(undeclared(lazy, defaults.union({"transformers"}, {"diffusers"}))) == {"ray"}
