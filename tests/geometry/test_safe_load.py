"""Safe loading: weights-only torch checkpoints and the restricted unpickler of pickled .npy dicts."""

from __future__ import annotations

import builtins
import io
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import RunsOnLoad, assert_refused, write_malicious_checkpoint, write_malicious_npy
from partlift.errors import ReadError
from partlift.geometry.safe_load import (
    RestrictedUnpickler,
    load_npy,
    load_npy_dict,
    load_state_dict_checked,
    load_torch_checkpoint,
)


class Thing:
    """An arbitrary class: pickled by reference to this module, never allowed."""

    def __init__(self) -> None:
        self.x = 1


def test_the_payload_runs_without_the_safe_loaders(tmp_path):
    # guards the other tests: the crafted files really do run code under a plain unpickler
    npy, pt = tmp_path / "a.npy", tmp_path / "a.pt"
    write_malicious_npy(npy, tmp_path / "m1")
    write_malicious_checkpoint(pt, tmp_path / "m2")
    np.load(npy, allow_pickle=True)
    torch.load(pt, weights_only=False)
    assert (tmp_path / "m1").exists() and (tmp_path / "m2").exists()


# ------------------------------------------------------------------------------------ pickled .npy


def test_partnete_label_dict_written_by_np_save_loads(tmp_path):
    sem, ins = np.array([0, 1, -1], np.int32), np.array([0, 1, -1], np.int64)
    np.save(tmp_path / "label.npy", {"semantic_seg": sem, "instance_seg": ins}, allow_pickle=True)
    d = load_npy_dict(tmp_path / "label.npy", what="PartNetE label file")
    assert set(d) == {"semantic_seg", "instance_seg"}
    assert d["semantic_seg"].dtype == np.int32 and (d["semantic_seg"] == sem).all() and (d["instance_seg"] == ins).all()


def test_every_plain_value_round_trips(tmp_path):
    d = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.float64(2.5), "c": [1, 2.0, "x", None, True],
        "d": (1, (2, 3)), "e": {"f": np.eye(2), "g": {"h": [np.int16(4)]}}, "i": np.bool_(True), "j": np.str_("hi"),
        "k": np.zeros(0, bool), "l": "text", "m": 7,
    }
    np.save(tmp_path / "x.npy", d, allow_pickle=True)
    got = load_npy(tmp_path / "x.npy")
    assert got.keys() == d.keys()
    assert (got["a"] == d["a"]).all() and got["a"].dtype == np.float32
    assert got["c"] == d["c"] and got["d"] == d["d"] and got["e"]["g"]["h"] == [4] and got["j"] == "hi"


def test_numpy1_protocol2_pickles_load(tmp_path):
    # numpy 1 names numpy.core.multiarray; protocol 2 stores raw bytes through _codecs.encode
    arr = np.array({"semantic_seg": np.arange(4, dtype=np.int32), "s": np.float64(1.5)}, dtype=object)
    raw = pickle.dumps(arr, protocol=2).replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in raw and b"_codecs" in raw
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "|O", "fortran_order": False, "shape": ()})
    (tmp_path / "old.npy").write_bytes(head.getvalue() + raw)
    d = load_npy_dict(tmp_path / "old.npy")
    assert (d["semantic_seg"] == np.arange(4)).all() and d["s"] == 1.5


def test_plain_arrays_load_without_pickle(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(5, dtype=np.int16))
    a = load_npy(tmp_path / "a.npy")
    assert a.dtype == np.int16 and (a == np.arange(5)).all()
    with pytest.raises(ReadError, match="not a label dict") as e:
        load_npy_dict(tmp_path / "a.npy", what="label")
    assert_refused(e, tmp_path / "a.npy")


@pytest.mark.parametrize("payload", [
    "open", "os.system", "builtins.eval", "builtins.exec", "subprocess", "class",
])
def test_npy_refuses_any_other_global_before_calling_it(tmp_path, payload):
    marker = tmp_path / "ran"
    obj = {
        "open": lambda: RunsOnLoad(marker),
        "os.system": lambda: RunsOnLoad(marker, os.system, [f"touch {marker}"]),
        "builtins.eval": lambda: RunsOnLoad(marker, builtins.eval, [f"open({str(marker)!r}, 'w')"]),
        "builtins.exec": lambda: RunsOnLoad(marker, builtins.exec, [f"open({str(marker)!r}, 'w')"]),
        "subprocess": lambda: RunsOnLoad(marker, subprocess.call, [["touch", str(marker)]]),
        "class": Thing,
    }[payload]()
    path = write_malicious_npy(tmp_path / "label.npy", marker, payload=obj)
    with pytest.raises(ReadError, match="refused to unpickle") as e:
        load_npy(path, what="PartNetE label file")
    msg = assert_refused(e, path, marker)
    assert "PartNetE label file" in msg


def test_find_class_allows_exactly_numpys_reconstructors():
    u = RestrictedUnpickler(io.BytesIO(b""))
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        assert callable(u.find_class(module, "_reconstruct")) and callable(u.find_class(module, "scalar"))
    assert u.find_class("numpy", "ndarray") is np.ndarray and u.find_class("numpy", "dtype") is np.dtype
    for module, name in [("numpy", "load"), ("numpy.core.multiarray", "fromstring"), ("builtins", "getattr"),
                         ("numpy.lib.format", "read_array"), ("pickle", "loads"), ("collections", "OrderedDict")]:
        with pytest.raises(pickle.UnpicklingError):
            u.find_class(module, name)


@pytest.mark.parametrize("value,problem", [
    (np.array([1, "a"], dtype=object), "dtype object"),
    (np.array(["a", "b"]), "dtype <U1"),
    ({1, 2}, "is a set"),
    ({"k": {3: 1}}, "keys must be str"),
    (b"bytes", "is a bytes"),
    (1 + 2j, "names builtins.complex"),
])
def test_npy_refuses_values_the_formats_never_hold(tmp_path, value, problem):
    np.save(tmp_path / "x.npy", {"semantic_seg": value}, allow_pickle=True)
    with pytest.raises(ReadError, match=problem) as e:
        load_npy(tmp_path / "x.npy")
    assert_refused(e, tmp_path / "x.npy")


def test_npy_refuses_non_dicts_and_self_references(tmp_path):
    np.save(tmp_path / "arr.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    with pytest.raises(ReadError, match="holds a \\(2,\\) object array, not a") as e:
        load_npy(tmp_path / "arr.npy")
    assert_refused(e, tmp_path / "arr.npy")
    loop: list = []
    loop.append(loop)
    np.save(tmp_path / "loop.npy", {"a": loop}, allow_pickle=True)
    with pytest.raises(ReadError, match="nested more than") as e:
        load_npy(tmp_path / "loop.npy")
    assert_refused(e, tmp_path / "loop.npy")


def test_npy_damaged_files(tmp_path):
    np.save(tmp_path / "ok.npy", {"semantic_seg": np.arange(100)}, allow_pickle=True)
    data = (tmp_path / "ok.npy").read_bytes()
    cases = {
        "empty.npy": (b"", "empty \\(0 bytes\\)"),
        "header.npy": (data[:30], "not a .npy file or is truncated"),
        "pickle.npy": (data[:-40], "truncated|corrupt"),
        "junk.npy": (b"this is not numpy" * 20, "not a .npy file"),
    }
    for name, (content, problem) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ReadError, match=problem) as e:
            load_npy(tmp_path / name)
        assert_refused(e, tmp_path / name)
    with pytest.raises(ReadError, match="label file not found") as e:
        load_npy(tmp_path / "missing.npy", what="label file")
    assert_refused(e, tmp_path / "missing.npy")
    with pytest.raises(ReadError, match="not a file"):
        load_npy(tmp_path)


# ------------------------------------------------------------------------------ torch checkpoints


def test_checkpoint_round_trip_of_plain_values(tmp_path):
    ck = {"state": {"w": torch.ones(2, 3)}, "config": {"a": 1, "b": [1.5, "x"], "t": (1, 2)}, "none": None}
    torch.save(ck, tmp_path / "c.pt")
    got = load_torch_checkpoint(tmp_path / "c.pt", keys=("state", "config"))
    assert got["config"] == ck["config"] and torch.equal(got["state"]["w"], ck["state"]["w"])


def test_checkpoint_refuses_globals_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    path = write_malicious_checkpoint(tmp_path / "evil.pt", marker)
    with pytest.raises(ReadError, match="refused to unpickle it") as e:
        load_torch_checkpoint(path, what="feature network")
    assert "io.open" in assert_refused(e, path, marker)
    # the legacy (non-zip) serialisation goes through the same weights-only unpickler
    torch.save({"state": RunsOnLoad(marker)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ReadError, match="refused to unpickle it") as e:
        load_torch_checkpoint(tmp_path / "old.pt")
    assert_refused(e, tmp_path / "old.pt", marker)
    # a raw pickle is no checkpoint either
    (tmp_path / "raw.pt").write_bytes(pickle.dumps({"state": RunsOnLoad(marker)}))
    with pytest.raises(ReadError) as e:
        load_torch_checkpoint(tmp_path / "raw.pt")
    assert_refused(e, tmp_path / "raw.pt", marker)


def test_checkpoint_with_numpy_arrays_is_refused(tmp_path):
    # what older partlift neural meshes held: refused, with a hint to retrain
    torch.save({"vertices": np.zeros((3, 3))}, tmp_path / "nm.pt")
    with pytest.raises(ReadError, match="_reconstruct.*older partlift.*retrain") as e:
        load_torch_checkpoint(tmp_path / "nm.pt")
    assert_refused(e, tmp_path / "nm.pt")


def test_damaged_checkpoints(tmp_path):
    torch.save({"state": torch.zeros(1000)}, tmp_path / "ok.pt")
    data = (tmp_path / "ok.pt").read_bytes()
    torch.save({"state": torch.zeros(1000)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    legacy = (tmp_path / "legacy.pt").read_bytes()
    cases = {
        "empty.pt": (b"", "is empty \\(0 bytes\\); retrain or copy the model again"),
        "half.pt": (data[: len(data) // 2], "truncated or corrupt"),
        "legacy_half.pt": (legacy[:40], "is truncated \\(ends in the middle"),  # torch raises EOFError
        "junk.pt": (b"not a checkpoint" * 20, "corrupt"),
    }
    for name, (content, problem) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ReadError, match=problem) as e:
            load_torch_checkpoint(tmp_path / name)
        assert_refused(e, tmp_path / name)
    with pytest.raises(ReadError, match="weights not found") as e:
        load_torch_checkpoint(tmp_path / "missing.pt", what="weights")
    assert_refused(e, tmp_path / "missing.pt")


def test_checkpoint_keys(tmp_path):
    torch.save({"state": {}}, tmp_path / "a.pt")
    with pytest.raises(ReadError, match="not a 2D baseline \\(no 'config'\\)") as e:
        load_torch_checkpoint(tmp_path / "a.pt", what="2D baseline", keys=("state", "config"))
    assert_refused(e, tmp_path / "a.pt")
    torch.save(torch.zeros(3), tmp_path / "b.pt")
    with pytest.raises(ReadError, match="holds a Tensor, not a dict"):
        load_torch_checkpoint(tmp_path / "b.pt", keys=("state",))


def test_state_dict_mismatches_are_one_line_read_errors(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    f = tmp_path / "w.pt"
    other = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Linear(5, 2)).state_dict()
    cases = [
        (other, "'0.weight' has shape \\(5, 3\\), expected \\(4, 3\\)"),
        ({k: v for k, v in net.state_dict().items() if k != "1.bias"}, "missing '1.bias'"),
        ({**net.state_dict(), "extra": torch.zeros(1)}, "unexpected 'extra'"),
        ({**net.state_dict(), "0.bias": 3}, "'0.bias' is a int, not a tensor"),
        ([1, 2], "not a state dict"),
    ]
    for state, problem in cases:
        with pytest.raises(ReadError, match=problem) as e:
            load_state_dict_checked(net, state, f, what="test network")
        assert "test network" in assert_refused(e, f)
    good = {k: torch.full_like(v, 0.5) for k, v in net.state_dict().items()}
    load_state_dict_checked(net, good, f)
    assert all(torch.equal(p, torch.full_like(p, 0.5)) for p in net.parameters())


def test_importing_the_module_does_not_import_torch():
    code = "import sys, partlift.geometry.safe_load; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout
    assert out.strip() == "False"
