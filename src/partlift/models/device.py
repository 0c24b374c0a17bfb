"""Which torch device the trainable stages run on (``--device``).

numba stages (rendering, rasterising, superpoints) always run on the CPU; the torch stages (the
proposal CNN, PartSTAD's weight network, Part321's feature training and render-and-compare) run on
the device given here. ``"cpu"`` is the default everywhere; ``"auto"`` takes CUDA when it is present.
"""

from __future__ import annotations

import contextlib

import torch

from partlift.errors import ConfigError

DEVICE_HELP = "Torch device of the trainable stages: cpu (default), cuda, cuda:N, mps or auto (cuda if present)."


def resolve_device(spec: str | torch.device | None = "cpu", option: str = "--device") -> torch.device:
    """``spec`` as a :class:`torch.device`, refusing one this machine does not have (one line)."""
    if isinstance(spec, torch.device):
        spec = str(spec)
    spec = (spec or "cpu").strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(spec)
    except (RuntimeError, ValueError):
        raise ConfigError(f"{option}: unknown device {spec!r}; use cpu, cuda, cuda:N, mps or auto") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"{option}: {spec} requested but CUDA is not available here (torch "
                              f"{torch.__version__}, {'a CPU-only build' if torch.version.cuda is None else 'no GPU'})")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"{option}: {spec} requested but only {torch.cuda.device_count()} CUDA devices exist")
    elif dev.type == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ConfigError(f"{option}: mps requested but Apple's Metal backend is not available here")
    elif dev.type != "cpu":
        raise ConfigError(f"{option}: unsupported device {spec!r}; use cpu, cuda, cuda:N, mps or auto")
    return dev


def device_scope(device: torch.device | str) -> contextlib.AbstractContextManager:
    """``with device_scope(d):`` makes new tensors default to ``d``. When they already default to
    ``d`` (the CPU, usually) it is a no-op: the ``torch.device`` context mode intercepts every torch
    call in Python, a large share of Part321's inference time in small-tensor optimisation loops."""
    d = torch.device(device)
    return contextlib.nullcontext() if torch.get_default_device() == d else d
