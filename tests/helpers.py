"""Shared test helpers: one closeness check with explicit tolerances."""

from __future__ import annotations

import numpy as np


def _np(x):
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(actual, expected, atol: float = 1e-6, rtol: float = 0.0, msg: str = "") -> None:
    """Assert elementwise |actual - expected| <= atol + rtol * |expected| (numpy or torch inputs)."""
    a, e = _np(actual), _np(expected)
    np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, err_msg=msg)
