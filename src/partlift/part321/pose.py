"""Differentiable object pose and per-part configuration of the deformable neural mesh (torch).

Object pose: NeMo / PASCAL3D+ angles (azimuth a, elevation e, in-plane theta; radians) and the
camera distance d, in partlift's frames (docs/CONVENTIONS.md):

    x_cam = R(a, e, theta) @ x_world + (0, 0, d)
    R = CV_FROM_GL @ Rz(theta) @ Rx(-(pi/2 - e)) @ Rz(-a) @ PASCAL_FROM_WORLD

Per-part configuration (Part321 section 4.4): every part p has a transformation T_p in R^6
(axis-angle rotation r_p and translation t_p) and a scale S_p in R^3 (stored as log-scale so it
stays positive). A vertex x of part p with part centre c_p and part axes B_p (columns, from the
template's principal axes) moves to

    x' = c_p + t_p + Rot(r_p) @ B_p @ diag(exp(s_p)) @ B_p^T @ (x - c_p).

Vertices of no part (label -1) follow the object pose only.
"""

from __future__ import annotations

import numpy as np
import torch

from partlift.render.interpolate import world_to_camera_rotation_torch


def world_to_camera_rotation_t(azimuth, elevation, theta) -> torch.Tensor:
    """(..., 3, 3) world -> OpenCV camera rotation of a NeMo pose, differentiable (radians).

    :func:`partlift.render.interpolate.world_to_camera_rotation_torch`, kept under this name here.
    """
    return world_to_camera_rotation_torch(azimuth, elevation, theta)


def axis_angle_to_matrix(rotvec: torch.Tensor) -> torch.Tensor:
    """(..., 3) axis-angle (direction = axis, norm = angle in radians) -> (..., 3, 3) rotation.

    Rodrigues' formula with Taylor expansions near 0 so the gradient at the identity is exact.
    """
    theta2 = (rotvec * rotvec).sum(-1, keepdim=True)[..., None]  # (..., 1, 1)
    small = theta2 < 1e-8
    safe2 = torch.where(small, torch.ones_like(theta2), theta2)
    theta = torch.sqrt(safe2)
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(theta)) / safe2)
    x, y, z = rotvec.unbind(-1)
    zero = torch.zeros_like(x)
    k = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(*rotvec.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=rotvec.dtype).expand_as(k)
    return eye + a * k + b * (k @ k)


def group_means(points: torch.Tensor, groups: torch.Tensor, num_groups: int) -> torch.Tensor:
    """(G, 3) mean of ``points`` (V, 3) per group id in ``groups`` (V,) long (empty groups -> 0)."""
    sums = torch.zeros(num_groups, points.shape[1], dtype=points.dtype).index_add(0, groups, points)
    counts = torch.zeros(num_groups, dtype=points.dtype).index_add(0, groups, torch.ones_like(points[:, 0]))
    return sums / counts.clamp_min(1.0)[:, None]


def apply_part_transforms(
    vertices: torch.Tensor,
    groups: torch.Tensor,
    axes: torch.Tensor,
    rotvec: torch.Tensor,
    translation: torch.Tensor,
    log_scale: torch.Tensor,
    centers: torch.Tensor | None = None,
) -> torch.Tensor:
    """Move each part by its own rotation, translation and anisotropic scale (module docstring).

    Args:
        vertices: (V, 3) object-frame vertices (after deformation).
        groups: (V,) long part index per vertex in [0, G); index G (or larger) = no part, left unchanged.
        axes: (G, 3, 3) part axes (columns) in the object frame.
        rotvec, translation, log_scale: (G, 3) per-part parameters (all zero = identity).
        centers: (G, 3) rotation/scale centres; default the current per-part vertex means.

    Returns:
        (V, 3) transformed vertices.
    """
    num = rotvec.shape[0]
    in_part = groups < num
    g = torch.where(in_part, groups, torch.zeros_like(groups))
    if centers is None:
        gg = torch.where(in_part, groups, torch.full_like(groups, num))
        centers = group_means(vertices, gg, num + 1)[:num]
    rot = axis_angle_to_matrix(rotvec)  # (G, 3, 3)
    # Linear map per part: Rot @ B diag(s) B^T
    lin = rot @ axes @ torch.diag_embed(torch.exp(log_scale)) @ axes.transpose(-1, -2)
    local = vertices - centers[g]
    moved = torch.einsum("vij,vj->vi", lin[g], local) + centers[g] + translation[g]
    return torch.where(in_part[:, None], moved, vertices)


def project_points(cam_points: torch.Tensor, intrinsics: tuple[float, float, float, float]) -> torch.Tensor:
    """(..., 3) camera-frame points -> (..., 2) pixel (u, v); intrinsics = (fx, fy, cx, cy)."""
    fx, fy, cx, cy = intrinsics
    z = cam_points[..., 2].clamp_min(1e-6)
    return torch.stack([fx * cam_points[..., 0] / z + cx, fy * cam_points[..., 1] / z + cy], dim=-1)


def to_camera(vertices: torch.Tensor, rotation: torch.Tensor, distance: torch.Tensor | float) -> torch.Tensor:
    """(V, 3) world points -> (V, 3) camera points for an object-centred camera (t = (0, 0, d))."""
    cam = vertices @ rotation.transpose(-1, -2)
    offset = torch.zeros(3, dtype=cam.dtype)
    offset = offset + torch.nn.functional.pad(torch.as_tensor(distance, dtype=cam.dtype).reshape(1), (2, 0))
    return cam + offset


def part_axes(vertices: np.ndarray, groups: np.ndarray, num_groups: int) -> np.ndarray:
    """(G, 3, 3) float64 principal axes (columns, proper rotations) of each part's vertices.

    Parts with fewer than 3 vertices get the identity.
    """
    out = np.tile(np.eye(3), (num_groups, 1, 1))
    for k in range(num_groups):
        p = np.asarray(vertices, dtype=np.float64)[groups == k]
        if len(p) < 3:
            continue
        _, _, vt = np.linalg.svd(p - p.mean(axis=0), full_matrices=True)
        r = vt.T
        if np.linalg.det(r) < 0:
            r[:, 2] = -r[:, 2]
        out[k] = r
    return out
