"""Seeded procedural noise: hashed lattice value noise in 2D / 3D and fractal sums (fBm).

Solid (3D) noise is evaluated at surface positions, so a texture continues across part
boundaries the way a real material does. Deterministic in ``seed``: the value at an integer
lattice cell is a splitmix64 hash of (cell, seed), independent of call order; between cells the
values are blended with the quintic fade ``6t^5 - 15t^4 + 10t^3`` (C2-continuous). The kernels are
numba-compiled (the NumPy reference lives in tests/datasets/test_noise.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_M1 = 0x9E3779B97F4A7C15
_M2 = 0xBF58476D1CE4E5B9
_M3 = 0x94D049BB133111EB
_PRIMES = (0x8DA6B343, 0xD8163841, 0xCB1AB31F)


@njit(cache=True, inline="always")
def _mix(h):
    h = (h ^ (h >> np.uint64(30))) * np.uint64(_M2)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(_M3)
    return h ^ (h >> np.uint64(31))


@njit(cache=True, inline="always")
def _lattice(start, cell, dim):
    h = start
    for d in range(dim):
        c = np.uint64(np.int64(cell[d]) & np.int64(0x7FFFFFFFFFFFFFFF)) | (
            np.uint64(0x8000000000000000) if cell[d] < 0 else np.uint64(0)
        )
        p = np.uint64(_PRIMES[0]) if d == 0 else (np.uint64(_PRIMES[1]) if d == 1 else np.uint64(_PRIMES[2]))
        h = _mix(h ^ (c * p))
    return float(h >> np.uint64(11)) * (2.0 / 9007199254740992.0) - 1.0


@njit(cache=True, parallel=False)
def _value_noise(points, start):
    n, dim = points.shape
    out = np.empty(n)
    cell = np.empty(3, dtype=np.int64)
    base = np.empty(3, dtype=np.int64)
    w = np.empty(3)
    for i in range(n):
        for d in range(dim):
            x = points[i, d]
            b = np.floor(x)
            t = x - b
            base[d] = np.int64(b)
            w[d] = t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
        acc = 0.0
        for corner in range(1 << dim):
            weight = 1.0
            for d in range(dim):
                bit = (corner >> d) & 1
                cell[d] = base[d] + bit
                weight *= w[d] if bit else 1.0 - w[d]
            acc += weight * _lattice(start, cell, dim)
        out[i] = acc
    return out


def _start(seed: int) -> np.uint64:
    # Python ints: the seed may be any size and no overflow warning is raised
    return np.uint64((int(seed) * _M1 + 1) & 0xFFFFFFFFFFFFFFFF)


def lattice_values(cells: np.ndarray, seed: int) -> np.ndarray:
    """Pseudo-random values in [-1, 1) for integer lattice cells: (..., D) int64 -> (...) float64."""
    c = np.asarray(cells, dtype=np.int64)
    flat = c.reshape(-1, c.shape[-1]).astype(np.float64)
    return _value_noise(np.ascontiguousarray(flat), _start(seed)).reshape(c.shape[:-1])


def value_noise(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """Smooth value noise at (N, D) points (D = 2 or 3), unit lattice spacing.

    Returns:
        (N,) float64 in [-1, 1], continuous, equal to the lattice value at integer points.
    """
    p = np.ascontiguousarray(np.asarray(points, dtype=np.float64))
    if p.ndim != 2 or p.shape[1] not in (2, 3):
        raise ValueError(f"value_noise needs (N, 2) or (N, 3) points, got {p.shape}")
    return _value_noise(p, _start(seed))


def fbm(points: np.ndarray, seed: int = 0, octaves: int = 4, lacunarity: float = 2.0, gain: float = 0.5) -> np.ndarray:
    """Fractal sum of :func:`value_noise` octaves, normalised to [-1, 1].

    Args:
        points: (N, D) coordinates; the first octave has unit lattice spacing.
        seed: stream selector (octave k uses seed ``seed * 7919 + k``).
        octaves: number of octaves.
        lacunarity: frequency multiplier per octave.
        gain: amplitude multiplier per octave.
    """
    p = np.asarray(points, dtype=np.float64)
    total = np.zeros(len(p))
    amp, norm, freq = 1.0, 0.0, 1.0
    for k in range(int(octaves)):
        # a fixed irrational shift per octave avoids lattice-aligned artefacts at integer points
        total += amp * value_noise(p * freq + 0.5 * k * np.sqrt(2.0), seed * 7919 + k)
        norm += amp
        amp *= gain
        freq *= lacunarity
    return total / max(norm, 1e-12)
