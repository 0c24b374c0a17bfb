"""Torch thread control for the shared CPU.

Measured here: with another process busy on the second core, torch ops on two intra-op threads ran
about 5x slower than on one (the threads wait for each other), and for the small weight-network and
voting ops one thread was faster even on an idle machine. PartSTAD therefore runs its torch work
single-threaded (``PARTLIFT_TORCH_THREADS`` overrides it).
"""

from __future__ import annotations

import contextlib
import os

import torch


def default_threads() -> int:
    """``$PARTLIFT_TORCH_THREADS`` if set, else 1."""
    try:
        return max(1, int(os.environ.get("PARTLIFT_TORCH_THREADS", "1")))
    except ValueError:
        return 1


@contextlib.contextmanager
def torch_threads(n: int | None = None):
    """Run torch ops with ``n`` intra-op threads (default :func:`default_threads`), restoring the
    previous setting afterwards."""
    prev = torch.get_num_threads()
    torch.set_num_threads(n or default_threads())
    try:
        yield
    finally:
        torch.set_num_threads(prev)
