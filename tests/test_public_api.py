"""The typed public API: lazy package exports that type checkers see, and py.typed shipped."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "partlift"
LAZY_PACKAGES = ("partstad", "datasets", "part321")
# What importing a lazy package must not pull in: its own submodules and the heavy libraries.
HEAVY = ("torch", "numba", "scipy", "trimesh", "transformers")


def _init_tree(package: str) -> ast.Module:
    return ast.parse((SRC / package / "__init__.py").read_text())


def _assigned(tree: ast.Module, name: str) -> ast.expr:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    raise AssertionError(f"no top-level assignment to {name}")


def _type_checking_imports(tree: ast.Module) -> dict[str, str]:
    """name -> module of every ``from module import name`` under ``if TYPE_CHECKING:``."""
    blocks = [n for n in tree.body if isinstance(n, ast.If) and isinstance(n.test, ast.Name)
              and n.test.id == "TYPE_CHECKING"]
    assert len(blocks) == 1, "expected one `if TYPE_CHECKING:` block"
    out: dict[str, str] = {}
    for node in blocks[0].body:
        assert isinstance(node, ast.ImportFrom) and node.module, ast.unparse(node)
        for alias in node.names:
            assert alias.asname in (None, alias.name), f"{alias.name} is imported as {alias.asname}"
            assert alias.name not in out, f"{alias.name} is imported twice"
            out[alias.name] = node.module
    return out


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_type_checking_imports_match_the_lazy_exports(package):
    tree = _init_tree(package)
    exports = ast.literal_eval(_assigned(tree, "_EXPORTS"))
    assert _type_checking_imports(tree) == exports
    # a literal list, so every type checker (not only mypy) reads it
    assert ast.literal_eval(_assigned(tree, "__all__")) == sorted(exports)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_export_resolves_to_its_module_object(package):
    pkg = importlib.import_module(f"partlift.{package}")
    for name, module in pkg._EXPORTS.items():
        assert getattr(pkg, name) is getattr(importlib.import_module(module), name), name
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        pkg.NoSuchName  # noqa: B018 - the attribute access is the test


def test_part321_submodules_still_import():
    from partlift.part321 import Part321, Part321Config, Part321Prediction
    from partlift.part321.model import Part321 as FromModel

    assert Part321 is FromModel
    assert Part321Config().seed == 0 and Part321Prediction.__name__ == "Part321Prediction"


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_importing_a_package_loads_none_of_its_submodules(package):
    code = (
        "import sys\n"
        f"import partlift.{package}\n"
        f"own = [m for m in sys.modules if m.startswith('partlift.{package}.')]\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(own, heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[] []"


def test_py_typed_ships_with_the_package():
    assert (SRC / "py.typed").is_file()
    tomllib = pytest.importorskip("tomllib")
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in data["tool"]["setuptools"]["package-data"]["partlift"]
