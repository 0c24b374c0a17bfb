"""The object's silhouette in render-and-compare: a foreground map from the features, a
differentiable silhouette term, and the camera distance from the object's extent.

The features of Part321 are trained contrastively against a clutter bank (Eq. 6), so a pixel
whose nearest neighbour among the vertex features and the clutter bank is a vertex feature is
foreground (:func:`foreground_map`). (The mean clutter feature of NeMo's fg/bg loss is too weak a
competitor for this: on the embedded car the best vertex similarity beats it on background too.)

The rasteriser gives no gradient through silhouette changes (docs/PART321.md), so the fit's
outline is compared with the foreground as two point sets in the image plane
(:func:`silhouette_loss`): every projected vertex should fall inside the foreground (its distance
to the foreground, read from a distance transform), and every foreground pixel should have a
projected vertex near it. Both are differentiable in the projected vertex positions, hence in the
pose, the distance and the part parameters. Units: pixels divided by the object's size in pixels.

Pixels follow docs/CONVENTIONS.md: pixel (i, j) has its centre at (u, v) = (j + 0.5, i + 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numba import njit
from scipy import ndimage


def foreground_map(feature: torch.Tensor, vertex_features: torch.Tensor, clutter_features: torch.Tensor,
                   margin: float = 0.0) -> np.ndarray:
    """(H, W) bool: pixels whose nearest feature (cosine) is a vertex feature rather than a clutter
    feature, by at least ``margin``; the largest connected component is kept.

    Args:
        feature: (C, H, W) L2-normalised image features.
        vertex_features: (K, C) the neural mesh's vertex features.
        clutter_features: (Q, C) its clutter bank (background features seen in training).
        margin: similarity margin.
    """
    with torch.no_grad():
        c, h, w = feature.shape
        flat = feature.reshape(c, h * w)
        obj = (vertex_features.to(feature.dtype) @ flat).max(dim=0).values
        clu = (clutter_features.to(feature.dtype) @ flat).max(dim=0).values
        fg = (obj > clu + margin).reshape(h, w).cpu().numpy()
    return largest_component(fg)


def largest_component(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: the largest 8-connected component of ``mask`` (stray clutter pixels dropped)."""
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n <= 1:
        return mask.astype(bool)
    sizes = np.bincount(labels.ravel())[1:]
    return labels == (1 + int(np.argmax(sizes)))


@dataclass
class SilhouetteTarget:
    """The foreground of one image prepared for :func:`silhouette_loss` (torch tensors).

    Attributes:
        outside_distance: (H, W) distance (pixels) from each pixel centre to the nearest foreground
            pixel centre (0 inside the foreground).
        outline: (M, 2) (u, v) centres of the foreground's outline pixels (foreground pixels with a
            background 4-neighbour or on the map's border).
        size: the object's size in pixels, sqrt(foreground area): the unit of the loss.
        area: the foreground's area in pixels.
    """

    outside_distance: torch.Tensor
    outline: torch.Tensor
    size: float
    area: int

    @staticmethod
    def from_mask(mask: np.ndarray, dtype: torch.dtype = torch.float32) -> SilhouetteTarget:
        """From an (H, W) bool foreground mask (at least one pixel set)."""
        mask = np.asarray(mask, bool)
        if not mask.any():
            raise ValueError("empty foreground mask")
        dist = ndimage.distance_transform_edt(~mask)
        inner = ndimage.binary_erosion(mask, border_value=0)
        i, j = np.nonzero(mask & ~inner)
        pix = np.column_stack([j + 0.5, i + 0.5])
        area = int(mask.sum())
        return SilhouetteTarget(torch.as_tensor(dist, dtype=dtype), torch.as_tensor(pix, dtype=dtype),
                                float(np.sqrt(area)), area)


def project(cam_points: torch.Tensor, intrinsics: tuple[float, float, float, float]) -> torch.Tensor:
    """(V, 2) pixel coordinates (u, v) of (V, 3) camera-frame points (OpenCV pinhole)."""
    fx, fy, cx, cy = intrinsics
    z = cam_points[:, 2].clamp_min(1e-6)
    return torch.stack([fx * cam_points[:, 0] / z + cx, fy * cam_points[:, 1] / z + cy], dim=-1)


def bilinear_sample(image: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """(V,) values of an (H, W) map at (V, 2) continuous (u, v) positions (pixel centres at +0.5),
    bilinear inside, clamped to the border outside (differentiable in ``uv``)."""
    h, w = image.shape
    x = (uv[:, 0] - 0.5).clamp(0, w - 1)
    y = (uv[:, 1] - 0.5).clamp(0, h - 1)
    x0 = x.detach().floor().clamp(0, max(w - 2, 0)).long()
    y0 = y.detach().floor().clamp(0, max(h - 2, 0)).long()
    x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
    fx, fy = x - x0.to(x.dtype), y - y0.to(y.dtype)
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def outline_points(cam_vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """(V + F, 3) the vertices and the face centres of a mesh (a denser outline for
    :func:`silhouette_loss` on coarse meshes). cam_vertices: (V, 3); faces: (F, 3) long."""
    # index_select's backward is a scatter-add, cheaper than advanced indexing's index_put
    corners = cam_vertices.index_select(0, faces.reshape(-1)).view(len(faces), 3, 3)
    return torch.cat([cam_vertices, corners.mean(dim=1)])


def silhouette_loss(cam_points: torch.Tensor, intrinsics: tuple[float, float, float, float],
                    target: SilhouetteTarget, covered: np.ndarray | torch.Tensor | None = None) -> torch.Tensor:
    """Two-sided distance between the projected mesh and the foreground (scalar, >= 0).

    ``mean_k [d_out(u_k) - 1/2]_+ + sum_{p not covered} [min_k |p - u_k| - 1/2]_+ / M``, divided
    by the object's size sqrt(area) (a relative misfit, whatever the object's size in the image).
    The first term pulls points that project outside the foreground back in (d_out = distance
    transform of the background, bilinear, plus the distance beyond the map's border). The second
    pulls the fit out to reach the M pixels p of the foreground's outline that the render does not
    cover (``covered``, from the rasteriser; None = every outline pixel counts), so a fit that
    covers the outline costs nothing however coarse its mesh. The half-pixel dead zones absorb the
    pixel-centre sampling of the mask.

    The value and its gradient are computed together in one compiled pass (the term runs at every
    step of inference, and as a chain of small torch operations its backward pass cost more than
    the rest of the step); the gradient is that of the formula above almost everywhere (the
    nearest point of each outline pixel carries its distance's gradient, as ``min`` does).
    ``tests/part321/test_silhouette.py`` keeps the formula in plain torch as the reference.

    Args:
        cam_points: (V, 3) camera-frame points (z > 0): vertices, and face centres for density.
        intrinsics: (fx, fy, cx, cy) of the map.
        target: the foreground (:meth:`SilhouetteTarget.from_mask`).
        covered: (H, W) bool pixels the current render covers, or None.
    """
    h, w = target.outside_distance.shape
    if covered is None:
        cov = np.zeros((h, w), np.bool_)
    else:
        cov = np.ascontiguousarray(covered.detach().cpu().numpy() if torch.is_tensor(covered) else covered, np.bool_)
        if cov.shape != (h, w):
            raise ValueError(f"covered map {cov.shape} does not match the foreground map {(h, w)}")
    return _SilhouetteLoss.apply(cam_points, intrinsics, target, cov)


class _SilhouetteLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, cam_points, intrinsics, target, covered):
        pts = cam_points.detach().cpu().numpy()
        dtype = pts.dtype if pts.dtype in (np.float32, np.float64) else np.float64
        dist = target.outside_distance.detach().cpu().numpy().astype(np.float64, copy=False)
        outline = target.outline.detach().cpu().numpy().astype(np.float64, copy=False)
        value, grad = _silhouette_value_and_grad(
            np.ascontiguousarray(pts, np.float64), np.asarray(intrinsics, np.float64), dist, outline, covered,
            float(target.size))
        ctx.save_for_backward(torch.as_tensor(grad.astype(dtype), device=cam_points.device))
        return torch.tensor(value, dtype=cam_points.dtype, device=cam_points.device)

    @staticmethod
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        return grad_output * grad, None, None, None


@njit(cache=True)
def _silhouette_value_and_grad(pts, intr, dist, outline, covered, size):  # pragma: no cover - compiled
    """The value of :func:`silhouette_loss` and its (V, 3) gradient in ``pts`` (float64)."""
    n = pts.shape[0]
    h, w = dist.shape
    fx, fy, cx, cy = intr[0], intr[1], intr[2], intr[3]
    grad = np.zeros((n, 3))
    uv = np.empty((n, 2))
    guv = np.zeros((n, 2))
    outside = 0.0
    for k in range(n):
        z = pts[k, 2]
        zc = max(z, 1e-6)
        u = fx * pts[k, 0] / zc + cx
        v = fy * pts[k, 1] / zc + cy
        uv[k, 0] = u
        uv[k, 1] = v
        # bilinear distance, the sample clamped to the map (no gradient across the clamp)
        x = u - 0.5
        y = v - 0.5
        gx_in = 1.0 if 0.0 <= x <= w - 1 else 0.0
        gy_in = 1.0 if 0.0 <= y <= h - 1 else 0.0
        x = min(max(x, 0.0), w - 1.0)
        y = min(max(y, 0.0), h - 1.0)
        x0 = min(max(int(np.floor(x)), 0), max(w - 2, 0))
        y0 = min(max(int(np.floor(y)), 0), max(h - 2, 0))
        x1 = min(x0 + 1, w - 1)
        y1 = min(y0 + 1, h - 1)
        ax = x - x0
        ay = y - y0
        top = dist[y0, x0] * (1 - ax) + dist[y0, x1] * ax
        bottom = dist[y1, x0] * (1 - ax) + dist[y1, x1] * ax
        d = top * (1 - ay) + bottom * ay
        if d - 0.5 > 0:
            outside += d - 0.5
            guv[k, 0] += gx_in * ((1 - ay) * (dist[y0, x1] - dist[y0, x0]) + ay * (dist[y1, x1] - dist[y1, x0])) / n
            guv[k, 1] += gy_in * (bottom - top) / n
        # the distance beyond the map's border
        ou = max(0.5 - u, 0.0) + max(u - (w - 0.5), 0.0)
        ov = max(0.5 - v, 0.0) + max(v - (h - 0.5), 0.0)
        o = np.sqrt(ou * ou + ov * ov)
        if o > 0:
            outside += o
            su = -1.0 if u < 0.5 else (1.0 if u > w - 0.5 else 0.0)
            sv = -1.0 if v < 0.5 else (1.0 if v > h - 0.5 else 0.0)
            guv[k, 0] += su * ou / o / n
            guv[k, 1] += sv * ov / o / n
    total = outside / n
    m = outline.shape[0]
    for i in range(m):
        pu = outline[i, 0]
        pv = outline[i, 1]
        col = min(max(int(pu - 0.5), 0), w - 1)
        row = min(max(int(pv - 0.5), 0), h - 1)
        if covered[row, col]:
            continue
        best = np.inf
        kb = -1
        for k in range(n):
            du = pu - uv[k, 0]
            dv = pv - uv[k, 1]
            d2 = du * du + dv * dv
            if d2 < best:
                best = d2
                kb = k
        if kb < 0:
            continue
        d = np.sqrt(best)
        if d - 0.5 > 0:
            total += (d - 0.5) / m
            guv[kb, 0] += (uv[kb, 0] - pu) / d / m
            guv[kb, 1] += (uv[kb, 1] - pv) / d / m
    # chain rule through the pinhole projection
    for k in range(n):
        z = pts[k, 2]
        if z < 1e-6:
            zc = 1e-6
            gz = 0.0
        else:
            zc = z
            gz = 1.0
        grad[k, 0] = guv[k, 0] * fx / zc / size
        grad[k, 1] = guv[k, 1] * fy / zc / size
        grad[k, 2] = -gz * (guv[k, 0] * fx * pts[k, 0] + guv[k, 1] * fy * pts[k, 1]) / (zc * zc) / size
    return total / size, grad


def extent_distance(reference_area: np.ndarray, reference_distance: np.ndarray, observed_area: float) -> np.ndarray:
    """Camera distances at which renders of area ``reference_area`` (pixels, at
    ``reference_distance``) would cover ``observed_area`` pixels: ``d_ref * sqrt(A_ref / A_obs)``
    (a projected area falls with the square of the distance). Candidates that cover nothing keep
    their reference distance."""
    ref = np.asarray(reference_area, np.float64)
    d = np.asarray(reference_distance, np.float64)
    if observed_area <= 0:
        return d.copy()
    return np.where(ref > 0, d * np.sqrt(np.maximum(ref, 1e-12) / observed_area), d)
