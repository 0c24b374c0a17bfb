import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from helpers import assert_close
from partlift.errors import InvalidGeometryError
from partlift.geometry import aabb, normalize_unit_box, normalize_unit_sphere, oriented_box, part_boxes
from partlift.geometry.boxes import Box3D


@pytest.mark.parametrize("seed", range(10))
def test_oriented_box_recovers_rotated_box(seed):
    rng = np.random.default_rng(seed)
    size = np.sort(rng.uniform(0.2, 2.0, 3))[::-1] + np.array([0.2, 0.1, 0.0])
    rot = Rotation.random(random_state=seed).as_matrix()
    center = rng.normal(size=3)
    truth = Box3D(center, size, rot)
    # the 8 corners plus interior points: the min-volume box is the box itself
    pts = np.concatenate([truth.corners(), truth.center + (rng.uniform(-0.5, 0.5, (200, 3)) * size) @ rot.T])
    box = oriented_box(pts)
    assert_close(box.volume(), truth.volume(), rtol=1e-4)
    assert_close(box.center, center, atol=1e-5)
    assert box.contains(pts, eps=1e-6).all()
    assert np.isclose(np.linalg.det(box.rotation), 1.0)


def test_flat_and_tiny_boxes():
    flat = np.random.default_rng(0).random((50, 3))
    flat[:, 2] = 0.3
    box = oriented_box(flat)
    assert box.size[2] < 1e-9 and box.contains(flat, eps=1e-6).all()
    single = oriented_box(np.array([[1.0, 2.0, 3.0]]))
    assert_close(single.center, [1, 2, 3]) and single.volume() == 0.0
    with pytest.raises(InvalidGeometryError):
        oriented_box(np.zeros((0, 3)))


def test_aabb_and_part_boxes(toy_mesh):
    boxes = part_boxes(toy_mesh.vertices, toy_mesh.labels, 3, oriented=False)
    assert boxes[2] is None
    assert_close(boxes[0].size, [1, 1, 1], atol=1e-6)
    assert_close(boxes[1].center, [1.5, 0, 0], atol=1e-6)
    b = aabb(toy_mesh.vertices)
    assert_close(b.corners().min(axis=0), toy_mesh.vertices.min(axis=0), atol=1e-6)
    ob = part_boxes(toy_mesh.vertices, toy_mesh.labels, 2, oriented=True)
    assert_close(ob[1].volume(), 0.5, rtol=1e-4)


def test_box_dict_round_trip():
    b = Box3D(np.array([1.0, 2, 3]), np.array([3.0, 2, 1]), Rotation.random(random_state=1).as_matrix())
    c = Box3D.from_dict(b.to_dict())
    assert_close(c.corners(), b.corners(), atol=1e-12)


def test_normalisations(toy_mesh):
    m, n = normalize_unit_sphere(toy_mesh)
    assert_close(m.vertices.mean(axis=0), np.zeros(3), atol=1e-5)
    assert_close(np.linalg.norm(m.vertices, axis=1).max(), 1.0, atol=1e-5)
    assert_close(n.invert(m.vertices), toy_mesh.vertices, atol=1e-5)
    b, nb = normalize_unit_box(toy_mesh)
    lo, hi = b.vertices.min(axis=0), b.vertices.max(axis=0)
    assert_close(lo + hi, np.zeros(3), atol=1e-6)
    assert_close((hi - lo).max(), 1.0, atol=1e-6)
    h = np.c_[toy_mesh.vertices, np.ones(len(toy_mesh.vertices))] @ nb.matrix().T
    assert_close(h[:, :3], b.vertices, atol=1e-5)
    with pytest.raises(InvalidGeometryError, match="coincide"):
        normalize_unit_box(np.ones((4, 3)))
