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


def test_labelled_ply_round_trip_through_trimesh(tmp_path):
    import trimesh

    from partlift.geometry.io import write_labelled_ply

    rng = np.random.default_rng(0)
    pts = rng.normal(size=(50, 3)).astype(np.float32)
    col = rng.random((50, 3)).astype(np.float32)
    lab, ins = rng.integers(-1, 4, 50), rng.integers(-1, 7, 50)
    write_labelled_ply(tmp_path / "p.ply", pts, col, lab, ins)
    loaded = trimesh.load(tmp_path / "p.ply", process=False)  # an independent PLY reader
    assert_close(np.asarray(loaded.vertices), pts, atol=0)
    assert_close(np.asarray(loaded.colors)[:, :3], np.round(col * 255), atol=0)
    props = loaded.metadata["_ply_raw"]["vertex"]["data"]
    assert (props["label"] == lab).all() and (props["instance"] == ins).all()


def test_points_or_mesh_reads_clouds_as_they_are_and_samples_meshes(toy_mesh, tmp_path):
    import trimesh

    from partlift.geometry.io import load_points_or_mesh

    pts = np.random.default_rng(1).normal(size=(40, 3))
    trimesh.PointCloud(pts).export(tmp_path / "c.ply")
    got, col, kind = load_points_or_mesh(tmp_path / "c.ply", 10)
    assert_close(got, pts, atol=1e-6)
    assert kind == "point cloud" and col is None
    save_part_mesh(toy_mesh, tmp_path / "m.obj")
    a, _, kind = load_points_or_mesh(tmp_path / "m.obj", 123, seed=4)
    b, _, _ = load_points_or_mesh(tmp_path / "m.obj", 123, seed=4)
    assert a.shape == (123, 3) and "mesh" in kind and (a == b).all()
    with pytest.raises(ReadError, match="x.txt"):
        (tmp_path / "x.txt").write_text("1 2 3")
        load_points_or_mesh(tmp_path / "x.txt", 10)


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
