"""Cameras, the numba mesh rasteriser, differentiable interpolation and point splatting."""

from partlift.render.camera import PARTSLIP_VIEWS, Camera, partslip_cameras, stack_cameras

__all__ = ["PARTSLIP_VIEWS", "Camera", "partslip_cameras", "stack_cameras"]
