"""Starting numba's thread pool without disturbing torch's thread count.

numba's OpenMP threading layer calls ``omp_set_num_threads(NUMBA_NUM_THREADS)`` when its pool
starts (at the first parallel kernel or ``numba.get_num_threads()``), which silently undoes an
earlier ``torch.set_num_threads``: torch and numba share the OpenMP runtime. Measured here: a
torch model trained right after the process's first render ran its backward on 2 threads instead
of the 1 asked for, so the same seed gave different weights in the first fit of a process than
in later ones. Every numba entry point calls :func:`start_numba_threads` first.
"""

from __future__ import annotations

import sys

import numba

_started = False


def start_numba_threads() -> None:
    """Start numba's thread pool once, restoring torch's intra-op thread count if torch is loaded."""
    global _started
    if _started:
        return
    torch = sys.modules.get("torch")
    prev = torch.get_num_threads() if torch is not None else None
    numba.get_num_threads()  # launches the pool
    if torch is not None:
        torch.set_num_threads(prev)
    _started = True
