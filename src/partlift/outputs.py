"""Output folders partlift may write into, and never over a user's files.

Every folder a command writes is *claimed* first (:func:`claim_output_dir`). A claimed folder holds
a marker, ``.partlift-output.json``, saying which kind of output it is and which files partlift wrote
there. A folder may be written when it

- does not exist yet or is empty (it is created and marked),
- holds the marker of the same kind (a rerun: resume or replace partlift's own files),
- or holds an output of that kind written before markers existed (``recognise`` says so).

Anything else (a non-empty folder that is not a partlift output, or one of another kind) is refused
with one line unless ``force`` is given, and no output file may be one of the command's inputs.
Rules and messages: docs/FORMATS.md, "Output folders".
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from partlift.errors import OutputError

MARKER = ".partlift-output.json"
MARKER_FORMAT = "partlift-output/1"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def refuse_input_overwrite(outputs: Iterable[str | os.PathLike], inputs: Iterable[str | os.PathLike],
                           option: str = "--out") -> None:
    """Raise :class:`OutputError` if an output path is one of the inputs (or the same file)."""
    ins = [Path(i) for i in inputs]
    for out in map(Path, outputs):
        for i in ins:
            if _same_file(out, i):
                raise OutputError(f"{option}: writing {out} would replace the input {i}; choose another output")


def read_format_json(path: str | os.PathLike, fmt: str) -> dict | None:
    """The JSON object in ``path`` if its ``"format"`` is ``fmt``, else None (missing, unreadable, or
    not that kind of partlift file): how partlift recognises the manifests and markers it wrote."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == fmt else None


def read_marker(folder: str | os.PathLike) -> dict | None:
    """The marker of a claimed folder, or None (no marker, or one that is not partlift's)."""
    return read_format_json(Path(folder) / MARKER, MARKER_FORMAT)


def _write_marker(folder: Path, data: dict) -> None:
    tmp = folder / f".{MARKER}.tmp"
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, folder / MARKER)


class OutputDir:
    """A claimed output folder: ``path`` plus the record of the files partlift wrote there."""

    def __init__(self, path: Path, kind: str, previous_files: list[str]) -> None:
        self.path = path
        self.kind = kind
        self.previous_files = previous_files
        """Files (relative paths) the last run of this kind recorded with :meth:`record`."""

    def remove_previous(self, keep: Iterable[str] = ()) -> list[str]:
        """Delete the files the previous run recorded (except ``keep``); returns what was removed.

        For outputs that are replaced as a whole (a render), so stale files of an earlier run with
        other settings never sit beside the new ones."""
        keep = set(keep)
        removed = []
        for rel in self.previous_files:
            p = self.path / rel
            if rel in keep or not p.is_file() or Path(rel).is_absolute() or ".." in Path(rel).parts:
                continue
            p.unlink()
            removed.append(rel)
        return removed

    def record(self, files: Iterable[str | os.PathLike]) -> None:
        """Record the files this run wrote (paths inside the folder), for the next run's cleanup."""
        rel = sorted({str(Path(f).resolve().relative_to(self.path.resolve())) if Path(f).is_absolute()
                      else str(f) for f in files})
        data = read_marker(self.path) or {"format": MARKER_FORMAT, "kind": self.kind}
        data["files"] = rel
        _write_marker(self.path, data)


def claim_output_dir(path: str | os.PathLike, kind: str, *, force: bool = False, option: str = "--out",
                     recognise: Callable[[Path], bool] | None = None) -> OutputDir:
    """Create or reuse ``path`` as a partlift output folder of ``kind`` (module docstring).

    Args:
        path: the folder.
        kind: what it holds, e.g. ``"partstad-model"``, ``"render"``, ``"dataset-images"``.
        force: write into a non-empty folder that is not a partlift output of this kind anyway (the
            folder is then marked as one).
        option: the CLI option that named the folder, for messages.
        recognise: tells whether an unmarked, non-empty folder is an output of this kind written
            before markers existed (e.g. it holds a partlift manifest).

    Raises:
        OutputError: ``path`` is a file, not writable, or a foreign / other-kind folder without ``force``.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{option}: {p} is a file, not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{option}: cannot create {p}: {exc.strerror or exc}") from None
    marker = read_marker(p)
    if marker is None or marker.get("kind") != kind:
        entries = [e for e in p.iterdir() if e.name != MARKER]
        if marker is not None and not force:
            raise OutputError(f"{option}: {p} holds a partlift {marker.get('kind')} output, not a {kind}; "
                              "choose another folder")
        if marker is None and entries and not force and not (recognise is not None and recognise(p)):
            raise OutputError(f"{option}: {p} is not empty and was not written by partlift as a {kind}; "
                              "choose a new or empty folder, or pass --force to write into it anyway")
        marker = {"format": MARKER_FORMAT, "kind": kind, "files": []}
    if not os.access(p, os.W_OK):
        raise OutputError(f"{option}: {p} is not writable")
    try:
        _write_marker(p, {**marker, "format": MARKER_FORMAT, "kind": kind})
    except OSError as exc:
        raise OutputError(f"{option}: cannot write to {p}: {exc.strerror or exc}") from None
    return OutputDir(p, kind, [str(f) for f in marker.get("files", []) if isinstance(f, str)])
