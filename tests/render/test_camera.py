import numpy as np
import pytest

from helpers import assert_close
from partlift.geometry.transforms import PASCAL_FROM_WORLD, nemo_rotation
from partlift.render.camera import PARTSLIP_VIEWS, Camera, partslip_cameras, stack_cameras

POSE_KEYS = ("azimuth", "elevation", "theta", "distance")


@pytest.mark.parametrize("seed", range(3))
def test_nemo_pose_equals_look_at_when_theta_is_zero(seed):
    rng = np.random.default_rng(seed)
    for _ in range(100):
        a, e, d = rng.uniform(-np.pi, np.pi), rng.uniform(-1.5, 1.5), rng.uniform(0.5, 6)
        c1 = Camera.from_pose(azimuth=a, elevation=e, distance=d, focal=300, width=128, height=128)
        c2 = Camera.look_at(azimuth=a, elevation=e, distance=d, width=128, height=128)
        assert_close(c1.rotation, c2.rotation, atol=1e-9)
        assert_close(c1.center, c2.center, atol=1e-9)


def test_camera_centre_matches_pascal_formula():
    a, e, t, d = 0.4, 0.25, 0.6, 3.0
    cam = Camera.from_pose(azimuth=a, elevation=e, theta=t, distance=d, focal=500, width=64, height=64)
    pascal_c = d * np.array([np.cos(e) * np.sin(a), -np.cos(e) * np.cos(a), np.sin(e)])
    assert_close(PASCAL_FROM_WORLD @ cam.center, pascal_c, atol=1e-12)


def test_projection_matches_pascal_projection():
    # PASCAL3D+: x_gl = R_nemo (X - C); image u = f x_gl / -z_gl + cx, v = -f y_gl / -z_gl + cy.
    rng = np.random.default_rng(1)
    a, e, t, d, f = 1.1, 0.3, -0.2, 4.0, 700.0
    cam = Camera.from_pose(azimuth=a, elevation=e, theta=t, distance=d, focal=f, width=640, height=480)
    pts = rng.uniform(-0.5, 0.5, (50, 3))
    uv, z = cam.project(pts)
    pc = PASCAL_FROM_WORLD @ cam.center
    x = (pts @ PASCAL_FROM_WORLD.T - pc) @ nemo_rotation(a, e, t).T
    u = f * x[:, 0] / -x[:, 2] + 320
    v = -f * x[:, 1] / -x[:, 2] + 240
    assert_close(uv, np.stack([u, v], 1), atol=1e-8)
    assert_close(z, -x[:, 2], atol=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_pose_round_trip(seed):
    rng = np.random.default_rng(seed)
    for _ in range(100):
        p = [rng.uniform(-np.pi, np.pi), rng.uniform(-1.5, 1.5), rng.uniform(-np.pi, np.pi), rng.uniform(1, 9)]
        cam = Camera.from_pose(**dict(zip(POSE_KEYS, p, strict=True)), focal=100, width=32, height=32)
        assert_close(cam.pose(), p, atol=1e-7)
        back = Camera.from_pose(**dict(zip(POSE_KEYS, cam.pose(), strict=True)), focal=100, width=32, height=32)
        assert_close(back.rotation, cam.rotation, atol=1e-9)


def test_look_at_semantics():
    cam = Camera.look_at(azimuth=0, elevation=0, distance=2.2, fov=60, width=800, height=800)
    uv, z = cam.project(np.array([[0, 0, 0], [0, 0.5, 0], [0.5, 0, 0]]))
    assert_close(uv[0], [400, 400], atol=1e-9)
    assert uv[1, 1] < 400  # world up is up in the image
    assert uv[2, 0] > 400  # camera on +Z (object front): the object's left (+X) is on the image right
    assert_close(z, [2.2, 2.2, 2.2], atol=1e-12)
    # a point on the edge of the 60 deg field of view lands on the image border
    edge = np.array([[0.0, 2.2 * np.tan(np.radians(30)), 0.0]])
    assert_close(cam.project(edge)[0][0, 1], 0.0, atol=1e-9)


def test_partslip_views_and_serialisation(tmp_path):
    cams = partslip_cameras()
    assert len(cams) == len(PARTSLIP_VIEWS) == 10
    for (e, a), cam in zip(PARTSLIP_VIEWS, cams, strict=True):
        exp = 2.2 * np.array([np.cos(np.radians(e)) * np.sin(np.radians(a)), np.sin(np.radians(e)),
                              np.cos(np.radians(e)) * np.cos(np.radians(a))])
        assert_close(cam.center, exp, atol=1e-9)
    cams[3].save_json(tmp_path / "c.json")
    back = Camera.load_json(tmp_path / "c.json")
    assert_close(back.world_to_camera(), cams[3].world_to_camera(), atol=1e-12)
    batch = stack_cameras(cams)
    assert batch["R"].shape == (10, 3, 3) and tuple(batch["size"]) == (800, 800)


def test_invalid_camera():
    with pytest.raises(ValueError, match="proper rotation"):
        Camera(np.diag([1.0, 1, -1]), np.zeros(3), 1, 1, 0, 0, 8, 8)
    with pytest.raises(ValueError, match="share an image size"):
        stack_cameras([Camera.look_at(azimuth=0, elevation=0, distance=2, width=8, height=8),
                       Camera.look_at(azimuth=0, elevation=0, distance=2, width=9, height=8)])


def test_resized_camera_projects_consistently():
    cam = Camera.from_pose(azimuth=0.3, elevation=0.2, theta=0.1, distance=3, focal=200, width=200, height=100)
    half = cam.resized(100, 50)
    pts = np.random.default_rng(0).uniform(-0.3, 0.3, (10, 3))
    assert_close(half.project(pts)[0], cam.project(pts)[0] / 2, atol=1e-9)


def test_theta_turns_image_counter_clockwise():
    above = np.array([[0.0, 0.5, 0.0]])
    upright, turned = (Camera.from_pose(azimuth=0, elevation=0, theta=th, distance=3, focal=100, width=64, height=64)
                       for th in (0.0, 0.3))
    u0, v0 = upright.project(above)[0][0] - 32
    u1, v1 = turned.project(above)[0][0] - 32
    # displayed with v down, counter-clockwise means the angle atan2(-v, u) grows by theta
    assert_close(np.arctan2(-v1, u1) - np.arctan2(-v0, u0), 0.3, atol=1e-9)


def test_positional_angles_are_refused():
    # angles used to be positional in opposite orders (and units) in the two constructors
    with pytest.raises(TypeError):
        Camera.from_pose(0.3, 0.2, 0.0, 3.0, focal=100, width=32, height=32)
    with pytest.raises(TypeError):
        Camera.look_at(0.3, 0.2, 3.0, width=32, height=32)
    with pytest.raises(TypeError):
        Camera.look_at(0.3, elevation=0.2, distance=3.0)


@pytest.mark.parametrize("seed", range(2))
def test_constructors_place_the_centre_on_the_sphere(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        a, e, d = rng.uniform(-np.pi, np.pi), rng.uniform(-1.5, 1.5), rng.uniform(0.5, 6)
        # independent of the code under test: spherical coordinates as docs/CONVENTIONS.md writes them
        centre = d * np.array([np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)])
        cams = (Camera.from_pose(azimuth=a, elevation=e, distance=d, focal=100, width=32, height=32),
                Camera.look_at(azimuth=a, elevation=e, distance=d, width=32, height=32))
        for cam in cams:
            assert_close(cam.center, centre, atol=1e-9)
            # the origin is straight ahead: on the optical axis at depth d
            assert_close(cam.to_camera(np.zeros((1, 3)))[0], [0.0, 0.0, d], atol=1e-9)
            assert_close(cam.project(np.zeros((1, 3)))[0][0], [16.0, 16.0], atol=1e-9)


def test_degrees_flag_equals_radians():
    a, e, t, d = 130.0, -25.0, 40.0, 2.5
    deg = Camera.from_pose(azimuth=a, elevation=e, theta=t, distance=d, focal=90, width=40, height=30, degrees=True)
    rad = Camera.from_pose(azimuth=np.radians(a), elevation=np.radians(e), theta=np.radians(t), distance=d,
                           focal=90, width=40, height=30)
    assert_close(deg.world_to_camera(), rad.world_to_camera(), atol=1e-12)
    assert_close(deg.K, rad.K, atol=0)
    deg = Camera.look_at(azimuth=a, elevation=e, distance=d, fov=50, width=40, height=30, degrees=True)
    rad = Camera.look_at(azimuth=np.radians(a), elevation=np.radians(e), distance=d, fov=50, width=40, height=30)
    assert_close(deg.world_to_camera(), rad.world_to_camera(), atol=1e-12)
    assert_close(deg.K, rad.K, atol=0)
