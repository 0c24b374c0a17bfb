"""Loaders: 3D-DST annotations (projection round trip), PartNetE split lists, mesh folders."""

from __future__ import annotations

import numpy as np
import pytest
from toys import toy_chair

from helpers import RunsOnLoad, assert_close, assert_refused
from partlift.datasets.loaders import (
    dst_camera,
    dst_normalization,
    dst_pose,
    list_partnete_shapes,
    load_dst_annotation,
    load_mesh_folder,
)
from partlift.errors import ReadError
from partlift.geometry.io import save_part_mesh, save_partnete_shape
from partlift.geometry.pointcloud import PartPointCloud
from partlift.render.camera import Camera


def _blender_annotation(a: float, e: float, d: float, roll: float = 0.0, size: int = 512) -> dict:
    """What 3D-DST's Blender script stores for a camera that partlift describes as (a, e, d).

    Built from the Blender side only: theta = a - pi/2, phi = pi/2 - e, camera at
    d (sin phi cos theta, sin phi sin theta, cos phi) tracking the origin with up +z, then rolled
    about its viewing axis."""
    theta, phi = a - np.pi / 2, np.pi / 2 - e
    c = d * np.array([np.sin(phi) * np.cos(theta), np.sin(phi) * np.sin(theta), np.cos(phi)])
    back = c / d
    right = np.cross([0, 0, 1.0], back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    rot = np.stack([right, up, back], 1)
    if roll:
        from scipy.spatial.transform import Rotation

        rot = Rotation.from_rotvec(-back * roll).as_matrix() @ rot
    mw = np.eye(4)
    mw[:3, :3], mw[:3, 3] = rot, c
    return {
        "theta": theta, "phi": phi, "dist": d, "camera_rotation": roll, "principal": np.array([size / 2, size / 2]),
        "matrix_world": mw, "modelview_matrix": np.linalg.inv(mw), "focal_length": 35, "sensor_width": 32,
        "rendering_scale": 0.5, "rendering_offset": np.array([0.1, -0.2, 0.3]), "shape_id": "x", "source": "shapenet",
    }


def _blender_project(ann: dict, pts_file: np.ndarray, size: int = 512) -> np.ndarray:
    """Project mesh-file points as Blender does: importer axis swap, modelview, pinhole (y up)."""
    b = np.stack([pts_file[:, 0], -pts_file[:, 2], pts_file[:, 1]], 1)
    pc = (np.c_[b, np.ones(len(b))] @ np.asarray(ann["modelview_matrix"]).T)[:, :3]
    f = 35 / 32 * size
    return np.stack([size / 2 + f * pc[:, 0] / -pc[:, 2], size / 2 - f * pc[:, 1] / -pc[:, 2]], 1)


@pytest.mark.parametrize("a,e,d,roll", [(0.3, 0.4, 2.5, 0.0), (-2.0, -0.3, 3.1, 0.0), (2.9, 1.2, 1.8, 0.25)])
def test_dst_annotation_projection_round_trip(tmp_path, a, e, d, roll):
    ann = _blender_annotation(a, e, d, roll)
    path = tmp_path / "000.npy"
    np.save(path, ann, allow_pickle=True)
    loaded = load_dst_annotation(path)
    pts = np.random.default_rng(0).uniform(-0.5, 0.5, size=(50, 3))
    want = _blender_project(loaded, pts)
    for use_mw in (True, False):
        cam = dst_camera(loaded, use_matrix_world=use_mw)
        assert (cam.width, cam.height) == (512, 512) and cam.fx == pytest.approx(560.0)
        uv, z = cam.project(pts)
        assert (z > 0).all()
        assert_close(uv, want, atol=1e-6, msg=f"matrix_world={use_mw}")
    if roll == 0.0:
        # the converted pose is partlift's (a, e, 0, d): the same camera as Camera.from_pose
        pa, pe, pt, pd = dst_pose(loaded)
        assert_close([pa, pe, pt, pd], [a, e, 0.0, d], atol=1e-9)
        ours = Camera.from_pose(azimuth=a, elevation=e, distance=d, focal=560.0, width=512, height=512)
        assert_close(ours.project(pts)[0], want, atol=1e-6)


def test_dst_azimuth_offset_turns_the_model():
    ann = _blender_annotation(0.5, 0.2, 2.0)
    pts = np.random.default_rng(1).uniform(-0.5, 0.5, size=(20, 3))
    turned = pts @ np.array([[-1, 0, 0], [0, 1, 0], [0, 0, -1.0]]).T  # model facing -Z, rotated by pi about +Y
    assert_close(dst_camera(ann, azimuth_offset=np.pi).project(pts)[0], dst_camera(ann).project(turned)[0], atol=1e-6)


def test_dst_normalization_and_errors(tmp_path):
    scale, off = dst_normalization(_blender_annotation(0.0, 0.0, 2.0))
    assert scale == 0.5
    assert_close(off, [0.1, 0.3, 0.2], atol=1e-12)  # Blender (x, y, z) offset -> file (x, z, -y)
    with pytest.raises(ReadError):
        load_dst_annotation(tmp_path / "missing.npy")
    with pytest.raises(ReadError, match="lacks"):
        dst_camera({"principal": [256, 256]}, use_matrix_world=False)


def test_dst_annotations_are_unpickled_safely(tmp_path):
    marker = tmp_path / "ran"
    ann = _blender_annotation(0.3, 0.2, 2.0)
    ann["extra"] = {"nested": [1, RunsOnLoad(marker)]}
    np.save(tmp_path / "evil.npy", ann, allow_pickle=True)
    with pytest.raises(ReadError, match="refused to unpickle") as e:
        load_dst_annotation(tmp_path / "evil.npy")
    assert_refused(e, tmp_path / "evil.npy", marker)
    np.save(tmp_path / "plain.npy", np.eye(4))
    with pytest.raises(ReadError, match="not a 3D-DST annotation dict") as e:
        load_dst_annotation(tmp_path / "plain.npy")
    assert_refused(e, tmp_path / "plain.npy")
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(ReadError, match="empty") as e:
        load_dst_annotation(tmp_path / "empty.npy")
    assert_refused(e, tmp_path / "empty.npy")


def _cloud(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return PartPointCloud(rng.random((n, 3)), colors=rng.random((n, 3)), labels=rng.integers(-1, 2, n),
                          instances=rng.integers(-1, 3, n))


def test_partnete_split_lists(tmp_path):
    for cat, sid in (("Chair", "101"), ("Chair", "102"), ("Lamp", "7")):
        save_partnete_shape(_cloud(), tmp_path / "test" / cat / sid)
    assert [(c, p.name) for c, p in list_partnete_shapes(tmp_path, "test")] == [
        ("Chair", "101"), ("Chair", "102"), ("Lamp", "7")]
    (tmp_path / "split").mkdir()
    (tmp_path / "split" / "test.txt").write_text("Chair/102\n7\n\n")
    assert [(c, p.name) for c, p in list_partnete_shapes(tmp_path, "test")] == [("Chair", "102"), ("Lamp", "7")]
    assert [p.name for _, p in list_partnete_shapes(tmp_path, "test", "Lamp")] == ["7"]
    (tmp_path / "split" / "test.txt").write_text("Chair/999\n")
    with pytest.raises(ReadError, match="999"):
        list_partnete_shapes(tmp_path, "test")
    with pytest.raises(ReadError):
        list_partnete_shapes(tmp_path, "few_shot")


def test_mesh_folder(tmp_path):
    save_part_mesh(toy_chair(0), tmp_path / "a.obj")
    save_part_mesh(toy_chair(1), tmp_path / "b.ply")
    (tmp_path / "notes.txt").write_text("not a mesh")
    meshes = load_mesh_folder(tmp_path)
    assert [m.name for m in meshes] == ["toychair_000000", "toychair_000001"]
    assert all((m.labels >= 0).all() for m in meshes)
    with pytest.raises(ReadError):
        load_mesh_folder(tmp_path / "empty_missing")
