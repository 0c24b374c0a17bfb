"""Batch inference over many inputs: input discovery, a resumable manifest, failures and a summary.

``partlift segment`` and ``partlift detect`` accept several files, folders and globs. Each input
becomes a :class:`BatchItem` (:func:`expand_inputs`); an :class:`~partlift.experiments.executors.Executor`
runs the method on every item not finished yet, with the model loaded once per worker from the
bytes of its folder (:class:`ModelFiles`). The driver, and only the driver, writes the folder's
bookkeeping (layout: docs/FORMATS.md, "Batch outputs"):

- ``manifest.json`` (:class:`BatchManifest`, rewritten atomically at most every second and at the
  end): the model's fingerprint (SHA-256 of its files), the settings and their fingerprint, and per
  finished item its input and output files with their SHA-256. An item is finished when its entry
  exists and all its files exist; a rerun skips it. A rerun with another model or other settings is
  refused (``redo`` deletes the recorded outputs and starts again), so results are never mixed.
- ``failures.json``: the items that failed in this run, each with its one-line reason.
- ``summary.json``: counts, seconds per item, throughput, backend, workers, peak memory per worker.

Workers write their items' files themselves (atomically), so with a cluster the output folder and
the inputs must be on a file system every node sees; the model travels through Ray's object store.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from partlift.errors import OutputError, ReadError
from partlift.experiments.executors import Executor, Outcome, Shared
from partlift.geometry.io import atomic_write_bytes
from partlift.outputs import read_format_json

BATCH_FORMAT = "partlift-batch-manifest"
BATCH_VERSION = 1
MANIFEST = "manifest.json"
FAILURES = "failures.json"
SUMMARY = "summary.json"

MESH_INPUT_SUFFIXES = (".ply", ".obj", ".glb", ".gltf", ".stl", ".off")
IMAGE_INPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
InputKind = Literal["points", "images"]


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON atomically (temp name + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(obj, indent=1).encode())


def fingerprint(obj: Any) -> str:
    """SHA-256 of a JSON-serialisable object (keys sorted)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class ModelFiles:
    """The files of a model folder as bytes: what workers load the model from, and its fingerprint.

    Attributes:
        folder: the folder as the user named it (for messages and output records).
        files: (path relative to the folder, content), sorted by path.
    """

    folder: str
    files: tuple[tuple[str, bytes], ...]

    @staticmethod
    def read(folder: str | os.PathLike[str], names: Sequence[str]) -> ModelFiles:
        """Read ``names`` (files, or subfolders read recursively) of ``folder``; absent ones are skipped
        (the method's loader reports what it needs). Hidden files are left out."""
        root = Path(folder)
        found: dict[str, bytes] = {}
        for name in names:
            p = root / name
            paths = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p] if p.is_file() else []
            for q in paths:
                rel = q.relative_to(root)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                try:
                    found[rel.as_posix()] = q.read_bytes()
                except OSError as exc:
                    raise ReadError(f"cannot read {q}: {exc.strerror or exc}") from None
        return ModelFiles(str(folder), tuple(sorted(found.items())))

    def hashes(self) -> dict[str, str]:
        return {rel: hashlib.sha256(data).hexdigest() for rel, data in self.files}

    def fingerprint(self) -> str:
        """SHA-256 over the files' paths and SHA-256s: equal exactly when the model files are equal."""
        return fingerprint(self.hashes())

    @property
    def nbytes(self) -> int:
        return sum(len(data) for _, data in self.files)

    def write_to(self, dest: Path) -> Path:
        """Write the files under ``dest`` (a worker's private copy); returns ``dest``."""
        for rel, data in self.files:
            p = dest / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return dest


# ---------------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class BatchItem:
    """One input of a batch.

    Attributes:
        key: unique id of the item and its manifest key, e.g. ``Chair/1234``, ``scan``,
            ``car/car_000001_003``.
        path: the input file.
        folder: where its outputs go, relative to ``<out>`` ("" = ``<out>`` itself).
        stem: output files are ``<out>/<folder>/<stem><suffix>`` (``_parts.ply``, ``_part321.json``, ...).
        category: the category its layout names (a PartNetE folder, an image dataset), else None.
        dataset: detect: the image dataset folder the image belongs to (its annotation holds the
            camera and ground truth), with ``split``, ``shape_id`` and ``view``.
    """

    key: str
    path: str
    folder: str
    stem: str
    category: str | None = None
    dataset: str | None = None
    split: str = ""
    shape_id: str = ""
    view: int = -1


@dataclass(frozen=True)
class Failure:
    """An item (or an input argument) that gave no result, with its one-line reason."""

    key: str
    input: str
    error: str
    kind: str = "input"


@dataclass
class Inputs:
    """What :func:`expand_inputs` found: the items, the inputs that could not be used, and notes."""

    items: list[BatchItem] = field(default_factory=list)
    problems: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _has_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _visible(path: Path, base: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(base).parts)


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _image_dataset_root(path: Path) -> Path | None:
    """The ``partlift make-dataset images`` folder ``path`` is (or lies in), if any."""
    for p in [path, *list(path.parents)[:3]]:
        if (p / "splits.json").is_file() and (p / "config.json").is_file():
            return p
    return None


def _dataset_item(image: Path, root: Path) -> BatchItem | None:
    """The item of an image ``<root>/<split>/<shape id>/image/<view>.png`` of an image dataset."""
    rel = image.relative_to(root).parts
    if (len(rel) != 4 or rel[2] != "image" or image.suffix != ".png" or not image.stem.isdigit()
            or rel[0] not in ("template", "train", "test")):
        return None
    split, sid, view = rel[0], rel[1], int(image.stem)
    if not (root / split / sid / "annotation" / f"{view:03d}.json").is_file():
        return None
    try:
        category = str(json.loads((root / "config.json").read_text())["category"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    stem = f"{sid}_{view:03d}"
    return BatchItem(f"{category}/{stem}", str(image), category, stem, category, dataset=str(root), split=split,
                     shape_id=sid, view=view)


def _partnete_shape(pc: Path) -> BatchItem:
    """A PartNetE shape ``.../<Category>/<id>/pc.ply``, written to ``<out>/<Category>/<id>/``."""
    key = f"{pc.parent.parent.name}/{pc.parent.name}"
    return BatchItem(key, str(pc), key, "pc", pc.parent.parent.name)


def _partnete_items(folder: Path) -> list[BatchItem]:
    """Shapes of a PartNetE-layout folder: ``<folder>/<Category>/<id>/pc.ply`` or, for a dataset root,
    ``<folder>/<split>/<Category>/<id>/pc.ply``; or the one shape of ``<folder>/pc.ply``. The output
    mirrors the layout."""
    if (folder / "pc.ply").is_file():
        return [_partnete_shape(folder / "pc.ply")]
    items = []
    for pattern in ("*/*/pc.ply", "*/*/*/pc.ply"):
        for pc in sorted(folder.glob(pattern)):
            if not _visible(pc, folder):
                continue
            key = pc.parent.relative_to(folder).as_posix()
            items.append(BatchItem(key, str(pc), key, "pc", pc.parent.parent.name))
        if items:
            return items
    return items


def _file_item(path: Path, key: str, kind: InputKind) -> BatchItem:
    """A segment input gets a folder of its own (``<out>/<key>/``, beside its ``label.npy``; a PartNetE
    ``pc.ply`` ``<out>/<Category>/<id>/``); a detect input's files go beside the others
    (``<out>/<key>_part321.json``)."""
    if kind == "images":
        root = _image_dataset_root(path.parent)
        item = _dataset_item(path, root) if root is not None else None
        if item is not None:
            return item
        parent = Path(key).parent.as_posix()
        return BatchItem(key, str(path), "" if parent == "." else parent, path.stem)
    if path.name == "pc.ply":
        return _partnete_shape(path)
    return BatchItem(key, str(path), key, path.stem)


def _folder_items(folder: Path, kind: InputKind, out: Path | None, notes: list[str]) -> list[BatchItem]:
    if kind == "points":
        items = _partnete_items(folder)
        if items:
            return items
    if kind == "images":
        root = _image_dataset_root(folder)
        if root is not None:
            if folder.resolve() == root.resolve():
                folder = root / "test"
                notes.append(f"note: {root} is an image dataset: detecting its test images (give {root}/<split> "
                             "for another split)")
            images = sorted(folder.rglob("image/*.png"))
            found = [it for it in (_dataset_item(p, root) for p in images) if it is not None]
            if found:
                return found
    suffixes = MESH_INPUT_SUFFIXES if kind == "points" else IMAGE_INPUT_SUFFIXES
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes and p.is_file()
                   and _visible(p, folder) and not _inside(p, out))
    return [_file_item(p, p.relative_to(folder).with_suffix("").as_posix(), kind) for p in files]


def expand_inputs(inputs: Sequence[str], kind: InputKind, out: Path | None = None) -> Inputs:
    """The items of the command-line inputs: files, folders (searched recursively; PartNetE layouts and
    image datasets are recognised) and glob patterns. Nothing inside ``out`` is taken as an input.

    A missing path, a pattern matching nothing, an empty folder or two inputs that would write the
    same outputs become problems (one line each); the rest of the batch goes on."""
    found = Inputs()
    by_key: dict[str, BatchItem] = {}
    seen: set[Path] = set()

    def add(items: Iterable[BatchItem], arg: str) -> None:
        for it in items:
            real = Path(it.path).resolve()
            if real in seen:
                continue
            seen.add(real)
            if it.key in by_key:
                found.problems.append(Failure(it.key, it.path, f"{it.path}: would write the same outputs as "
                                              f"{by_key[it.key].path} ({it.key}); rename one or run them separately"))
                continue
            by_key[it.key] = it
            found.items.append(it)

    for arg in inputs:
        p = Path(arg)
        if p.is_dir():
            items = _folder_items(p, kind, out, found.notes)
            if not items:
                what = "point clouds or meshes" if kind == "points" else "images"
                found.problems.append(Failure(arg, arg, f"{arg}: no {what} in this folder"))
            add(items, arg)
        elif p.is_file():
            add([_file_item(p, p.stem, kind)], arg)
        elif _has_glob(arg):
            matches = [Path(m) for m in sorted(glob.glob(arg, recursive=True))]
            matches = [m for m in matches if not _inside(m, out)]
            if not matches:
                found.problems.append(Failure(arg, arg, f"{arg}: no file matches this pattern"))
            for m in matches:
                if m.is_dir():
                    add(_folder_items(m, kind, out, found.notes), arg)
                elif m.is_file():
                    add([_file_item(m, m.stem, kind)], arg)
        else:
            found.problems.append(Failure(arg, arg, f"{arg}: no such file or folder"))
    return found


# ---------------------------------------------------------------------------------------- manifest
class BatchManifest:
    """``<out>/manifest.json`` of a batch (module docstring).

    Args:
        out: the output folder.
        job: what the batch runs ("segment", "detect").
        model: {"path", "fingerprint", "files"} of the model, or None.
        settings: every setting that changes the outputs (JSON).
        redo: an existing manifest with another model or other settings is replaced (its recorded
            outputs deleted) instead of refused.
        min_interval: seconds between two rewrites while items finish (more for a manifest that takes
            long to write).

    Raises:
        OutputError: ``out`` holds a batch of another job, model or settings (without ``redo``).
    """

    def __init__(self, out: Path, job: str, model: dict[str, Any] | None, settings: dict[str, Any],
                 redo: bool = False, min_interval: float = 1.0) -> None:
        self.out = Path(out)
        self.path = self.out / MANIFEST
        self.min_interval = min_interval
        self.data: dict[str, Any] = {
            "format": BATCH_FORMAT, "version": BATCH_VERSION, "job": job, "model": model,
            "settings": settings, "settings_fingerprint": fingerprint(settings), "items": {},
        }
        self.removed: list[str] = []
        self._last_write = 0.0
        self._write_seconds = 0.0
        old = self._read_old()
        if old is not None:
            reason = self._mismatch(old)
            if reason and not redo:
                raise OutputError(f"{self.path}: {reason}; pass --redo to redo every item, or choose another --out")
            if reason:
                self.removed = self._remove_outputs(old)
            else:
                self.data["items"] = dict(old.get("items", {}))

    def _read_old(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        try:
            old = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None  # a damaged manifest: every item is made again
        return old if isinstance(old, dict) and old.get("format") == BATCH_FORMAT else None

    def _mismatch(self, old: dict[str, Any]) -> str:
        if old.get("job") != self.data["job"] or old.get("version") != BATCH_VERSION:
            return f"the folder holds a {old.get('job')} batch (format {old.get('version')}), not {self.data['job']}"
        new_model, old_model = self.data["model"] or {}, old.get("model") or {}
        if new_model.get("fingerprint") != old_model.get("fingerprint"):
            return (f"its outputs were made with another model ({old_model.get('path')}, fingerprint "
                    f"{str(old_model.get('fingerprint'))[:12]}; now {new_model.get('path')}, "
                    f"{str(new_model.get('fingerprint'))[:12]})")
        if old.get("settings_fingerprint") != self.data["settings_fingerprint"]:
            raw = old.get("settings")
            before: dict[str, Any] = raw if isinstance(raw, dict) else {}
            changed = sorted(k for k in set(before) | set(self.data["settings"])
                             if before.get(k) != self.data["settings"].get(k))
            diff = ", ".join(f"{k} {before.get(k)!r} -> {self.data['settings'].get(k)!r}" for k in changed)
            return f"its outputs were made with other settings ({diff or 'changed'})"
        return ""

    def _remove_outputs(self, old: dict[str, Any]) -> list[str]:
        removed = []
        base = self.out.resolve()
        for entry in old.get("items", {}).values():
            for rel in (entry.get("files", {}) if isinstance(entry, dict) else {}):
                p = (self.out / rel).resolve()
                if p.is_file() and p.is_relative_to(base) and p != base / MANIFEST:
                    p.unlink()
                    removed.append(str(rel))
        return removed

    @property
    def items(self) -> dict[str, dict[str, Any]]:
        return self.data["items"]

    def is_done(self, key: str) -> bool:
        """The item has an entry and all its files exist."""
        entry = self.items.get(key)
        return entry is not None and all((self.out / rel).is_file() for rel in entry.get("files", {}))

    def add(self, key: str, entry: dict[str, Any]) -> None:
        self.items[key] = entry
        # a large manifest is rewritten less often: at most 5 % of the time goes into rewriting it
        if time.monotonic() - self._last_write >= max(self.min_interval, 20 * self._write_seconds):
            self.write()

    def write(self) -> None:
        t0 = time.monotonic()
        self.data["items"] = dict(sorted(self.items.items()))
        write_json(self.path, self.data)
        self._last_write = time.monotonic()
        self._write_seconds = self._last_write - t0


def read_manifest(out: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The batch manifest of ``out``, or None."""
    return read_format_json(Path(out) / MANIFEST, BATCH_FORMAT)


# ---------------------------------------------------------------------------------------- running
@dataclass
class BatchReport:
    """What a batch did (``summary.json`` is its :meth:`to_dict`)."""

    job: str
    items: int
    done: int
    skipped: int
    failures: list[Failure]
    wall_seconds: float
    item_seconds: list[float]
    executor: dict[str, Any]
    peak_rss: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        mean = sum(self.item_seconds) / len(self.item_seconds) if self.item_seconds else None
        rss = list(self.peak_rss.values())
        return {
            "job": self.job, "items": self.items, "done": self.done, "skipped": self.skipped,
            "failed": len(self.failures), "wall_seconds": round(self.wall_seconds, 3),
            "seconds_per_item": None if mean is None else round(mean, 4),
            "throughput_items_per_second": round(self.done / self.wall_seconds, 4) if self.wall_seconds > 0 else None,
            **self.executor,
            "peak_rss_mb_per_worker": {w: round(b / 2**20, 1) for w, b in sorted(self.peak_rss.items())},
            "peak_rss_mb_max": round(max(rss) / 2**20, 1) if rss else None,
        }

    def lines(self, max_failures: int = 20) -> list[str]:
        """The printed summary: counts, speed, and one line per failure."""
        d = self.to_dict()
        speed = (f"; {d['seconds_per_item']:.2f} s per item, {d['throughput_items_per_second']:.2f} items/s"
                 if self.done and d["seconds_per_item"] is not None and d["throughput_items_per_second"] else "")
        workers = f"{d['workers']} worker{'s' if d['workers'] != 1 else ''}"
        out = [f"{self.job}: {self.items} items: {self.done} done, {self.skipped} already done, "
               f"{len(self.failures)} failed in {self.wall_seconds:.1f} s ({d['backend']}, {workers}){speed}"]
        for f in self.failures[:max_failures]:
            named = f.error.startswith(f.input) or f.error.startswith(f.key)
            out.append(f"failed: {f.error}" if named else f"failed: {f.key}: {f.error}")
        if len(self.failures) > max_failures:
            out.append(f"... and {len(self.failures) - max_failures} more (see {FAILURES})")
        return out


def run_batch(
    executor: Executor,
    fn: Callable[..., dict[str, Any]],
    items: Sequence[BatchItem],
    manifest: BatchManifest,
    shared: Shared[Any, Any] | None = None,
    problems: Sequence[Failure] = (),
    progress: bool = True,
    on_outcome: Callable[[BatchItem, Outcome], None] | None = None,
) -> BatchReport:
    """Run ``fn`` on the items the manifest does not hold yet; record results, failures and a summary.

    ``fn(state, item)`` (``fn(item)`` without ``shared``) writes the item's files under the output
    folder and returns ``{"files": {path relative to the folder: sha256}, ...}``. ``problems`` are
    inputs that could not be turned into items; they are listed with the failures.
    """
    from tqdm import tqdm

    t0 = time.perf_counter()
    todo = [it for it in items if not manifest.is_done(it.key)]
    skipped = len(items) - len(todo)
    failures = list(problems)
    seconds: list[float] = []
    rss: dict[str, int] = {}
    bar = tqdm(total=len(todo), desc=manifest.data["job"], unit="item", disable=not progress, leave=False)
    try:
        for outcome in _outcomes(executor, fn, todo, shared):
            item = todo[outcome.index]
            if outcome.peak_rss is not None and outcome.worker:
                rss[outcome.worker] = max(rss.get(outcome.worker, 0), outcome.peak_rss)
            if outcome.error is not None:
                failures.append(Failure(item.key, item.path, outcome.error, outcome.kind or "input"))
            else:
                value = outcome.value or {}
                manifest.add(item.key, {"input": item.path, "files": dict(sorted(value.get("files", {}).items())),
                                        "seconds": round(outcome.seconds, 4)})
                seconds.append(outcome.seconds)
            if on_outcome is not None:
                on_outcome(item, outcome)
            bar.update(1)
    finally:
        bar.close()
        manifest.write()
    report = BatchReport(manifest.data["job"], len(items) + len(problems), len(seconds), skipped, failures,
                         time.perf_counter() - t0, seconds, executor.describe(), rss)
    write_json(manifest.out / FAILURES, {"failures": [asdict(f) for f in failures]})
    write_json(manifest.out / SUMMARY, report.to_dict())
    return report


def _outcomes(executor: Executor, fn: Callable[..., Any], todo: Sequence[BatchItem],
              shared: Shared[Any, Any] | None) -> Iterator[Outcome]:
    if not todo:
        return iter(())
    return executor.map_unordered(fn, todo, shared=shared)


def hash_outputs(out: Path, paths: Iterable[Path]) -> dict[str, str]:
    """{path relative to ``out``: sha256} of files a worker wrote."""
    base = out.resolve()
    return {Path(p).resolve().relative_to(base).as_posix(): sha256_file(p) for p in paths}
