"""Rendering per-vertex features of the neural mesh into a feature map (rasterise, then interpolate).

The numba rasteriser (:func:`partlift.render.rasterize.rasterize`, no gradient) gives the visible
face of every pixel; barycentrics are then recomputed in torch from the projected vertices, so
gradients reach vertex positions (hence pose, part parameters and deformation latents) and the
vertex features. As in NeMo, interpolated features are not re-normalised and background pixels
are 0; gradients do not flow through silhouette changes.
"""

from __future__ import annotations

import numpy as np
import torch

from partlift.render.camera import Camera
from partlift.render.rasterize import rasterize

_EYE = np.eye(3)


def camera_frame_camera(intrinsics: tuple[float, float, float, float], width: int, height: int) -> Camera:
    """A camera at the origin looking down +Z (identity extrinsics) with the given intrinsics."""
    fx, fy, cx, cy = intrinsics
    return Camera(_EYE, np.zeros(3), fx, fy, cx, cy, int(width), int(height), znear=1e-3, zfar=1e4)


def rasterize_camera_points(
    cam_points: np.ndarray | list[np.ndarray],
    faces: np.ndarray,
    intrinsics: tuple[float, float, float, float],
    width: int,
    height: int,
    with_bary: bool = False,
):
    """Rasterise meshes already in camera coordinates. Returns :class:`Fragments` (B, H, W)."""
    cam = camera_frame_camera(intrinsics, width, height)
    if isinstance(cam_points, np.ndarray) and cam_points.ndim == 2:
        return rasterize(cam_points, faces, cam, with_bary=with_bary)
    # one mesh per view: rasterise each (vertices differ), then stack
    frags = [rasterize(p, faces, cam, with_bary=with_bary) for p in cam_points]
    from partlift.render.rasterize import Fragments

    return Fragments(
        np.concatenate([f.face_ids for f in frags]),
        None if not with_bary else np.concatenate([f.bary for f in frags]),
        np.concatenate([f.depth for f in frags]),
    )


def screen_barycentrics(
    cam_points: torch.Tensor,
    faces: torch.Tensor,
    face_ids: torch.Tensor,
    intrinsics: tuple[float, float, float, float],
    width: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Perspective-correct barycentrics of covered pixel centres, differentiable in ``cam_points``.

    Args:
        cam_points: (V, 3) camera-frame vertices.
        faces: (F, 3) long.
        face_ids: (H, W) long face per pixel, -1 background.
        intrinsics: (fx, fy, cx, cy) of the map.
        width: map width (for pixel centres).

    Returns:
        pix: (N,) long flat index of covered pixels; tri: (N, 3) long vertex ids; w: (N, 3) weights.
    """
    flat = face_ids.reshape(-1)
    pix = torch.nonzero(flat >= 0).squeeze(1)
    tri = faces[flat[pix]]
    fx, fy, cx, cy = intrinsics
    p = cam_points[tri]  # (N, 3, 3)
    z = p[..., 2].clamp_min(1e-6)
    uv = torch.stack([fx * p[..., 0] / z + cx, fy * p[..., 1] / z + cy], dim=-1)  # (N, 3, 2)
    px = torch.stack([(pix % width).to(uv.dtype) + 0.5, (pix // width).to(uv.dtype) + 0.5], dim=-1)

    def cross(a, b, c):  # doubled signed area of (a, b, c)
        return (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])

    a, b, c = uv[:, 0], uv[:, 1], uv[:, 2]
    area = cross(a, b, c)
    area = torch.where(area.abs() < 1e-12, torch.full_like(area, 1e-12), area)
    lam = torch.stack([cross(px, b, c), cross(a, px, c), cross(a, b, px)], dim=-1) / area[:, None]
    w = lam / z
    w = w / _safe(w.sum(-1, keepdim=True))
    return pix, tri, w


def _safe(s: torch.Tensor) -> torch.Tensor:
    return torch.where(s.abs() < 1e-12, torch.full_like(s, 1e-12), s)


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
    fid = torch.as_tensor(np.asarray(face_ids), dtype=torch.long) if not torch.is_tensor(face_ids) else face_ids.long()
    h, w = fid.shape
    pix, tri, wts = screen_barycentrics(cam_points, faces, fid, intrinsics, w)
    vals = (features[tri] * wts.to(features.dtype)[..., None]).sum(1)  # (N, C)
    out = torch.zeros(h * w, features.shape[1], dtype=features.dtype)
    out = out.index_copy(0, pix, vals)
    return out.t().reshape(features.shape[1], h, w)


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
        cam_points.detach().double().numpy(), faces.numpy(), intrinsics, width, height, with_bary=False
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
