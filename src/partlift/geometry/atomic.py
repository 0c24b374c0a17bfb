"""Atomic file writes: every file partlift later trusts as finished goes through here.

Each helper writes to a temporary name in the target's folder and renames it over the target with
``os.replace`` (atomic within one file system), so an interrupt at any moment leaves either the old
file or the complete new one, never a torn one. A multi-file output additionally writes its
"finished" marker last (docs/FORMATS.md, "Interrupted runs").

Durability across a power loss (``fsync``) is not attempted: the guarantee is for interrupted and
killed processes.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np


def _write_atomic(path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``.

    The one place that commits a file (tests count and interrupt writes here). The parent folder is
    created; the temporary file is removed if writing fails or is interrupted.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # pid and thread id: concurrent writers of the same file never share a temporary name
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return _write_atomic(path, lambda fh: fh.write(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(
    path: str | os.PathLike,
    obj: Any,
    indent: int | None = 1,
    default: Callable[[Any], Any] | None = None,
    allow_nan: bool = True,
    sort_keys: bool = False,
) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically (``json.dumps`` arguments as given)."""
    text = json.dumps(obj, indent=indent, default=default, allow_nan=allow_nan, sort_keys=sort_keys)
    return atomic_write_text(path, text)


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` atomically."""
    import torch

    return _write_atomic(path, lambda fh: torch.save(obj, fh))


def atomic_savez(path: str | os.PathLike, **arrays: Any) -> Path:
    """``np.savez_compressed(path, **arrays)`` atomically (no ``.npz`` is appended)."""
    return _write_atomic(path, lambda fh: np.savez_compressed(fh, **arrays))


def atomic_save_npy(path: str | os.PathLike, array: Any, allow_pickle: bool = False) -> Path:
    """``np.save(path, array)`` atomically (no ``.npy`` is appended)."""
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return atomic_write_bytes(path, buf.getvalue())
