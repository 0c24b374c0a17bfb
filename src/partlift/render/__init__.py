"""Cameras, the numba mesh rasteriser, differentiable interpolation and point splatting."""

from partlift.render.camera import PARTSLIP_VIEWS, Camera, partslip_cameras, stack_cameras
from partlift.render.interpolate import (
    interpolate,
    interpolate_attributes,
    pixel_barycentrics,
    project_vertices_torch,
    world_to_camera_rotation_torch,
)
from partlift.render.rasterize import Fragments, rasterize
from partlift.render.shading import MeshRender, ShadingConfig, nearest_corner_labels, part_palette, render_mesh
from partlift.render.splat import PARTSLIP_RADIUS_PX, SplatResult, splat_points
from partlift.render.visibility import vertex_visibility

__all__ = [
    "PARTSLIP_RADIUS_PX",
    "PARTSLIP_VIEWS",
    "Camera",
    "Fragments",
    "MeshRender",
    "ShadingConfig",
    "SplatResult",
    "interpolate",
    "interpolate_attributes",
    "nearest_corner_labels",
    "part_palette",
    "partslip_cameras",
    "pixel_barycentrics",
    "project_vertices_torch",
    "rasterize",
    "render_mesh",
    "splat_points",
    "stack_cameras",
    "vertex_visibility",
    "world_to_camera_rotation_torch",
]
