"""Rendering per-vertex features of the neural mesh into a feature map (rasterise, then interpolate).

The numba rasteriser (:func:`partlift.render.rasterize.rasterize`, no gradient) gives the visible
face of every pixel; :func:`partlift.render.interpolate.interpolate_attributes` then recomputes the
barycentrics in torch from the projected vertices, so gradients reach vertex positions (hence pose,
part parameters and deformation latents) and the vertex features. As in NeMo, interpolated
features are not re-normalised, background pixels are 0, and no gradient flows through
silhouette changes.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from partlift.render.camera import Camera
from partlift.render.interpolate import interpolate_attributes
from partlift.render.rasterize import Fragments, rasterize

_EYE = np.eye(3)


@functools.lru_cache(maxsize=64)
def camera_frame_camera(intrinsics: tuple[float, float, float, float], width: int, height: int) -> Camera:
    """A camera at the origin looking down +Z (identity extrinsics) with the given intrinsics (cached)."""
    fx, fy, cx, cy = intrinsics
    return Camera(_EYE, np.zeros(3), fx, fy, cx, cy, int(width), int(height), znear=1e-3, zfar=1e4)


def rasterize_camera_points(
    cam_points: np.ndarray | list[np.ndarray],
    faces: np.ndarray,
    intrinsics: tuple[float, float, float, float],
    width: int,
    height: int,
    with_bary: bool = False,
    num_threads: int | None = 1,
) -> Fragments:
    """Rasterise meshes already in camera coordinates. Returns :class:`Fragments` (B, H, W).

    ``num_threads`` defaults to 1: the maps are small, and numba's threads only spin when the
    machine is shared.
    """
    cam = camera_frame_camera(tuple(float(x) for x in intrinsics), int(width), int(height))
    if isinstance(cam_points, np.ndarray) and cam_points.ndim == 2:
        return rasterize(cam_points, faces, cam, with_bary=with_bary, num_threads=num_threads)
    # one mesh per view: rasterise each (vertices differ), then stack
    frags = [rasterize(p, faces, cam, with_bary=with_bary, num_threads=num_threads) for p in cam_points]
    return Fragments(
        np.concatenate([f.face_ids for f in frags]),
        None if not with_bary else np.concatenate([f.bary for f in frags]),
        np.concatenate([f.depth for f in frags]),
    )


def interpolate_features(
    cam_points: torch.Tensor,
    faces: torch.Tensor,
    features: torch.Tensor,
    face_ids: np.ndarray | torch.Tensor,
    intrinsics: tuple[float, float, float, float],
) -> torch.Tensor:
    """Render per-vertex features into a (C, H, W) map from given face ids (differentiable).

    Args:
        cam_points: (V, 3) camera-frame vertex positions.
        faces: (F, 3) long vertex ids.
        features: (V, C) per-vertex features.
        face_ids: (H, W) face per pixel from the rasteriser, -1 background.
        intrinsics: (fx, fy, cx, cy) of the map.
    """
    fid = face_ids.long() if torch.is_tensor(face_ids) else torch.as_tensor(np.asarray(face_ids), dtype=torch.long)
    fx, fy, cx, cy = intrinsics
    z = cam_points[:, 2]
    screen = torch.stack([fx * cam_points[:, 0] / z + cx, fy * cam_points[:, 1] / z + cy, z], dim=-1)
    values, _ = interpolate_attributes(fid, faces, screen, features)
    return values.permute(2, 0, 1)


def render_features(
    cam_points: torch.Tensor,
    faces: torch.Tensor,
    features: torch.Tensor,
    intrinsics: tuple[float, float, float, float],
    width: int,
    height: int,
) -> tuple[torch.Tensor, np.ndarray]:
    """Rasterise (no grad) and interpolate (grad) one view. Returns ((C, H, W) map, (H, W) face ids)."""
    frags = rasterize_camera_points(
        cam_points.detach().double().cpu().numpy(), faces.cpu().numpy(), intrinsics, width, height, with_bary=False
    )
    fid = frags.face_ids[0]
    return interpolate_features(cam_points, faces, features, fid, intrinsics), fid


def render_features_nograd(
    fragments_face_ids: np.ndarray,
    fragments_bary: np.ndarray,
    faces: np.ndarray,
    features: torch.Tensor,
) -> torch.Tensor:
    """(B, C, H, W) feature maps from rasteriser barycentrics (no gradient path; fast batch scoring)."""
    fid = torch.as_tensor(fragments_face_ids, dtype=torch.long)
    b, h, w = fid.shape
    bary = torch.as_tensor(fragments_bary, dtype=features.dtype)
    mask = fid >= 0
    tri = torch.as_tensor(faces, dtype=torch.long)[fid.clamp_min(0)]  # (B, H, W, 3)
    vals = (features[tri] * bary[..., None]).sum(-2)  # (B, H, W, C)
    vals = vals * mask[..., None]
    return vals.permute(0, 3, 1, 2).contiguous()
