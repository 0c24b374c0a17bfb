"""Validation of the frozen config dataclasses, and the one JSON -> config loader.

A config's ``__post_init__`` calls :func:`validate_config`, which checks every field against its
type hint (``Literal`` choices, int / float / bool / str, tuples, ``X | None``, nested configs) and
against the range declared with :func:`bounded`. :func:`config_from_dict` rebuilds a config from
JSON data and reports unknown keys and wrong values with the dotted path of the field. Every
failure is a one-line :class:`~partlift.errors.ConfigError`, e.g.
``PartSTADConfig.train.epochs must be >= 1, got 0 (in model/config.json)``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import numbers
import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, Union

from partlift.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

RANGE = "range"  # dataclasses.field metadata key of a numeric field's Range

T = TypeVar("T", bound="DataclassInstance")


@dataclass(frozen=True)
class Range:
    """Closed (``ge``, ``le``) and open (``gt``, ``lt``) bounds of a number; None = unbounded."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def contains(self, x: float) -> bool:
        return not (
            (self.ge is not None and x < self.ge) or (self.gt is not None and x <= self.gt)
            or (self.le is not None and x > self.le) or (self.lt is not None and x >= self.lt)
        )

    def __str__(self) -> str:
        lo = f"[{self.ge:g}" if self.ge is not None else f"({self.gt:g}" if self.gt is not None else None
        hi = f"{self.le:g}]" if self.le is not None else f"{self.lt:g})" if self.lt is not None else None
        if lo and hi:
            return f"in {lo}, {hi}"
        if lo:
            return (">= " if lo[0] == "[" else "> ") + lo[1:]
        if hi:
            return ("<= " if hi[-1] == "]" else "< ") + hi[:-1]
        return "any number"


def bounded(default: Any = dataclasses.MISSING, *, ge: float | None = None, gt: float | None = None,
            le: float | None = None, lt: float | None = None) -> Any:
    """A dataclass field whose numbers (the value, or every number in a tuple value) must lie in a range."""
    return dataclasses.field(default=default, metadata={RANGE: Range(ge, gt, le, lt)})


def field_range(cls: type[Any], name: str) -> Range | None:
    """The :func:`bounded` range of field ``name`` of config class ``cls`` (None if unbounded)."""
    return {f.name: f for f in dataclasses.fields(cls)}[name].metadata.get(RANGE)


@functools.cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    # Resolves string annotations (``from __future__ import annotations``) once per class.
    return typing.get_type_hints(cls)


def _suffix(where: object) -> str:
    return f" (in {where})" if where is not None else ""


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (Union, types.UnionType)


def _show(hint: Any) -> str:
    """A type hint in a message: ``an integer``, ``a number``, ``a list``, ..."""
    if _is_union(hint):
        return " or ".join(_show(a) for a in typing.get_args(hint))
    origin = typing.get_origin(hint) or hint
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string", tuple: "a list",
             dict: "an object", type(None): "null"}
    if origin in names:
        return names[origin]
    if isinstance(origin, type) and dataclasses.is_dataclass(origin):
        return f"an object ({origin.__name__})"
    return getattr(origin, "__name__", str(origin))


def _problem(value: Any, hint: Any) -> str | None:
    """What is wrong with ``value`` as a ``hint`` (None = fine); nested dataclasses are not entered."""
    if hint is Any:
        return None
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if any(value == a and type(value) is type(a) for a in allowed):
            return None
        return f"{value!r} is not one of {', '.join(repr(a) for a in allowed)}"
    if _is_union(hint):
        if any(_problem(value, a) is None for a in typing.get_args(hint)):
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is not None and len(options) == 1:
            return _problem(value, options[0])
        return f"must be {_show(hint)}, got {value!r}"
    if hint is bool:
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if hint is int:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return None
        return f"must be an integer, got {value!r}"
    if hint is float:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            return f"must be a number, got {value!r}"
        return None if math.isfinite(value) else f"must be finite, got {value!r}"
    if hint is type(None):
        return None if value is None else f"must be null, got {value!r}"
    if origin is tuple or hint is tuple:
        return None if isinstance(value, tuple) else f"must be a tuple (a JSON list), got {value!r}"
    if origin is dict or hint is dict:
        return None if isinstance(value, dict) else f"must be an object, got {value!r}"
    cls = origin or hint
    if isinstance(cls, type) and not isinstance(value, cls):
        return f"must be {_show(hint)}, got {value!r}"
    return None


def _check(value: Any, hint: Any, rng: Range | None, path: str, where: object) -> None:
    """Check ``value`` against ``hint`` and ``rng``, entering tuples and nested dataclasses."""
    problem = _problem(value, hint)
    if problem is not None:
        sep = "" if problem.startswith("must") else ":"
        raise ConfigError(f"{path}{sep} {problem}{_suffix(where)}")
    if _is_union(hint):
        hint = next(a for a in typing.get_args(hint) if _problem(value, a) is None)
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and dataclasses.is_dataclass(value):
        _check_fields(value, path, where)
    elif origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        elif args and len(args) != len(value):
            raise ConfigError(f"{path} must have {len(args)} items, got {len(value)}{_suffix(where)}")
        for i, (item, item_hint) in enumerate(zip(value, args, strict=False)):
            _check(item, item_hint, rng, f"{path}[{i}]", where)
    elif rng is not None and isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not rng.contains(typing.cast(float, value)):  # any Real compares like a float
            raise ConfigError(f"{path} must be {rng}, got {value!r}{_suffix(where)}")


def _check_fields(obj: Any, path: str, where: object) -> None:
    hints = _hints(type(obj))  # type: ignore[arg-type]  # mypy: a type[object] is not Hashable
    for f in dataclasses.fields(obj):
        _check(getattr(obj, f.name), hints[f.name], f.metadata.get(RANGE), f"{path}.{f.name}", where)


def validate_config(obj: Any, where: object = None) -> None:
    """Check every field of the config dataclass ``obj`` (nested configs too) against its type and range.

    ``where`` (a file name) is appended to the message. Raises :class:`ConfigError`.
    """
    _check_fields(obj, type(obj).__name__, where)


# ---------------------------------------------------------------------------------------- JSON


def _convert(value: Any, hint: Any, path: str, where: object) -> Any:
    """JSON data -> the Python shape of ``hint``: dicts -> configs, lists -> tuples, ints -> floats."""
    if _is_union(hint):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(value, options[0], path, where) if len(options) == 1 else value
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{path} must be an object, got {value!r}{_suffix(where)}")
        return _build(hint, value, path, where)
    if (origin is tuple or hint is tuple) and isinstance(value, list | tuple):
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        if len(args) != len(value):
            return tuple(value)  # _check reports the length
        return tuple(_convert(v, a, f"{path}[{i}]", where) for i, (v, a) in enumerate(zip(value, args, strict=True)))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _build(cls: type[T], data: dict[str, Any], path: str, where: object) -> T:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{path}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                          f"allowed: {', '.join(fields)}{_suffix(where)}")
    missing = [n for n, f in fields.items() if n not in data and f.init and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{path}: missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
                          f"{_suffix(where)}")
    hints = _hints(cls)
    kwargs = {}
    for name, value in data.items():
        value = _convert(value, hints[name], f"{path}.{name}", where)
        _check(value, hints[name], fields[name].metadata.get(RANGE), f"{path}.{name}", where)
        kwargs[name] = value
    return cls(**kwargs)


def config_from_dict(cls: type[T], data: object, where: object = None) -> T:
    """Rebuild the config dataclass ``cls`` from JSON data (e.g. ``to_jsonable`` output).

    Missing fields take their defaults; unknown keys and wrong values raise :class:`ConfigError`
    naming the field (and ``where``, the file the data came from).
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__} must be a JSON object, got {type(data).__name__}{_suffix(where)}")
    return _build(cls, data, cls.__name__, where)


# ---------------------------------------------------------------------------------- overrides


def _accepts_str(hint: Any) -> bool:
    if _is_union(hint):
        return any(_accepts_str(a) for a in typing.get_args(hint))
    if typing.get_origin(hint) is Literal:
        return any(isinstance(a, str) for a in typing.get_args(hint))
    return hint is str


def parse_value(text: str, hint: Any) -> Any:
    """A command-line string as a value for a field of type ``hint``.

    Strings stay as typed (``--set category=car``); everything else is read as JSON (numbers,
    ``true``, ``null``, ``[0, 180]``). Text that is not JSON is kept as a string, so the field check
    reports it (``size must be an integer, got 'abc'``).
    """
    if _accepts_str(hint):
        if text == "null" and _problem(None, hint) is None:
            return None
        return json.loads(text) if len(text) >= 2 and text[0] == text[-1] == '"' else text
    try:
        return json.loads(text)
    except ValueError:
        return text


def config_with(config: T, overrides: dict[str, str], option: str = "--set") -> T:
    """``config`` with dotted fields (``pose.theta_std_deg``) set from strings parsed by :func:`parse_value`.

    A bad key or value raises :class:`ConfigError` naming the field and ``option key=text``.
    """
    cls: type[Any] = type(config)
    data = dataclasses.asdict(config)
    for key, text in overrides.items():
        where = f"{option} {key}={text}"
        node, node_cls, path = data, cls, cls.__name__
        parts = key.split(".")
        for depth, name in enumerate(parts):
            names = [f.name for f in dataclasses.fields(node_cls)]
            if name not in names:
                raise ConfigError(f"{path}: unknown field {name!r}; allowed: {', '.join(names)}{_suffix(where)}")
            hint = _hints(node_cls)[name]  # type: ignore[arg-type]  # mypy: a type[Any] is not Hashable
            if depth == len(parts) - 1:
                break
            if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
                raise ConfigError(f"{path}.{name} has no fields{_suffix(where)}")
            node, node_cls, path = node[name], hint, f"{path}.{name}"
        node[parts[-1]] = parse_value(text, hint)
        config_from_dict(cls, data, where)  # names the key whose value is wrong
    return config_from_dict(cls, data)
