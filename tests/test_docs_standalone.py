"""The repository stands alone: no text file points at material outside it.

Sources are cited as public papers and repositories (docs/REFERENCES.md). A reference to a
sibling checkout, an absolute machine path, a private note file or an issue-tracker number means
nothing to a reader of a clone, so the scan fails on any of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED_DIRS = ("src", "tests", "benchmarks", "docs")
SCANNED_FILES = ("README.md", "Makefile", "pyproject.toml", "LICENSE")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".json", ".cfg", ".ini", ".yaml", ".yml", ".html", ".css", ".js"}

# Built from pieces so that this file does not match its own patterns.
_DOT_MD = r"\." + "md"
# Note files are lower case; the repository's own pages (docs/PARTSTAD.md, ...) are upper case.
_NOTE_NAMES = ("part" + "stad", "part" + "321", "ne" + "mo", "part" + "slip", "3d-" + "dst", "mach" + "ine",
               "land" + "scape")
PATTERNS = {
    "sibling checkout": re.compile(re.escape(".." + "/" + "shared")),
    "absolute machine path": re.compile(re.escape("/" + "work" + "/")),
    "research-note file": re.compile(r"(?<![\w.-])(?:" + "|".join(map(re.escape, _NOTE_NAMES)) + ")" + _DOT_MD + r"\b"),
    "issue number": re.compile(r"\b" + "iss" + r"ues?\s+#?\d", re.IGNORECASE),
    # a tracker entry's note stands outside the repository as much as its number does
    "issue-tracker note": re.compile(r"\b" + "iss" + r"ue(?:'s)?\s+notes?\b", re.IGNORECASE),
}


def find_external_references(text: str) -> list[tuple[int, str, str]]:
    """(line number, kind, matched text) of every reference to material outside the repository."""
    hits = []
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, pattern in PATTERNS.items():
            hits += [(number, kind, m.group(0)) for m in pattern.finditer(line)]
    return hits


def _scanned_files() -> list[Path]:
    files = [ROOT / name for name in SCANNED_FILES if (ROOT / name).is_file()]
    for folder in SCANNED_DIRS:
        files += [p for p in sorted((ROOT / folder).rglob("*")) if p.is_file() and p.suffix in TEXT_SUFFIXES]
    return [p for p in files if "__pycache__" not in p.parts]


def test_no_file_refers_outside_the_repository():
    bad = []
    for path in _scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        bad += [f"{path.relative_to(ROOT)}:{n}: {kind}: {hit!r}" for n, kind, hit in find_external_references(text)]
    assert not bad, "references to material outside the repository:\n" + "\n".join(bad)


def test_the_scan_covers_code_and_docs():
    names = {p.relative_to(ROOT).as_posix() for p in _scanned_files()}
    assert {"README.md", "pyproject.toml", "Makefile", "docs/REFERENCES.md", "tests/test_docs_standalone.py",
            "src/partlift/partstad/config.py"} <= names


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("constants from " + ".." + "/" + "shared/research/notes", "sibling checkout"),
        ("see " + "/" + "work" + "/main/src", "absolute machine path"),
        ("views (" + "part" + "stad" + ".md section 2)", "research-note file"),
        ("NeMo (" + "part321" + ".md 4.3)", "research-note file"),
        ("docs: research/" + "partstad" + ".md, section 2", "research-note file"),
        ("as in " + "3d-dst" + ".md", "research-note file"),
        ("Issue" + " 5's target", "issue number"),
        ("the limit of " + "issues" + " 6/7", "issue number"),
        ("merge script in the " + "issue" + " note", "issue-tracker note"),
        ("see the " + "issue's" + " notes", "issue-tracker note"),
    ],
)
def test_scanner_catches_bad_references(text, kind):
    assert kind in {k for _, k, _ in find_external_references(text)}


@pytest.mark.parametrize(
    "text",
    [
        "docs/PARTSTAD.md, \"Views\"",  # the repository's own pages are fine
        "see [docs/PART321.md](PART321.md) and README.md",
        "PartSTAD paper section 5.1; Part321 section 4.4",
        "an issue with the mesh",
        "a known issue: notes on meshes",
        "PartSTAD's GitHub thread about superpoints",
    ],
)
def test_scanner_accepts_in_repository_references(text):
    assert find_external_references(text) == []
