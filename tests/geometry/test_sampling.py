import numpy as np
from scipy import stats

from helpers import assert_close
from partlift.geometry import (
    PartPointCloud,
    sample_surface,
    transfer_labels_to_mesh,
    transfer_labels_to_points,
)
from partlift.geometry.sampling import sample_surface_barycentric


def test_same_seed_same_points(toy_mesh):
    a = sample_surface(toy_mesh, 500, seed=3)
    b = sample_surface(toy_mesh, 500, seed=3)
    c = sample_surface(toy_mesh, 500, seed=4)
    assert_close(a.points, b.points, atol=0)
    assert not np.allclose(a.points, c.points)


def test_area_weighting_chi_square(toy_mesh):
    n = 40000
    face_index, bary = sample_surface_barycentric(toy_mesh, n, seed=0)
    counts = np.bincount(face_index, minlength=len(toy_mesh.faces))
    expected = toy_mesh.face_areas() / toy_mesh.face_areas().sum() * n
    p = stats.chisquare(counts, expected).pvalue
    assert p > 1e-6, p  # a weighting bug gives p ~ 0 at this sample size
    assert_close(bary.sum(axis=1), np.ones(n), atol=1e-12)
    assert (bary >= 0).all()


def test_uniform_within_triangle():
    from partlift.geometry import PartMesh

    m = PartMesh(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], float), np.array([[0, 1, 2]]))
    pts = sample_surface(m, 20000, seed=1).points
    # the mean of a uniform triangle is its centroid; the fraction with x < 0.5 is 1 - 0.25 = 0.75
    assert_close(pts.mean(axis=0), [1 / 3, 1 / 3, 0], atol=0.01)
    assert abs((pts[:, 0] < 0.5).mean() - 0.75) < 0.01


def test_points_on_surface_carry_attributes(toy_mesh):
    pc, face_index, bary = sample_surface(toy_mesh, 2000, seed=0, return_index=True)
    tri = toy_mesh.vertices[toy_mesh.faces[face_index]].astype(np.float64)
    assert_close(pc.points, np.einsum("nk,nkd->nd", bary, tri), atol=1e-5)
    assert_close(pc.normals, toy_mesh.face_normals()[face_index], atol=0)
    expected_colors = np.einsum("nk,nkd->nd", bary, toy_mesh.colors[toy_mesh.faces[face_index]])
    assert_close(pc.colors, expected_colors, atol=1e-5)
    # the two boxes are separate components, so every sample takes its face's part
    assert (pc.labels == toy_mesh.face_labels()[face_index]).all()


def test_label_transfer_round_trip(toy_mesh):
    pc = sample_surface(toy_mesh, 3000, seed=0)
    for method in ("surface", "vertex"):
        lab, ins = transfer_labels_to_points(toy_mesh, pc.points, method=method)
        agree = (lab == pc.labels).mean()
        assert agree > (0.999 if method == "surface" else 0.9), (method, agree)
    vl, vi = transfer_labels_to_mesh(pc, toy_mesh.vertices, k=5)
    assert (vl == toy_mesh.labels).all() and (vi == toy_mesh.instances).all()


def test_knn_vote_brute_force():
    rng = np.random.default_rng(0)
    pts = rng.random((200, 3)).astype(np.float32)
    labels = rng.integers(-1, 3, 200)
    pc = PartPointCloud(pts, labels=labels, instances=labels, part_names=("a", "b", "c"))
    q = rng.random((50, 3))
    got, _ = transfer_labels_to_mesh(pc, q, k=7)
    for i in range(50):
        d = np.linalg.norm(pts - q[i], axis=1)
        nn = labels[np.argsort(d, kind="stable")[:7]]
        vals, counts = np.unique(nn, return_counts=True)
        assert got[i] == vals[counts == counts.max()].min()
