"""Shared test helpers: one closeness check with explicit tolerances; malicious files for the loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _np(x):
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(actual, expected, atol: float = 1e-6, rtol: float = 0.0, msg: str = "") -> None:
    """Assert elementwise |actual - expected| <= atol + rtol * |expected| (numpy or torch inputs)."""
    a, e = _np(actual), _np(expected)
    np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, err_msg=msg)


class RunsOnLoad:
    """Unpickling this calls ``func(*args)``: a stand-in for the code a malicious file would run.

    The default, ``open(marker, "w")``, creates ``marker``; a test asserts that it does not exist.
    """

    def __init__(self, marker, func=open, args=None) -> None:
        self.func, self.args = func, (str(marker), "w") if args is None else tuple(args)

    def __reduce__(self):
        return self.func, self.args


def write_malicious_checkpoint(path, marker, keys=("state",)):
    """A torch checkpoint whose entries ``keys`` each create ``marker`` when unpickled."""
    import torch

    torch.save({k: RunsOnLoad(marker) for k in keys}, path)
    return path


def write_malicious_npy(path, marker, payload=None):
    """A PartNetE-style ``label.npy`` dict whose ``semantic_seg`` creates ``marker`` when unpickled."""
    np.save(path, {"semantic_seg": RunsOnLoad(marker) if payload is None else payload,
                   "instance_seg": np.zeros(3, np.int32)}, allow_pickle=True)
    return path


def assert_refused(excinfo, path, marker=None) -> str:
    """The error is one line naming ``path``, and the payload did not run. Returns the message."""
    msg = str(excinfo.value)
    assert "\n" not in msg and str(path) in msg, msg
    if marker is not None:
        assert not Path(marker).exists(), "the malicious payload ran"
    return msg
