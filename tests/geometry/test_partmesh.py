import numpy as np
import pytest

from partlift.errors import InvalidGeometryError, LabelMismatchError, PartliftError
from partlift.geometry import PartMesh

TRI_V = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float32)
TRI_F = np.array([[0, 1, 2]])


def test_valid_mesh_normalises_dtypes():
    m = PartMesh(TRI_V.astype(np.float64), TRI_F.astype(np.int32), labels=[0, 0, -1], part_names=["a"])
    assert m.vertices.dtype == np.float32 and m.faces.dtype == np.int64 and m.labels.dtype == np.int64
    assert m.part_names == ("a",)


def test_nan_vertices_named():
    v = TRI_V.copy()
    v[2, 1] = np.nan
    with pytest.raises(InvalidGeometryError, match=r"non-finite.*vertex index 2"):
        PartMesh(v, TRI_F)


def test_out_of_range_face_named():
    with pytest.raises(InvalidGeometryError, match=r"outside \[0, 2\].*face index 1"):
        PartMesh(TRI_V, np.array([[0, 1, 2], [0, 1, 3]]))


def test_negative_face_index():
    with pytest.raises(InvalidGeometryError, match="outside"):
        PartMesh(TRI_V, np.array([[0, -1, 2]]))


def test_empty_mesh():
    with pytest.raises(InvalidGeometryError, match="empty"):
        PartMesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64))
    with pytest.raises(InvalidGeometryError, match="no faces"):
        PartMesh(TRI_V, np.zeros((0, 3), dtype=np.int64))


def test_label_length_mismatch_named():
    with pytest.raises(LabelMismatchError, match="labels has length 2 but the mesh has 3 vertices"):
        PartMesh(TRI_V, TRI_F, labels=[0, 0], part_names=["a"])


def test_label_without_part_name():
    with pytest.raises(LabelMismatchError, match="no part name"):
        PartMesh(TRI_V, TRI_F, labels=[0, 1, 1], part_names=["a"])


def test_errors_are_partlift_and_value_errors():
    assert issubclass(InvalidGeometryError, PartliftError) and issubclass(InvalidGeometryError, ValueError)


def test_face_labels_majority(toy_mesh):
    fl = toy_mesh.face_labels()
    assert fl.shape == (len(toy_mesh.faces),)
    # brute force majority with ties going to the first vertex
    for f, lab in zip(toy_mesh.faces, fl, strict=True):
        vals = list(toy_mesh.labels[f])
        best = max(vals, key=lambda x: (vals.count(x), -vals.index(x)))
        assert lab == best


def test_normals_outward_and_area(toy_mesh):
    # box faces from trimesh are outward; the normal points away from the part's centroid
    n = toy_mesh.face_normals()
    c = toy_mesh.vertices[toy_mesh.faces].mean(axis=1)
    part_center = np.array([[0, 0, 0], [1.5, 0, 0]])[toy_mesh.face_labels()]
    assert (np.einsum("ij,ij->i", n, c - part_center) > 0).all()
    assert np.isclose(toy_mesh.face_areas().sum(), 6.0 + (2 * 0.25 + 4 * 1.0), atol=1e-5)


def test_transform_with_reflection_keeps_outward(toy_mesh):
    m = toy_mesh.transformed(np.diag([-1.0, 1.0, 1.0, 1.0]))
    n = m.face_normals()
    c = m.vertices[m.faces].mean(axis=1)
    part_center = np.array([[0, 0, 0], [-1.5, 0, 0]])[m.face_labels()]
    assert (np.einsum("ij,ij->i", n, c - part_center) > 0).all()


def test_submesh_and_concatenate(toy_mesh):
    part0 = toy_mesh.submesh(toy_mesh.face_labels() == 0)
    part1 = toy_mesh.submesh(toy_mesh.face_labels() == 1)
    assert (part0.labels == 0).all() and (part1.labels == 1).all()
    joined = PartMesh.concatenate([part0, part1])
    assert len(joined.vertices) == len(toy_mesh.vertices)
    assert np.isclose(joined.face_areas().sum(), toy_mesh.face_areas().sum())
