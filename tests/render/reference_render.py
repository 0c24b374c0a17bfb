"""Slow, obviously-correct reference renderers and small scenes shared by the render tests."""

from __future__ import annotations

import numpy as np

from partlift.render.camera import Camera


def pixel_rays(camera: Camera) -> np.ndarray:
    """(H, W, 3) camera-space ray directions (x, y, 1) through every pixel centre."""
    jj, ii = np.meshgrid(np.arange(camera.width) + 0.5, np.arange(camera.height) + 0.5)
    return np.stack([(jj - camera.cx) / camera.fx, (ii - camera.cy) / camera.fy, np.ones_like(jj)], axis=-1)


def reference_raster(vertices, faces, camera: Camera, cull: bool = False):
    """Pure-python ray caster: loop over pixels and triangles.

    A pixel shows the triangle whose intersection with the ray through the pixel centre is nearest
    (camera z in [znear, zfar]); ties go to the smaller face index. Weights of the hit point are
    the signed volumes det[d, V_k+1, V_k+2], normalised. Back faces (outward normal pointing away
    from the camera, i.e. n . V_0 >= 0 in camera space) are skipped when ``cull``.

    Returns face ids (H, W), bary (H, W, 3), depth (H, W) and ``margin`` (H, W): how far the pixel
    is from any decision boundary (smallest |weight| of any triangle, relative distance of a hit to
    the near plane, relative depth gap between the two nearest hits); tiny = ambiguous pixel.
    """
    cam_v = camera.to_camera(np.asarray(vertices, dtype=np.float64))
    rays = pixel_rays(camera)
    h, w = camera.height, camera.width
    fid = np.full((h, w), -1)
    bary = np.zeros((h, w, 3))
    depth = np.full((h, w), np.inf)
    margin = np.full((h, w), np.inf)
    for i in range(h):
        for j in range(w):
            d = rays[i, j]
            hits = []
            for f, (a, b, c) in enumerate(faces):
                p = cam_v[[a, b, c]]
                if cull and np.dot(np.cross(p[1] - p[0], p[2] - p[0]), p[0]) >= 0:
                    continue
                wv = np.array([np.linalg.det(np.stack([d, p[(k + 1) % 3], p[(k + 2) % 3]])) for k in range(3)])
                s = wv.sum()
                if s == 0:
                    continue
                wts = wv / s
                z = np.linalg.det(p) / s  # ray parameter = camera z since d_z = 1
                margin[i, j] = min(margin[i, j], abs(wts.min()))
                if wts.min() < 0:
                    continue
                margin[i, j] = min(margin[i, j], abs(z - camera.znear) / abs(z), abs(z - camera.zfar) / abs(z))
                if camera.znear <= z <= camera.zfar:
                    hits.append((z, f, wts))
            if hits:
                hits.sort(key=lambda x: (x[0], x[1]))
                depth[i, j], fid[i, j], bary[i, j] = hits[0]
                if len(hits) > 1:
                    margin[i, j] = min(margin[i, j], (hits[1][0] - hits[0][0]) / hits[0][0])
    return fid, bary, depth, margin


def random_triangle_soup(seed: int, n: int = 10, center_z: float = 3.0, spread: float = 1.2) -> tuple:
    """(V, 3) vertices and (n, 3) faces of random, partly overlapping and interpenetrating triangles."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-spread / 2, spread / 2, (n, 3)) + [0.0, 0.0, center_z]
    v = (centres[:, None, :] + rng.normal(0, 0.45, (n, 3, 3))).reshape(-1, 3)
    f = np.arange(3 * n).reshape(n, 3)
    return v, f


def identity_camera(width: int, height: int, focal: float, znear: float = 0.01, zfar: float = 100.0) -> Camera:
    """A camera at the world origin looking down +z (world = camera frame)."""
    return Camera(np.eye(3), np.zeros(3), focal, focal, width / 2.0, height / 2.0, width, height, znear, zfar)


def three_box_mesh():
    """Three boxes: a body (part 0) and two arms (part 1, instances 1 and 2), with vertex colours."""
    import trimesh

    from partlift.geometry import PartMesh

    boxes = [
        trimesh.creation.box(extents=(1.0, 0.8, 0.6)),
        trimesh.creation.box(extents=(0.3, 1.2, 0.3)),
        trimesh.creation.box(extents=(0.3, 1.2, 0.3)),
    ]
    boxes[1].apply_translation((0.9, 0.2, 0.1))
    boxes[2].apply_translation((-0.9, -0.2, -0.1))
    offsets = np.cumsum([0] + [len(b.vertices) for b in boxes[:-1]])
    v = np.concatenate([b.vertices for b in boxes])
    f = np.concatenate([b.faces + o for b, o in zip(boxes, offsets, strict=True)])
    inst = np.concatenate([np.full(len(b.vertices), k) for k, b in enumerate(boxes)])
    labels = np.minimum(inst, 1)
    colors = np.random.default_rng(0).random((len(v), 3))
    return PartMesh(v, f, labels=labels, part_names=("body", "arm"), instances=inst, colors=colors, name="boxes")
