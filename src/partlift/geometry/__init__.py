"""Part-labelled meshes and point clouds, sampling, normalisation, boxes, transforms, IO."""

from partlift.geometry.boxes import Box3D, aabb, oriented_box, part_boxes
from partlift.geometry.normalize import Normalization, normalize_unit_box, normalize_unit_sphere
from partlift.geometry.partmesh import UNLABELLED, PartMesh
from partlift.geometry.pointcloud import PartPointCloud
from partlift.geometry.sampling import sample_surface, transfer_labels_to_mesh, transfer_labels_to_points

__all__ = [
    "UNLABELLED",
    "Box3D",
    "Normalization",
    "PartMesh",
    "PartPointCloud",
    "aabb",
    "normalize_unit_box",
    "normalize_unit_sphere",
    "oriented_box",
    "part_boxes",
    "sample_surface",
    "transfer_labels_to_mesh",
    "transfer_labels_to_points",
]
