"""Generation at scale: atomic file writes, file hashes, a resumable manifest, a process pool.

A dataset run is a list of *tasks* (one shape with the items still to make), executed by
spawn-safe top-level functions in ``workers`` processes, or on a :class:`TaskExecutor` (for
instance a Ray cluster, from ``partlift.experiments.executors``). Every file is written to a temporary
name and renamed, and its SHA-256 and size are recorded; the parent process merges the results
into ``manifest.json`` (rewritten atomically every few seconds and at the end). An item is finished
when its manifest entry exists and its files pass a check (each exists with its recorded size; with
``verify`` also its recorded SHA-256), so an interrupted run resumes where it stopped, a finished one
is a no-op, and an item with a missing, truncated or (verified) corrupted file is made again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
from PIL import Image

from partlift.errors import PartliftError
from partlift.geometry.atomic import atomic_write_bytes, atomic_write_json

MANIFEST_FORMAT = "partlift-dataset-manifest"
# Bumped when generated content changes for the same config, so cached datasets are rebuilt.
# 2: edge maps come from OpenCV's Canny on the RGB render (1: own re-implementation on grey).
DATASET_FORMAT_VERSION = 2


# --------------------------------------------------------------------------------- writing files
def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_entry(data: bytes) -> dict[str, str | int]:
    """The manifest entry of a file: its SHA-256 and size in bytes."""
    return {"sha256": sha256_bytes(data), "size": len(data)}


def file_intact(path: Path, entry: dict | str, verify: bool = False) -> bool:
    """Whether ``path`` still holds what its manifest ``entry`` recorded.

    The cheap check compares the size; ``verify`` also the SHA-256. Entries of manifests written
    before sizes were recorded are a bare hash string and are always hashed.
    """
    try:
        if isinstance(entry, str):
            return path.is_file() and sha256_file(path) == entry
        if not isinstance(entry, dict) or not path.is_file() or path.stat().st_size != entry.get("size"):
            return False
        return not verify or sha256_file(path) == entry.get("sha256")
    except OSError:
        return False


class FileWriter:
    """Writes files under ``root`` atomically and remembers {relative path: {sha256, size}}."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.files: dict[str, dict[str, str | int]] = {}

    def bytes(self, rel: str, data: bytes) -> Path:
        path = self.root / rel
        atomic_write_bytes(path, data)
        self.files[rel] = file_entry(data)
        return path

    def png(self, rel: str, array: np.ndarray) -> Path:
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(array)).save(buf, format="PNG", compress_level=1)
        return self.bytes(rel, buf.getvalue())

    def npy(self, rel: str, array, allow_pickle: bool = False) -> Path:
        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=allow_pickle)
        return self.bytes(rel, buf.getvalue())

    def json(self, rel: str, obj) -> Path:
        return self.bytes(rel, json.dumps(obj, indent=1, default=_json_default).encode())

    def existing(self, rel: str) -> Path:
        """Record a file written by another writer (e.g. trimesh via geometry.io)."""
        path = self.root / rel
        self.files[rel] = {"sha256": sha256_file(path), "size": path.stat().st_size}
        return path


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if is_dataclass(o):
        return asdict(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def to_jsonable(obj):
    """A dataclass / numpy structure as plain JSON types."""
    return json.loads(json.dumps(asdict(obj) if is_dataclass(obj) else obj, default=_json_default))


def write_json_atomic(path: str | os.PathLike, obj) -> None:
    """JSON (numpy values and dataclasses converted) written atomically."""
    atomic_write_json(path, obj, default=_json_default)


# --------------------------------------------------------------------------------- manifest
def package_versions() -> dict[str, str]:
    """Versions of Python, partlift and the packages that shape the generated data."""
    from importlib import metadata

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in ("partlift", "numpy", "scipy", "numba", "trimesh", "pillow", "opencv-python-headless", "scikit-image"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


class Manifest:
    """``manifest.json`` of one dataset: seed, config, versions and {item key: {file: {sha256, size}}}.

    File paths are relative to ``root`` (default: the manifest's folder). ``damaged`` collects the
    items :meth:`is_done` found with a missing or damaged file (they are made again).
    """

    def __init__(self, path: str | os.PathLike, kind: str, config: dict, seed: int, root=None,
                 sources: dict[str, dict] | None = None):
        """``sources``: {name: {sha256, ...}} of the user's input files (a ``--meshes`` folder); a
        rerun whose inputs differ is refused, so a dataset never mixes shapes of two folder states."""
        self.path = Path(path)
        self.root = Path(root) if root is not None else self.path.parent
        self.data: dict = {
            "format": MANIFEST_FORMAT,
            "format_version": DATASET_FORMAT_VERSION,
            "kind": kind,
            "seed": int(seed),
            "config": config,
            "versions": package_versions(),
            "complete": False,
            "items": {},
        }
        if sources is not None:
            self.data["sources"] = sources
        self._last_write = 0.0
        self.damaged: list[str] = []
        self.checked = 0
        if self.path.exists():
            try:
                old = json.loads(self.path.read_text())
            except (OSError, ValueError):
                old = None  # unreadable manifest: everything is regenerated
            if old and old.get("format") == MANIFEST_FORMAT:
                if old.get("config") != config or old.get("format_version") != DATASET_FORMAT_VERSION:
                    raise PartliftError(
                        f"{self.root} holds a dataset generated with a different configuration or format "
                        f"version; use another output folder or delete it ({self.path})"
                    )
                old_sources = old.get("sources")
                if sources is not None and old_sources is not None and old_sources != sources:
                    changed = sorted(k for k in set(sources) | set(old_sources) if sources.get(k) != old_sources.get(k))
                    raise PartliftError(
                        f"{self.root} was generated from other input files ({', '.join(changed[:3])}"
                        f"{' ...' if len(changed) > 3 else ''} changed, added or removed since); "
                        "use another output folder or delete it")
                self.data["items"] = dict(old.get("items", {}))

    @property
    def items(self) -> dict[str, dict[str, Any]]:
        """{item key: {file: entry}}; an entry is {sha256, size}, or a bare sha256 in older manifests."""
        return cast(dict, self.data["items"])

    def is_done(self, key: str, verify: bool = False) -> bool:
        """The item has a manifest entry and every file passes :func:`file_intact`.

        An entry whose files fail is remembered in ``damaged``; an old hash-only entry that passes
        gets its sizes recorded, so later checks are cheap.
        """
        files = self.items.get(key)
        if files is None:
            return False
        self.checked += 1
        if not isinstance(files, dict) or not all(file_intact(self.root / rel, entry, verify)
                                                  for rel, entry in files.items()):
            if key not in self.damaged:
                self.damaged.append(key)
            return False
        if any(isinstance(entry, str) for entry in files.values()):
            self.items[key] = {rel: entry if isinstance(entry, dict) else
                               {"sha256": entry, "size": (self.root / rel).stat().st_size}
                               for rel, entry in files.items()}
        return True

    def repair_note(self, name: str, verify: bool = False, limit: int = 3) -> str | None:
        """One line on what the checks of this run found (None when there is nothing to say)."""
        if self.damaged:
            n = len(self.damaged)
            keys = ", ".join(self.damaged[:limit]) + (" ..." if n > limit else "")
            return f"{name}: regenerated {n} item{'s' if n != 1 else ''} with missing or damaged files: {keys}"
        if verify and self.checked:
            return f"{name}: verified the SHA-256 of {self.checked} finished items: all intact"
        return None

    def add(self, results: Mapping[str, dict[str, Any]]) -> None:
        self.items.update(results)
        if time.monotonic() - self._last_write > 5.0:
            self.write()

    def write(self, complete: bool = False) -> None:
        self.data["complete"] = bool(complete)
        self.data["items"] = dict(sorted(self.items.items()))  # the same bytes whatever order items finished in
        self.data["versions"] = package_versions()
        write_json_atomic(self.path, self.data)
        self._last_write = time.monotonic()


def manifest_complete(path: str | os.PathLike, root: str | os.PathLike | None = None) -> bool:
    """True if ``path`` is a manifest marked complete whose files (relative to ``root``) all pass the
    cheap check of :func:`file_intact` (exist with their recorded size)."""
    p = Path(path)
    base = Path(root) if root is not None else p.parent
    if not p.is_file():
        return False
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return False
    if not data.get("complete") or data.get("format_version") != DATASET_FORMAT_VERSION:
        return False
    items = data.get("items")
    if not isinstance(items, dict) or not all(isinstance(files, dict) for files in items.values()):
        return False
    return all(file_intact(base / rel, entry) for files in items.values() for rel, entry in files.items())


# --------------------------------------------------------------------------------- running tasks
def _init_worker() -> None:
    # One numba thread per process: the pool provides the parallelism.
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # noqa: BLE001 - numba missing or threading layer unavailable
        pass


class TaskOutcome(Protocol):
    """What a :class:`TaskExecutor` yields for one task."""

    @property
    def index(self) -> int: ...  # position of the task in ``tasks``

    @property
    def value(self) -> Any: ...  # ``fn(task)``, None if it failed

    @property
    def error(self) -> str | None: ...  # one-line reason it failed

    @property
    def bad_input(self) -> bool: ...  # it failed on bad input (a PartliftError), not on a bug


class TaskExecutor(Protocol):
    """Runs tasks elsewhere: in worker processes or on a cluster (``partlift.experiments.executors``
    implements it; this layer only needs these two members)."""

    @property
    def workers(self) -> int: ...  # tasks that run at once

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[TaskOutcome]:
        """Yield one outcome per item as it finishes; ``fn`` is a module-level function."""
        ...


def run_tasks(
    fn: Callable,
    tasks: Sequence,
    workers: int = 1,
    on_result: Callable[[dict], None] | None = None,
    progress: bool = True,
    desc: str = "generating",
    total_units: Callable[[Any], int] | None = None,
    executor: TaskExecutor | None = None,
) -> None:
    """Run ``fn(task) -> dict`` over ``tasks`` in ``workers`` spawned processes (1 = in-process), or
    on ``executor`` when given (``workers`` is then ignored).

    ``on_result`` receives every result in the parent as soon as it arrives. The progress bar
    (tqdm) counts ``total_units(task)`` per task (default 1). With an executor, a failed task does
    not stop the others; the first failure is raised once all have run.
    """
    from tqdm import tqdm

    units = total_units or (lambda _t: 1)
    bar = tqdm(total=sum(units(t) for t in tasks), desc=desc, disable=not progress, unit="item", leave=False)
    try:
        if executor is not None:
            failed: list[TaskOutcome] = []
            for outcome in executor.map_unordered(fn, tasks):
                if outcome.error is not None:
                    failed.append(outcome)
                elif on_result:
                    on_result(outcome.value)
                bar.update(units(tasks[outcome.index]))
            if failed:
                first = min(failed, key=lambda o: o.index)
                message = f"{desc}: {len(failed)} of {len(tasks)} tasks failed; the first: {first.error}"
                raise PartliftError(message) if first.bad_input else RuntimeError(message)
            return
        if workers <= 1 or len(tasks) <= 1:
            for t in tasks:
                res = fn(t)
                if on_result:
                    on_result(res)
                bar.update(units(t))
            return
        import multiprocessing as mp

        # spinning OpenMP barriers make busy workers slow each other down on a shared machine
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        ctx = mp.get_context("spawn")
        with ctx.Pool(processes=int(workers), initializer=_init_worker) as pool:
            for i, res in pool.imap_unordered(_indexed, [(fn, i, t) for i, t in enumerate(tasks)]):
                if on_result:
                    on_result(res)
                bar.update(units(tasks[i]))
    finally:
        bar.close()


def _indexed(args):
    fn, i, task = args
    return i, fn(task)


def chunked(seq: Iterable, n: int) -> list[list]:
    out: list[list] = []
    for x in seq:
        if not out or len(out[-1]) >= n:
            out.append([])
        out[-1].append(x)
    return out
