"""Differentiable attribute interpolation (torch), the second half of "rasterise -> interpolate".

Visibility (which face covers which pixel) comes from the non-differentiable numba rasteriser
(:func:`partlift.render.rasterize.rasterize`). Given those face ids, the barycentrics of each pixel
centre are recomputed here from the *differentiable* projected vertices, so gradients flow to vertex
positions, the camera pose (R, t or the NeMo angles) and the attributes; the face ids themselves are
piecewise constant and carry no gradient (as in nvdiffrast without its antialiasing pass).

Perspective-correct weights: with ``E_k`` the screen-space edge function of the edge opposite vertex
k at the pixel centre, ``w_k = (E_k / z_k) / sum_j (E_j / z_j)``. This equals the weights of the 3D
point hit by the pixel's ray (``point = sum_k w_k V_k``), also for faces clipped by the near plane.

Only covered pixels are gathered, so memory is O(covered pixels x C), never O(pixels x faces).
Shapes: a leading view dimension ``B`` is optional everywhere; ``screen_verts`` / ``attributes``
without it are shared by all views.
"""

from __future__ import annotations

import math

import torch

from partlift.geometry.transforms import CV_FROM_GL, PASCAL_FROM_WORLD


def world_to_camera_rotation_torch(
    azimuth: torch.Tensor, elevation: torch.Tensor, theta: torch.Tensor
) -> torch.Tensor:
    """Torch version of :func:`partlift.geometry.transforms.world_to_camera_rotation`.

    Args:
        azimuth, elevation, theta: NeMo pose angles in radians, tensors of one broadcastable shape S.

    Returns:
        (*S, 3, 3) world -> OpenCV camera rotation
        ``CV_FROM_GL @ Rz(theta) Rx(-(pi/2 - e)) Rz(-a) @ PASCAL_FROM_WORLD``, differentiable.
    """
    a, e, th = torch.broadcast_tensors(*(torch.as_tensor(x) for x in (azimuth, elevation, theta)))
    if not a.is_floating_point():
        a, e, th = a.double(), e.double(), th.double()
    zero, one = torch.zeros_like(a), torch.ones_like(a)

    def mat(rows):
        return torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)

    ct, st = torch.cos(th), torch.sin(th)
    phi = -(math.pi / 2 - e)
    cp, sp = torch.cos(phi), torch.sin(phi)
    ca, sa = torch.cos(-a), torch.sin(-a)
    rz_t = mat([[ct, -st, zero], [st, ct, zero], [zero, zero, one]])
    rx = mat([[one, zero, zero], [zero, cp, -sp], [zero, sp, cp]])
    rz_a = mat([[ca, -sa, zero], [sa, ca, zero], [zero, zero, one]])
    left = torch.as_tensor(CV_FROM_GL, dtype=a.dtype, device=a.device)
    right = torch.as_tensor(PASCAL_FROM_WORLD, dtype=a.dtype, device=a.device)
    return left @ rz_t @ rx @ rz_a @ right


def project_vertices_torch(
    vertices: torch.Tensor, rotation: torch.Tensor, translation: torch.Tensor, intrinsics: torch.Tensor
) -> torch.Tensor:
    """Project world points to screen space, differentiably.

    Args:
        vertices: (V, 3) or (B, V, 3) world coordinates.
        rotation: (3, 3) or (B, 3, 3) world -> camera rotation (OpenCV camera frame).
        translation: (3,) or (B, 3), ``x_cam = R x_world + t``.
        intrinsics: (4,) or (B, 4) ``[fx, fy, cx, cy]`` in pixels.

    Returns:
        (V, 3) or (B, V, 3) ``[u, v, z]``: pixel coordinates (u = column, v = row, pixel centres at
        +0.5) and camera depth z. Batched if any input is batched.
    """
    batched = any(x.dim() == n for x, n in ((vertices, 3), (rotation, 3), (translation, 2), (intrinsics, 2)))
    v = vertices if vertices.dim() == 3 else vertices.unsqueeze(0)
    r = rotation if rotation.dim() == 3 else rotation.unsqueeze(0)
    t = translation if translation.dim() == 2 else translation.unsqueeze(0)
    k = intrinsics if intrinsics.dim() == 2 else intrinsics.unsqueeze(0)
    cam = v @ r.transpose(-1, -2) + t[:, None, :]
    z = cam[..., 2]
    u = k[:, None, 0] * cam[..., 0] / z + k[:, None, 2]
    w = k[:, None, 1] * cam[..., 1] / z + k[:, None, 3]
    out = torch.stack([u, w, z], dim=-1)
    return out if batched else out[0]


def _batched(face_ids: torch.Tensor, screen_verts: torch.Tensor):
    if face_ids.dim() not in (2, 3):
        raise ValueError(f"face_ids must be (H, W) or (B, H, W), got {tuple(face_ids.shape)}")
    squeeze = face_ids.dim() == 2
    fid = face_ids.unsqueeze(0) if squeeze else face_ids
    sv = screen_verts if screen_verts.dim() == 3 else screen_verts.unsqueeze(0)
    if sv.shape[0] not in (1, fid.shape[0]):
        raise ValueError(f"screen_verts has {sv.shape[0]} views but face_ids has {fid.shape[0]}")
    return fid, sv, squeeze


def _covered(fid: torch.Tensor, faces: torch.Tensor, sv: torch.Tensor):
    """Covered pixels: flat index (N,), view (N,), triangle vertex ids (N, 3), weights (N, 3)."""
    nb, h, w = fid.shape
    flat = fid.reshape(-1).long()
    idx = torch.nonzero(flat >= 0, as_tuple=True)[0]
    f = flat[idx]
    b = torch.div(idx, h * w, rounding_mode="floor")
    pix = idx - b * (h * w)
    py = torch.div(pix, w, rounding_mode="floor").to(sv.dtype) + 0.5
    px = (pix % w).to(sv.dtype) + 0.5
    tri = faces.long()[f]  # (N, 3)
    nv = sv.shape[1]
    vb = b if sv.shape[0] > 1 else torch.zeros_like(b)
    p = sv.reshape(-1, 3)[vb[:, None] * nv + tri]  # (N, 3 corners, [u, v, z])
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    # Edge function opposite corner k, from corner k+1 to k+2, at the pixel centre.
    x1, y1 = x.roll(-1, dims=1), y.roll(-1, dims=1)
    x2, y2 = x.roll(-2, dims=1), y.roll(-2, dims=1)
    e = (x2 - x1) * (py[:, None] - y1) - (y2 - y1) * (px[:, None] - x1)
    q = e / z
    wts = q / q.sum(dim=1, keepdim=True)
    return idx, b, tri, wts


def pixel_barycentrics(
    face_ids: torch.Tensor, faces: torch.Tensor, screen_verts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Perspective-correct barycentrics of every covered pixel centre, differentiable in ``screen_verts``.

    Args:
        face_ids: (H, W) or (B, H, W) integer face index per pixel, -1 = background.
        faces: (F, 3) integer vertex indices.
        screen_verts: (V, 3) or (B, V, 3) ``[u, v, z]`` from :func:`project_vertices_torch`.

    Returns:
        bary (B, H, W, 3) (zeros on background) and mask (B, H, W) bool, without B if face_ids is 2-D.
    """
    fid, sv, squeeze = _batched(face_ids, screen_verts)
    nb, h, w = fid.shape
    idx, _, _, wts = _covered(fid, faces, sv)
    out = wts.new_zeros(nb * h * w, 3).index_copy(0, idx, wts).reshape(nb, h, w, 3)
    mask = fid >= 0
    return (out[0], mask[0]) if squeeze else (out, mask)


def interpolate_attributes(
    face_ids: torch.Tensor, faces: torch.Tensor, screen_verts: torch.Tensor, attributes: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Blend per-vertex attributes at every covered pixel with perspective-correct barycentrics.

    Args:
        face_ids: (H, W) or (B, H, W) integer face index per pixel, -1 = background (from the
            rasteriser; non-differentiable).
        faces: (F, 3) integer vertex indices.
        screen_verts: (V, 3) or (B, V, 3) ``[u, v, z]`` from :func:`project_vertices_torch`.
        attributes: (V, C) shared by all views, or (B, V, C).

    Returns:
        values (B, H, W, C) (zero on background) and mask (B, H, W) bool; without B if face_ids is
        2-D. Differentiable w.r.t. ``screen_verts`` (hence vertices and pose) and ``attributes``.
    """
    fid, sv, squeeze = _batched(face_ids, screen_verts)
    nb, h, w = fid.shape
    idx, b, tri, wts = _covered(fid, faces, sv)
    c = attributes.shape[-1]
    rows = tri if attributes.dim() == 2 else b[:, None] * attributes.shape[1] + tri
    flat_attr = attributes.reshape(-1, c)
    wts = wts.to(attributes.dtype)
    # Three gathers and fused multiply-adds: cheaper than one (N, 3, C) gather + batched matmul.
    vals = flat_attr.index_select(0, rows[:, 0]) * wts[:, 0:1]
    vals = torch.addcmul(vals, flat_attr.index_select(0, rows[:, 1]), wts[:, 1:2])
    vals = torch.addcmul(vals, flat_attr.index_select(0, rows[:, 2]), wts[:, 2:3])
    out = vals.new_zeros(nb * h * w, c).index_copy(0, idx, vals).reshape(nb, h, w, c)
    mask = fid >= 0
    return (out[0], mask[0]) if squeeze else (out, mask)


def interpolate(
    face_ids: torch.Tensor,
    vertices: torch.Tensor,
    faces: torch.Tensor,
    attributes: torch.Tensor,
    rotation: torch.Tensor,
    translation: torch.Tensor,
    intrinsics: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Project ``vertices`` with (R, t, [fx, fy, cx, cy]) and interpolate ``attributes`` at the pixels.

    Shapes as in :func:`project_vertices_torch` and :func:`interpolate_attributes`.
    """
    sv = project_vertices_torch(vertices, rotation, translation, intrinsics)
    return interpolate_attributes(face_ids, faces, sv, attributes)
