import numpy as np
import pytest

from helpers import assert_close
from partlift.geometry.transforms import (
    PASCAL_FROM_WORLD,
    geodesic_angle,
    nemo_rotation,
    pose_from_world_to_camera_rotation,
    rot_x,
    rot_z,
    world_to_camera_rotation,
)


def test_nemo_rotation_matches_formula_by_hand():
    # Independent construction: R = Rz(theta) Rx(e - pi/2) Rz(-a), written with explicit matrices.
    a, e, t = 0.7, 0.3, -0.4
    rz = lambda x: np.array([[np.cos(x), -np.sin(x), 0], [np.sin(x), np.cos(x), 0], [0, 0, 1]])  # noqa: E731
    ang = e - np.pi / 2
    rx = np.array([[1, 0, 0], [0, np.cos(ang), -np.sin(ang)], [0, np.sin(ang), np.cos(ang)]])
    assert_close(nemo_rotation(a, e, t), rz(t) @ rx @ rz(-a), atol=1e-12)


def test_pascal_camera_centre():
    # PASCAL3D+: the camera centre is d (cos e sin a, -cos e cos a, sin e) and looks down -z (OpenGL).
    rng = np.random.default_rng(0)
    for _ in range(100):
        a, e, t = rng.uniform(-np.pi, np.pi), rng.uniform(-1.4, 1.4), rng.uniform(-np.pi, np.pi)
        r = nemo_rotation(a, e, t)
        c = np.array([np.cos(e) * np.sin(a), -np.cos(e) * np.cos(a), np.sin(e)])
        # the origin, at -c relative to the camera, lies on the optical axis in front (z < 0, OpenGL)
        assert_close(r @ (0 - c), [0, 0, -1], atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_pose_round_trip(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        a, t = rng.uniform(-np.pi, np.pi, 2)
        e = rng.uniform(-np.pi / 2 + 1e-3, np.pi / 2 - 1e-3)
        back = pose_from_world_to_camera_rotation(world_to_camera_rotation(a, e, t))
        assert_close(back, [a, e, t], atol=1e-7)


def test_pose_round_trip_at_poles():
    for e in (np.pi / 2, -np.pi / 2):
        r = world_to_camera_rotation(0.8, e, 0.3)
        a2, e2, t2 = pose_from_world_to_camera_rotation(r)
        assert_close(e2, e, atol=1e-7)
        assert_close(world_to_camera_rotation(a2, e2, t2), r, atol=1e-7)


def test_frames_are_rotations():
    assert_close(np.linalg.det(PASCAL_FROM_WORLD), 1.0)
    r = world_to_camera_rotation(0.1, 0.2, 0.3)
    assert_close(r @ r.T, np.eye(3), atol=1e-12)
    assert_close(np.linalg.det(r), 1.0, atol=1e-12)


def test_geodesic_angle():
    assert_close(geodesic_angle(np.eye(3), rot_z(0.5)), 0.5, atol=1e-12)
    assert_close(geodesic_angle(rot_x(0.2), rot_x(-0.3)), 0.5, atol=1e-12)
