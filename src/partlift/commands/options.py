"""Click types of options that set a config field: the field's type, choices and range, read from the config.

So an option and the config it fills refuse the same values (``--epochs 0`` and
``TrainConfig(epochs=0)``), and click reports a bad value before any work starts.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import click

from partlift.validation import field_range

if TYPE_CHECKING:
    from partlift.experiments.executors import ExecutorConfig


class FiniteFloat(click.FloatRange):
    """A float in an optional range that is not NaN or infinite (``click.FloatRange`` lets NaN through)."""

    name = "finite float"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def config_type(cls, name: str) -> click.ParamType:
    """The click type of an option that sets field ``name`` of the config dataclass ``cls``."""
    hint = typing.get_type_hints(cls)[name]
    options = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(options) == 1:
        hint = options[0]  # the option's default (None) stands for the field's None
    if typing.get_origin(hint) is Literal and all(isinstance(a, str) for a in typing.get_args(hint)):
        return click.Choice(typing.get_args(hint))
    rng = field_range(cls, name)
    if hint is int:
        if rng is None:
            return click.INT
        lo = rng.ge if rng.ge is not None else (rng.gt + 1 if rng.gt is not None else None)
        hi = rng.le if rng.le is not None else (rng.lt - 1 if rng.lt is not None else None)
        return click.IntRange(None if lo is None else int(lo), None if hi is None else int(hi))
    if hint is float:
        if rng is None:
            return FiniteFloat()
        return FiniteFloat(rng.ge if rng.ge is not None else rng.gt, rng.le if rng.le is not None else rng.lt,
                           min_open=rng.gt is not None, max_open=rng.lt is not None)
    raise TypeError(f"{cls.__name__}.{name} is not an int, float or string-Literal field")


DEVICE_HELP = ("Torch device of the trainable stages: cpu, cuda, cuda:N, mps or auto (cuda when present); "
               "rendering and superpoints stay on the CPU.")


class CommaChoice(click.ParamType):
    """A comma-separated list of some of ``choices`` (order kept, blanks dropped) as a tuple."""

    name = "list"

    def __init__(self, choices: Sequence[str]) -> None:
        self.choices = tuple(choices)

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        items = tuple(x.strip() for x in str(value).split(",") if x.strip())
        unknown = [x for x in items if x not in self.choices]
        if unknown or not items:
            self.fail(f"{', '.join(map(repr, unknown)) or 'nothing given'}; use some of {', '.join(self.choices)}",
                      param, ctx)
        return items


def device_option(f):
    """``--device``: the torch device of a command's torch stages (checked by ``resolve_device``)."""
    return click.option("--device", default="cpu", show_default=True, help=DEVICE_HELP)(f)


def executor_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add ``--backend``, ``--workers`` and ``--address`` (the fields of ``ExecutorConfig``) to a command;
    :func:`executor_config` turns their values into the config."""
    from partlift.experiments.executors import ExecutorConfig

    command = click.option(
        "--address", default=None,
        help="Ray cluster to join: 'auto' (the cluster this machine belongs to, see `ray start`) or HOST:PORT; "
             "default: start a local Ray for this command. Only with --backend ray.")(command)
    command = click.option(
        "--workers", type=config_type(ExecutorConfig, "workers"), default=None,
        help="Items processed at once (default: 1 with --backend local, in this process; every CPU of the "
             "cluster with --backend ray).")(command)
    command = click.option(
        "--backend", type=config_type(ExecutorConfig, "backend"), default="local", show_default=True,
        help="Where the items run: this machine (a pool of --workers processes) or a Ray cluster "
             "(needs the 'dist' extra).")(command)
    return command


def executor_config(backend: str, workers: int | None, address: str | None, device: str = "cpu") -> ExecutorConfig:
    """The validated executor settings of ``--backend``, ``--workers`` and ``--address``; on Ray a
    CUDA ``device`` reserves one GPU per item."""
    from partlift.experiments.executors import Backend, ExecutorConfig, import_ray

    gpus = 1.0 if backend == "ray" and str(device).startswith("cuda") else 0.0
    config = ExecutorConfig(backend=typing.cast(Backend, backend), workers=workers, address=address,
                            gpus_per_item=gpus)
    if config.backend == "ray":
        import_ray()  # a missing extra is reported before anything is written
    return config
