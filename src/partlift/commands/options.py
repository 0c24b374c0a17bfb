"""Click types of options that set a config field: the field's type, choices and range, read from the config.

So an option and the config it fills refuse the same values (``--epochs 0`` and
``TrainConfig(epochs=0)``), and click reports a bad value before any work starts.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Literal

import click

from partlift.validation import field_range


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


def device_option(f):
    """``--device``: the torch device of a command's torch stages (checked by ``resolve_device``)."""
    return click.option("--device", default="cpu", show_default=True, help=DEVICE_HELP)(f)
