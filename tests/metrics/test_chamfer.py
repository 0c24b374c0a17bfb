"""Chamfer distance against a brute-force double loop, for every option."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from helpers import assert_close
from partlift.errors import InvalidGeometryError
from partlift.metrics.chamfer import ChamferOptions, chamfer_distance, chamfer_distance_torch


def ref_chamfer(a, b, squared, reduction, scale):
    def directed(x, y):
        total = 0.0
        for p in x:
            best = min(math.dist(p, q) for q in y)
            total += best * best if squared else best
        return total / len(x)

    d = directed(a, b) + directed(b, a)
    return scale * (d if reduction == "sum" else d / 2)


def test_matches_reference_for_all_options():
    rng = np.random.default_rng(0)
    for case in range(200):
        a = rng.normal(size=(int(rng.integers(1, 30)), 3))
        b = rng.normal(size=(int(rng.integers(1, 30)), 3)) + rng.normal(size=3)
        squared, reduction = list(itertools.product([True, False], ["sum", "mean"]))[case % 4]
        scale = [1.0, 100.0][case % 2]
        opts = ChamferOptions(squared=squared, reduction=reduction, scale=scale)
        assert_close(chamfer_distance(a, b, opts), ref_chamfer(a, b, squared, reduction, scale), atol=1e-9, rtol=1e-9)


def test_default_is_squared_sum_times_100():
    assert ChamferOptions() == ChamferOptions(squared=True, reduction="sum", scale=100.0)
    a, b = np.zeros((1, 3)), np.array([[0.1, 0.0, 0.0]])
    assert chamfer_distance(a, b) == pytest.approx(100 * (0.01 + 0.01))
    assert chamfer_distance(a, a) == 0.0


def test_torch_version_agrees_and_has_gradients():
    rng = np.random.default_rng(1)
    for squared, reduction in itertools.product([True, False], ["sum", "mean"]):
        a, b = rng.normal(size=(2, 17, 3)), rng.normal(size=(2, 11, 3))
        ta = torch.tensor(a, requires_grad=True)
        out = chamfer_distance_torch(ta, torch.tensor(b), squared, reduction)
        ref = [chamfer_distance(a[i], b[i], ChamferOptions(squared, reduction, 1.0)) for i in range(2)]
        assert_close(out, ref, atol=1e-9)
        out.sum().backward()
        assert torch.isfinite(ta.grad).all()
    single = chamfer_distance_torch(torch.tensor(a[0]), torch.tensor(b[0]))
    assert single.dim() == 0


def test_bad_inputs_raise():
    with pytest.raises(InvalidGeometryError):
        chamfer_distance(np.zeros((0, 3)), np.zeros((2, 3)))
    with pytest.raises(InvalidGeometryError):
        chamfer_distance(np.full((2, 3), np.nan), np.zeros((2, 3)))
    with pytest.raises(ValueError):
        ChamferOptions(reduction="max")
