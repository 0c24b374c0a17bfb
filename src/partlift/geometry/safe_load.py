"""Loading untrusted files without running code: torch checkpoints and pickled ``.npy`` dicts.

Unpickling can call any importable function, so a crafted ``.pt`` or ``.npy`` file could run code
on load. Checkpoints go through ``torch.load(weights_only=True)`` (tensors, containers and plain
values only); pickled ``.npy`` dicts (PartNetE ``label.npy``, 3D-DST annotations) go through
:class:`RestrictedUnpickler`, which rebuilds numpy arrays and nothing else. Every failure is a
one-line :class:`~partlift.errors.ReadError` naming the file (docs/FORMATS.md, "What the loaders
accept").

torch is imported lazily: this module sits in the geometry layer, which does not need it.
"""

from __future__ import annotations

import codecs
import os
import pickle
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from partlift.errors import ReadError

if TYPE_CHECKING:
    import torch

RETRAIN = "retrain or copy the model again"
# Nested dicts / lists deeper than this are refused (real files are 2-3 levels deep; this also
# stops self-referencing containers, which a pickle can build).
MAX_DEPTH = 16


def one_line(text: object, limit: int = 160) -> str:
    """First sentence of ``text``, cut to ``limit`` characters (library messages can span pages)."""
    lines = [s.strip() for s in str(text).splitlines() if s.strip()]
    line = re.split(r"(?<=\w)\.\s", lines[0])[0] if lines else ""  # first sentence
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _check_file(path: str | os.PathLike, what: str, hint: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise ReadError(f"{what} not found: {p}")
    if not p.is_file():
        raise ReadError(f"{what} is not a file: {p}")
    if p.stat().st_size == 0:
        raise ReadError(f"{p} is empty (0 bytes)" + (f"; {hint}" if hint else ""))
    return p


# ------------------------------------------------------------------------------------ torch checkpoints


def load_torch_checkpoint(
    path: str | os.PathLike, *, what: str = "checkpoint", hint: str = RETRAIN, keys: Iterable[str] = ()
) -> Any:
    """``torch.load(path, weights_only=True, map_location="cpu")`` with one-line errors.

    Args:
        path: the ``.pt`` file.
        what: what the file is, for messages ("Part321 feature network").
        hint: what the user can do about a bad file, appended to messages.
        keys: top-level keys the checkpoint must have (it must then be a dict).

    Returns what was saved: tensors, dicts, lists, tuples, str, int, float, bool, None.

    Raises ReadError naming the file if it is missing, empty, truncated or corrupt, needs any
    global beyond torch's weights-only allowlist (numpy arrays, arbitrary classes or functions:
    nothing is executed), or lacks one of ``keys``.
    """
    import torch

    p = _check_file(path, what, hint)
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols it did not write; the load is checked either way
            warnings.filterwarnings("ignore", message=".*pickle protocol", category=UserWarning)
            obj = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "Weights only load failed" not in text:
            raise ReadError(f"{p} is corrupt ({one_line(text)}); {hint}") from exc
        bad = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
        if bad:
            raise ReadError(
                f"{p} holds more than tensors and plain values (it would call {bad.group(1)}); refused to "
                f"unpickle it, as that could run code (written by an older partlift or by something else: {hint})"
            ) from exc
        detail = re.search(r"WeightsUnpickler error:\s*(.+?)\s*(?:\n\n|$)", text, re.DOTALL)
        raise ReadError(
            f"{p} is corrupt or not a weights-only checkpoint ({one_line(detail.group(1) if detail else text)}); "
            f"refused to unpickle it; {hint}"
        ) from exc
    except EOFError as exc:  # uncaught, click would turn this into "Aborted!"
        raise ReadError(f"{p} is truncated (ends in the middle of the data); {hint}") from exc
    except OSError as exc:  # permissions, I/O errors: not the file's content
        raise ReadError(f"cannot read {p}: {one_line(exc)}") from exc
    except Exception as exc:  # torch raises RuntimeError, KeyError, ValueError, ... for damaged files
        raise ReadError(f"{p} is truncated or corrupt ({type(exc).__name__}: {one_line(exc)}); {hint}") from exc
    keys = list(keys)
    if keys:
        if not isinstance(obj, Mapping):
            raise ReadError(f"{p} is not a {what} (holds a {type(obj).__name__}, not a dict); {hint}")
        missing = [k for k in keys if k not in obj]
        if missing:
            raise ReadError(f"{p} is not a {what} (no {', '.join(map(repr, missing))}); {hint}")
    return obj


def load_state_dict_checked(
    module: torch.nn.Module, state: Any, path: str | os.PathLike, *, what: str = "network", hint: str = RETRAIN
) -> None:
    """``module.load_state_dict(state)``, refusing weights of another architecture in one line.

    ``state`` must map exactly the module's parameter / buffer names to tensors of the same shapes;
    otherwise ReadError names ``path``, the first missing and unexpected key and the first shape clash.
    """
    p = Path(path)
    if not isinstance(state, Mapping):
        raise ReadError(f"{p} does not hold {what} weights (a {type(state).__name__}, not a state dict); {hint}")
    own = module.state_dict()
    problems = []
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing:
        problems.append(f"missing {missing[0]!r}" + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
    if unexpected:
        more = f" and {len(unexpected) - 1} more" if len(unexpected) > 1 else ""
        problems.append(f"unexpected {unexpected[0]!r}{more}")
    for k, v in own.items():
        if k in state:
            got = getattr(state[k], "shape", None)
            if got is None:
                problems.append(f"{k!r} is a {type(state[k]).__name__}, not a tensor")
                break
            if tuple(got) != tuple(v.shape):
                problems.append(f"{k!r} has shape {tuple(got)}, expected {tuple(v.shape)}")
                break
    if problems:
        raise ReadError(f"{p} does not fit this {what} ({'; '.join(problems)}); it comes from another model: {hint}")
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ReadError(f"{p} does not fit this {what} ({one_line(exc)}); {hint}") from exc


# ------------------------------------------------------------------------------ pickled .npy dicts


def _numpy_globals() -> dict[tuple[str, str], Any]:
    """The globals numpy's pickles of arrays and scalars name, under numpy 1 and numpy 2 module names."""
    try:
        from numpy._core import multiarray  # numpy >= 2 (and a stub in 1.26)
    except ImportError:  # pragma: no cover - numpy < 1.26
        from numpy.core import multiarray  # type: ignore[no-redef]  # the same module under its old name
    allowed: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = multiarray._reconstruct
        allowed[(module, "scalar")] = multiarray.scalar
    # protocol-2 pickles (numpy under Python 2, or written with protocol=2) encode raw bytes this way
    allowed[("_codecs", "encode")] = codecs.encode
    return allowed


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names a global outside the allowlist (``module``, ``name``)."""

    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"{module}.{name}")
        self.module, self.name = module, name


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild numpy arrays, numpy scalars and builtin containers only.

    ``find_class`` is the only way a pickle reaches callables; it returns numpy's array / dtype /
    scalar reconstructors (and ``_codecs.encode``) and raises :class:`RefusedGlobal` for anything
    else (``os.system``, ``builtins.eval``, any class), before anything is called.
    """

    _allowed: dict[tuple[str, str], Any] | None = None

    def find_class(self, module: str, name: str) -> Any:
        if RestrictedUnpickler._allowed is None:
            RestrictedUnpickler._allowed = _numpy_globals()
        try:
            return RestrictedUnpickler._allowed[(module, name)]
        except KeyError:
            raise RefusedGlobal(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed")


class _BadValue(Exception):
    """A value of an unpickled dict that the formats never hold."""


def _check_plain(value: Any, where: str, depth: int = 0) -> None:
    """Accept None, bool, int, float, str, numeric scalars and arrays, and lists / tuples / str-keyed
    dicts of those; raise _BadValue naming ``where`` otherwise."""
    if depth > MAX_DEPTH:
        raise _BadValue(f"entry {where} is nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, int, float, str, np.bool_, np.number)):
        return
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise _BadValue(f"entry {where} is an array of dtype {value.dtype} (only numeric arrays are allowed)")
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                key = f"{repr(k)[:40]} of type {type(k).__name__}"
                raise _BadValue(f"{where or 'the dict'} has key {key} (keys must be str)")
            _check_plain(v, f"{where}[{k!r}]" if where else repr(k), depth + 1)
        return
    raise _BadValue(f"entry {where} is a {type(value).__name__}")


def _read_header(fp: IO[bytes], p: Path) -> np.dtype:
    """The array dtype from a ``.npy`` header; ``fp`` is left at the start of the data."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            return fmt.read_array_header_1_0(fp)[2]
        if version == (2, 0):
            return fmt.read_array_header_2_0(fp)[2]
        # 3.0 only adds a UTF-8 header (for field names), never used for pickles: np.load without pickle
        return np.dtype(np.uint8)
    except Exception as exc:  # numpy raises ValueError / SyntaxError / EOFError on a bad header
        raise ReadError(f"{p} is not a .npy file or is truncated ({one_line(exc)})") from exc


def load_npy(path: str | os.PathLike, *, what: str = ".npy file") -> np.ndarray | dict:
    """Read a ``.npy`` file: a plain array, or a pickled dict of plain values.

    A non-object array is loaded with ``allow_pickle=False``. An object array (``np.save`` of a
    dict writes a 0-d one) is unpickled by :class:`RestrictedUnpickler` and must hold a dict with
    str keys whose values are numeric ndarrays (not object dtype), numeric scalars, int, float,
    bool, str, None, or lists / tuples / dicts of those. The dict is returned unwrapped.

    Raises ReadError naming the file if it is missing, empty, not a ``.npy``, truncated, names any
    other global (nothing is executed) or holds anything else.
    """
    p = _check_file(path, what, "")
    try:
        fp = open(p, "rb")
    except OSError as exc:
        raise ReadError(f"cannot read {p}: {one_line(exc)}") from exc
    with fp:
        dtype = _read_header(fp, p)
        if not dtype.hasobject:
            try:
                return np.load(p, allow_pickle=False)
            except Exception as exc:  # truncated data, unsupported header, ...
                raise ReadError(f"cannot read {p}: {one_line(exc)}") from exc
        try:
            obj = RestrictedUnpickler(fp, encoding="latin1").load()
        except RefusedGlobal as exc:
            raise ReadError(
                f"{p} names {exc.module}.{exc.name}, which a {what} never holds; refused to unpickle it "
                "(only numpy arrays, numbers, strings, lists and dicts are accepted)"
            ) from exc
        except EOFError as exc:
            raise ReadError(f"{p} is truncated (the pickled data ends early)") from exc
        except Exception as exc:  # pickle raises many types on damaged data
            raise ReadError(f"{p} is corrupt ({type(exc).__name__}: {one_line(exc)})") from exc
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        obj = obj.item()
    if not isinstance(obj, dict):
        desc = f"a {obj.shape} {obj.dtype} array" if isinstance(obj, np.ndarray) else f"a {type(obj).__name__}"
        raise ReadError(f"{p} holds {desc}, not a {what} dict")
    try:
        _check_plain(obj, "")
    except _BadValue as exc:
        raise ReadError(f"{p} is not a {what}: {exc}") from None
    return obj


def load_npy_dict(path: str | os.PathLike, *, what: str = "pickled dict") -> dict:
    """:func:`load_npy` for files that must hold a dict (PartNetE ``label.npy``, 3D-DST annotations)."""
    obj = load_npy(path, what=what)
    if not isinstance(obj, dict):
        raise ReadError(f"{path} holds a {obj.shape} {obj.dtype} array, not a {what} dict")
    return obj
