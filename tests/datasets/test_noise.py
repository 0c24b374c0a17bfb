"""Value noise: the numba kernels against a plain NumPy reference, determinism, continuity, range."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import assert_close
from partlift.datasets.noise import fbm, lattice_values, value_noise

MASK64 = (1 << 64) - 1


def _ref_hash(cell: tuple[int, ...], seed: int) -> float:
    """splitmix64-style hash of one lattice cell, in Python integers (the spec of the kernel)."""

    def mix(h: int) -> int:
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & MASK64
        return h ^ (h >> 31)

    primes = (0x8DA6B343, 0xD8163841, 0xCB1AB31F)
    h = (seed * 0x9E3779B97F4A7C15 + 1) & MASK64
    for d, c in enumerate(cell):
        h = mix(h ^ (((c & MASK64) * primes[d]) & MASK64))
    return (h >> 11) * (2.0 / 2**53) - 1.0


def _ref_value_noise(p: np.ndarray, seed: int) -> np.ndarray:
    """Per-point loop: quintic-faded multilinear blend of the 2^D surrounding lattice values."""
    out = np.empty(len(p))
    for i, x in enumerate(p):
        base = np.floor(x).astype(np.int64)
        t = x - base
        w = t * t * t * (t * (t * 6 - 15) + 10)
        acc = 0.0
        for corner in range(1 << len(x)):
            bits = [(corner >> d) & 1 for d in range(len(x))]
            weight = np.prod([w[d] if b else 1 - w[d] for d, b in enumerate(bits)])
            acc += weight * _ref_hash(tuple(int(base[d] + b) for d, b in enumerate(bits)), seed)
        out[i] = acc
    return out


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("seed", [0, 7, 2**40 + 3, -5])
def test_value_noise_matches_reference(dim, seed):
    p = np.random.default_rng(1).normal(size=(200, dim)) * 6.0
    assert_close(value_noise(p, seed), _ref_value_noise(p, seed), atol=1e-12, msg=f"dim={dim} seed={seed}")


def test_lattice_values_at_integer_points():
    cells = np.array([[0, 0, 0], [-3, 5, 2], [1000, -1000, 7]])
    expected = [_ref_hash(tuple(int(v) for v in c), 11) for c in cells]
    assert_close(lattice_values(cells, 11), expected, atol=1e-15)
    assert_close(value_noise(cells.astype(float), 11), expected, atol=1e-15)


def test_noise_is_deterministic_continuous_and_bounded():
    rng = np.random.default_rng(0)
    p = rng.uniform(-4, 4, size=(5000, 3))
    a, b = fbm(p, 3), fbm(p, 3)
    assert np.array_equal(a, b)
    assert not np.allclose(fbm(p, 3), fbm(p, 4)), "different seeds must give different noise"
    assert np.abs(a).max() <= 1.0 and a.std() > 0.1
    # continuity: a tiny step changes the value by at most (gradient bound) * step
    step = 1e-5
    d = np.abs(value_noise(p + step, 2) - value_noise(p, 2))
    assert d.max() < 3 * 1.875 * 2 * step * np.sqrt(3) + 1e-12  # |fade'| <= 1.875, values in [-1, 1]
