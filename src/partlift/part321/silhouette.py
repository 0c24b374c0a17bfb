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

    Args:
        cam_points: (V, 3) camera-frame points (z > 0): vertices, and face centres for density.
        intrinsics: (fx, fy, cx, cy) of the map.
        target: the foreground (:meth:`SilhouetteTarget.from_mask`).
        covered: (H, W) bool pixels the current render covers, or None.
    """
    uv = project(cam_points, intrinsics)
    h, w = target.outside_distance.shape
    dist = target.outside_distance.to(uv.dtype)
    # beyond the border the distance keeps growing, so far-off points still feel a pull
    over = torch.stack([(0.5 - uv[:, 0]).clamp_min(0) + (uv[:, 0] - (w - 0.5)).clamp_min(0),
                        (0.5 - uv[:, 1]).clamp_min(0) + (uv[:, 1] - (h - 0.5)).clamp_min(0)], -1).norm(dim=-1)
    outside = (torch.relu(bilinear_sample(dist, uv) - 0.5) + over).mean()
    pix = target.outline.to(uv.dtype)
    m = len(pix)
    if covered is not None:
        cov = torch.as_tensor(np.asarray(covered) if not torch.is_tensor(covered) else covered, dtype=torch.bool)
        col = (pix[:, 0] - 0.5).long().clamp(0, w - 1)
        row = (pix[:, 1] - 0.5).long().clamp(0, h - 1)
        pix = pix[~cov[row, col]]
    cover = torch.relu(torch.cdist(pix, uv).min(dim=1).values - 0.5).sum() / m if len(pix) else uv.sum() * 0.0
    return (outside + cover) / target.size


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
