import json

import numpy as np
import pytest

from helpers import assert_close, assert_refused, write_malicious_npy
from partlift.errors import LabelMismatchError, ReadError
from partlift.geometry import PartPointCloud
from partlift.geometry.io import (
    load_part_mesh,
    load_partnete_shape,
    read_partnete_labels,
    save_part_mesh,
    save_partnete_labels,
    save_partnete_shape,
    sidecar_path,
)


@pytest.mark.parametrize("suffix", [".obj", ".ply", ".glb", ".off"])
def test_mesh_round_trip_keeps_vertex_order(toy_mesh, tmp_path, suffix):
    path = tmp_path / f"toy{suffix}"
    sc = save_part_mesh(toy_mesh, path)
    assert sc == sidecar_path(path) and sc.name == "toy.labels.json"
    m = load_part_mesh(path)
    assert_close(m.vertices, toy_mesh.vertices, atol=1e-5)
    assert (m.faces == toy_mesh.faces).all()
    assert (m.labels == toy_mesh.labels).all() and (m.instances == toy_mesh.instances).all()
    assert m.part_names == toy_mesh.part_names and m.category == "toy"


def test_stl_round_trip_via_face_labels(toy_mesh, tmp_path):
    path = tmp_path / "toy.stl"
    save_part_mesh(toy_mesh, path)
    m = load_part_mesh(path)
    assert len(m.faces) == len(toy_mesh.faces)
    assert (m.face_labels() == toy_mesh.face_labels()).all()


def test_missing_file(tmp_path):
    with pytest.raises(ReadError, match="mesh file not found: .*nope.obj"):
        load_part_mesh(tmp_path / "nope.obj")


def test_unreadable_file(tmp_path):
    bad = tmp_path / "bad.ply"
    bad.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 99\ngarbage")
    with pytest.raises(ReadError, match="bad.ply"):
        load_part_mesh(bad)


def test_unsupported_suffix(tmp_path):
    f = tmp_path / "mesh.xyz"
    f.write_text("1 2 3")
    with pytest.raises(ReadError, match="unsupported mesh format"):
        load_part_mesh(f)


def test_sidecar_mismatch_named(toy_mesh, tmp_path):
    path = tmp_path / "toy.obj"
    sc = save_part_mesh(toy_mesh, path)
    meta = json.loads(sc.read_text())
    meta["labels"] = meta["labels"][:-3]
    meta["face_labels"] = meta["face_labels"][:-1]
    sc.write_text(json.dumps(meta))
    with pytest.raises(LabelMismatchError, match=r"toy.labels.json has 13 vertex labels but .*toy.obj has 16"):
        load_part_mesh(path)


def test_explicit_sidecar_must_exist(toy_mesh, tmp_path):
    path = tmp_path / "toy.obj"
    save_part_mesh(toy_mesh, path)
    with pytest.raises(ReadError, match="label sidecar not found"):
        load_part_mesh(path, labels_path=tmp_path / "other.labels.json")


def test_partnete_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    n = 1000
    pc = PartPointCloud(
        rng.normal(size=(n, 3)).astype(np.float32), colors=rng.random((n, 3)).astype(np.float32),
        labels=rng.integers(-1, 3, n), instances=rng.integers(-1, 5, n), part_names=("a", "b", "c"),
    )
    folder = tmp_path / "Chair" / "123"
    save_partnete_shape(pc, folder)
    back = load_partnete_shape(folder, part_names=("a", "b", "c"))
    assert back.category == "Chair" and back.name == "123"
    assert_close(back.points, pc.points, atol=1e-6)
    assert_close(back.colors, pc.colors, atol=0.5 / 255 + 1e-6)
    assert (back.labels == pc.labels).all() and (back.instances == pc.instances).all()


def test_partnete_label_count_mismatch(tmp_path):
    save_partnete_labels(tmp_path / "label.npy", np.zeros(5), np.zeros(5))
    with pytest.raises(LabelMismatchError, match="has 5 labels but the point cloud has 7"):
        read_partnete_labels(tmp_path / "label.npy", 7)
    np.save(tmp_path / "x.npy", np.zeros(3))
    with pytest.raises(ReadError, match="not a PartNetE label dict"):
        read_partnete_labels(tmp_path / "x.npy")


def test_partnete_labels_load_safely(tmp_path):
    # a PartNetE release file is np.save of a dict: still read, through the restricted unpickler
    sem, ins = np.array([0, 2, -1, 1]), np.array([0, 1, -1, 2])
    np.save(tmp_path / "label.npy", {"semantic_seg": sem, "instance_seg": ins}, allow_pickle=True)
    got_sem, got_ins = read_partnete_labels(tmp_path / "label.npy", 4)
    assert (got_sem == sem).all() and (got_ins == ins).all() and got_sem.dtype == np.int64
    # a crafted file would run code when unpickled: refused before anything runs, also via the shape folder
    marker = tmp_path / "ran"
    folder = tmp_path / "shape"
    save_partnete_shape(PartPointCloud(np.zeros((3, 3)), labels=np.zeros(3, int)), folder)
    write_malicious_npy(folder / "label.npy", marker)
    for read in (lambda: read_partnete_labels(folder / "label.npy"), lambda: load_partnete_shape(folder)):
        with pytest.raises(ReadError, match="refused to unpickle") as e:
            read()
        assert_refused(e, folder / "label.npy", marker)
    (folder / "label.npy").write_bytes(b"")
    with pytest.raises(ReadError, match="empty") as e:
        load_partnete_shape(folder)
    assert_refused(e, folder / "label.npy")
