"""Render one synthetic view: shaded RGB over a background, depth, part and instance masks, edges.

Built only on :func:`partlift.render.rasterize`: face ids and barycentrics give the per-pixel 3D
position (for the solid textures), the auto-smoothed normal (for shading) and the face vertex of
largest weight (whose label is the pixel's part, docs/CONVENTIONS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from partlift.datasets.canny import canny
from partlift.datasets.materials import MaterialAssignment, albedo, gloss_arrays
from partlift.datasets.shading import Lighting, corner_normals, shade, surface_at_pixels
from partlift.geometry.partmesh import PartMesh
from partlift.render.camera import Camera


@dataclass
class PreparedMesh:
    """A mesh with what every view of it needs, computed once.

    Attributes:
        mesh: the mesh (object frame).
        corner_n: (F, 3, 3) float32 auto-smoothed corner normals.
        assignment: its materials.
    """

    mesh: PartMesh
    corner_n: np.ndarray
    assignment: MaterialAssignment

    @staticmethod
    def build(mesh: PartMesh, assignment: MaterialAssignment) -> PreparedMesh:
        return PreparedMesh(mesh, corner_normals(mesh), assignment)


@dataclass
class RenderedView:
    """Outputs of one view (H x W).

    Attributes:
        rgb: (H, W, 3) uint8 image.
        depth: (H, W) float32 camera-space z, inf on background.
        labels: (H, W) int16 part label, -1 on background or unlabelled geometry.
        instances: (H, W) int16 instance id, -1 where none.
        edges: (H, W) bool Canny edges of the object rendered over black (no background edges).
        coverage: (H, W) float32 fraction of the pixel covered by the object (anti-aliased alpha).
    """

    rgb: np.ndarray
    depth: np.ndarray
    labels: np.ndarray
    instances: np.ndarray
    edges: np.ndarray
    coverage: np.ndarray


def _shade_view(prep: PreparedMesh, face_ids: np.ndarray, bary: np.ndarray, camera: Camera, lighting: Lighting):
    """(H*W, 3) float32 colours of covered pixels (others 0) and the (H*W,) bool coverage."""
    h, w = face_ids.shape
    s = surface_at_pixels(prep.mesh, face_ids, bary, prep.corner_n)
    mat = prep.assignment.vertex_material[s.vertex]
    alb = albedo(prep.assignment, s.points, mat)
    view = camera.center[None, :] - s.points
    view /= np.maximum(np.linalg.norm(view, axis=1, keepdims=True), 1e-12)
    spec, shin, refl = gloss_arrays(prep.assignment, mat)
    col = shade(alb, s.normals, view.astype(np.float32), lighting, spec, shin, refl)
    out = np.zeros((h * w, 3), dtype=np.float32)
    out[s.pixels] = col
    cov = np.zeros(h * w, dtype=bool)
    cov[s.pixels] = True
    return out, cov


def render_view(
    prep: PreparedMesh,
    camera: Camera,
    lighting: Lighting,
    background: np.ndarray,
    supersample: int = 1,
    canny_thresholds: tuple[float, float] | None = (100.0, 200.0),
    num_threads: int | None = None,
) -> RenderedView:
    """Render one view of a prepared mesh.

    Args:
        prep: mesh, corner normals and materials.
        camera: the camera (its size is the output size).
        lighting: lights in world coordinates.
        background: (H, W, 3) float RGB in [0, 1].
        supersample: RGB is shaded at ``supersample`` x the resolution and box-filtered (anti-aliasing);
            depth and masks are always at the native resolution, sampled at pixel centres.
        canny_thresholds: (low, high) for the edge map of the object over black (None: all False).
        num_threads: numba threads for the rasteriser.
    """
    from partlift.render.rasterize import rasterize

    h, w = camera.height, camera.width
    mesh = prep.mesh
    frag = rasterize(mesh.vertices, mesh.faces, [camera], num_threads=num_threads)
    assert frag.bary is not None and mesh.labels is not None  # with_bary; PartMesh.__post_init__
    fid, bary, depth = frag.face_ids[0], frag.bary[0], frag.depth[0]
    covered = fid >= 0
    f = np.where(covered, fid, 0)
    tri = mesh.faces[f]
    vert = np.take_along_axis(tri, bary.argmax(axis=2)[..., None], axis=2)[..., 0]
    labels = np.where(covered, mesh.labels[vert], -1).astype(np.int16)
    if mesh.instances is not None:
        instances = np.where(covered, mesh.instances[vert], -1).astype(np.int16)
    else:
        instances = np.full((h, w), -1, dtype=np.int16)

    bg = np.asarray(background, dtype=np.float32)
    if supersample <= 1:
        col, cov = _shade_view(prep, fid, bary, camera, lighting)
        col = col.reshape(h, w, 3)
        cov = cov.reshape(h, w).astype(np.float32)
    else:
        s = int(supersample)
        cam_hi = camera.resized(w * s, h * s)
        frag_hi = rasterize(mesh.vertices, mesh.faces, [cam_hi], num_threads=num_threads)
        assert frag_hi.bary is not None  # with_bary defaults to True
        col, cov = _shade_view(prep, frag_hi.face_ids[0], frag_hi.bary[0], cam_hi, lighting)
        col = col.reshape(h, s, w, s, 3).mean(axis=(1, 3))
        cov = cov.reshape(h, s, w, s).mean(axis=(1, 3)).astype(np.float32)
    # colours are premultiplied by coverage after the box filter: composite over the background
    rgb = col + (1.0 - cov[..., None]) * bg
    rgb8 = np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
    # Edges of the object alone over black: 3D-DST runs Canny on its transparent-film renders read as
    # RGB without alpha, so the ControlNet condition carries no background edges.
    if canny_thresholds is not None:
        edges = canny(np.clip(np.round(col * 255.0), 0, 255).astype(np.uint8), *canny_thresholds)
    else:
        edges = np.zeros((h, w), dtype=bool)
    return RenderedView(rgb8, depth.astype(np.float32), labels, instances, edges, cov)
