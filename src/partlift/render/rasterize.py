"""CPU triangle rasteriser (numba): per-pixel face id, camera depth and barycentrics.

Conventions (see :mod:`partlift.render.camera`): OpenCV camera, pixel (row i, column j) is sampled
at its centre (u, v) = (j + 0.5, i + 0.5).

Rules, all deterministic:

* **Coverage**: a pixel centre belongs to a triangle if it lies strictly inside, or exactly on an
  edge that is a *top* or *left* edge of the triangle as seen on screen (the Direct3D fill rule).
  Edge functions of an edge shared by two triangles are evaluated from the same two vertices in the
  same order (lower vertex index first) and only their sign differs, so a pixel centre on a shared
  edge goes to exactly one of the two triangles even with float rounding: no holes, no double draws.
* **Z-buffer**: the largest 1/z (the nearest surface) wins; on an exact tie the smaller face id wins.
  The result does not depend on the number of threads.
* **Near plane**: triangles are clipped in camera space against ``z = camera.znear`` (a crossing
  triangle becomes one or two triangles that keep the original face id), so nothing closer than
  ``znear`` is drawn and triangles passing behind the camera do not produce garbage.
  **Far plane**: fragments farther than ``camera.zfar`` are discarded per pixel.
* **Back faces**: faces are counter-clockwise seen from outside. Projected into the OpenCV image
  (x right, y down) a front-facing triangle has a *negative* doubled signed area
  ``(b - a)_x (c - a)_y - (b - a)_y (c - a)_x``; ``cull_backfaces=True`` drops triangles whose
  area is positive.
* **Barycentrics** are perspective-correct weights of the face's three (unclipped) vertices,
  computed from the ray through the pixel centre, so ``point = sum_k w_k V_k`` and ``sum_k w_k = 1``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from partlift.errors import InvalidGeometryError
from partlift.render.camera import Camera, stack_cameras
from partlift.render.numba_threads import start_numba_threads


@dataclass
class Fragments:
    """Rasterisation output for a batch of ``B`` views of ``H x W`` pixels.

    Attributes:
        face_ids: (B, H, W) int32 index of the visible face, -1 on background.
        bary: (B, H, W, 3) float32 perspective-correct barycentric weights of the visible face's
            three vertices (zero on background), or None if not requested.
        depth: (B, H, W) float32 camera-space z of the visible surface, ``np.inf`` on background.
    """

    face_ids: np.ndarray
    bary: np.ndarray | None
    depth: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """(B, H, W) bool, True where a face is visible."""
        return self.face_ids >= 0

    def __len__(self) -> int:
        return self.face_ids.shape[0]

    def view(self, index: int) -> Fragments:
        """The fragments of one view, keeping a batch dimension of 1."""
        s = slice(index, index + 1)
        return Fragments(self.face_ids[s], None if self.bary is None else self.bary[s], self.depth[s])


# ---------------------------------------------------------------------------------- numba kernels
_TINY = 5e-324  # smallest positive double: "e >= _TINY" is "e > 0"


@njit(cache=True, inline="always")
def _edge(px, py, pk, qx, qy, qk, o):
    """Canonical form of the edge p -> q of a triangle with orientation sign ``o``.

    Returns (lo_x, lo_y, dx, dy, s, th) such that the edge function of the positively oriented
    triangle is ``E(x, y) = s * (dx * (y - lo_y) - dy * (x - lo_x))``, with lo = the endpoint with the
    smaller key and (dx, dy) = other - lo, so the neighbour sharing the edge computes exactly -E.
    A pixel centre is on the inner side iff ``E >= th``.
    """
    fwd = pk < qk
    sg = 1.0 if fwd else -1.0
    lx = px if fwd else qx
    ly = py if fwd else qy
    ex = qx - px
    ey = qy - py
    # Direction of the edge on the positively oriented (y-down) triangle: top edges run +x, left
    # edges run -y (Direct3D top-left rule); pixel centres exactly on those edges are inside.
    ox = o * ex
    oy = o * ey
    top_left = (oy < 0.0) | ((oy == 0.0) & (ox > 0.0))
    return lx, ly, sg * ex, sg * ey, sg * o, 0.0 if top_left else _TINY


@njit(cache=True, error_model="numpy")
def _draw_triangle(ax, ay, aiz, ka, bx, by, biz, kb, cx, cy, ciz, kc, fid, cull, zbuf, fbuf):
    """Scan one screen-space triangle (x, y, 1/z, vertex key) into the z-buffer ``zbuf`` (stores 1/z)."""
    h, w = zbuf.shape
    minx = min(ax, bx, cx)
    maxx = max(ax, bx, cx)
    miny = min(ay, by, cy)
    maxy = max(ay, by, cy)
    # Pixel centres j + 0.5 inside [minx, maxx]; rejects off-screen and sub-pixel triangles early.
    x0f = max(math.ceil(minx - 0.5), 0.0)
    x1f = min(math.floor(maxx - 0.5), w - 1.0)
    if not x0f <= x1f:
        return
    y0f = max(math.ceil(miny - 0.5), 0.0)
    y1f = min(math.floor(maxy - 0.5), h - 1.0)
    if not y0f <= y1f:
        return
    area2 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    if area2 == 0.0:
        return
    if cull and area2 > 0.0:  # front faces have negative area in the y-down image
        return
    # Work on the positively oriented triangle by negating the edge functions when o = -1.
    # e0 = edge b->c (weight of a), e1 = c->a (weight of b), e2 = a->b (weight of c).
    o = math.copysign(1.0, area2)
    inv_area = o / area2
    # Written as selects, not branches: these outcomes are random from one triangle to the next.
    l0x, l0y, d0x, d0y, s0, th0 = _edge(bx, by, kb, cx, cy, kc, o)
    l1x, l1y, d1x, d1y, s1, th1 = _edge(cx, cy, kc, ax, ay, ka, o)
    l2x, l2y, d2x, d2y, s2, th2 = _edge(ax, ay, ka, bx, by, kb, o)
    x0, x1, y0, y1 = int(x0f), int(x1f), int(y0f), int(y1f)
    # The sign s_k is folded into the factors (s * fl(a - b) == fl(s*a - s*b) exactly for s = +-1).
    g0, g1, g2 = s0 * d0y, s1 * d1y, s2 * d2y
    for i in range(y0, y1 + 1):
        sy = i + 0.5
        r0 = s0 * (d0x * (sy - l0y))
        r1 = s1 * (d1x * (sy - l1y))
        r2 = s2 * (d2x * (sy - l2y))
        for j in range(x0, x1 + 1):
            sx = j + 0.5
            e0 = r0 - g0 * (sx - l0x)
            if e0 < th0:
                continue
            e1 = r1 - g1 * (sx - l1x)
            if e1 < th1:
                continue
            e2 = r2 - g2 * (sx - l2x)
            if e2 < th2:
                continue
            iz = (e0 * aiz + e1 * biz + e2 * ciz) * inv_area
            if iz > zbuf[i, j]:
                zbuf[i, j] = iz
                fbuf[i, j] = fid


@njit(cache=True)
def _draw_clipped(tri, znear, fx, fy, cx, cy, nv, fid, cull, zbuf, fbuf, poly):
    """Clip a camera-space triangle ``tri`` (3, 4) = [x, y, z, key] to z >= znear and draw the rest."""
    n = 0
    for k in range(3):
        p = tri[k]
        q = tri[(k + 1) % 3]
        p_in = p[2] >= znear
        q_in = q[2] >= znear
        if p_in:
            poly[n, :] = p
            n += 1
        if p_in != q_in:
            # Interpolate from the lower-key endpoint so both faces sharing this edge get the same point.
            if p[3] < q[3]:
                lo, hi = p, q
            else:
                lo, hi = q, p
            s = (znear - lo[2]) / (hi[2] - lo[2])
            poly[n, 0] = lo[0] + s * (hi[0] - lo[0])
            poly[n, 1] = lo[1] + s * (hi[1] - lo[1])
            poly[n, 2] = znear
            poly[n, 3] = -(1.0 + lo[3] * nv + hi[3])  # unique key of the new vertex, < 0
            n += 1
    if n < 3:
        return
    for k in range(n):
        z = poly[k, 2]
        poly[k, 0] = fx * poly[k, 0] / z + cx
        poly[k, 1] = fy * poly[k, 1] / z + cy
        poly[k, 2] = 1.0 / z
    for k in range(1, n - 1):  # fan (0, k, k + 1): at most two triangles
        _draw_triangle(
            poly[0, 0], poly[0, 1], poly[0, 2], poly[0, 3],
            poly[k, 0], poly[k, 1], poly[k, 2], poly[k, 3],
            poly[k + 1, 0], poly[k + 1, 1], poly[k + 1, 2], poly[k + 1, 3],
            fid, cull, zbuf, fbuf,
        )


@njit(cache=True)
def _project(verts, rot, trans, intr, cam, scr):
    """Camera coordinates ``cam`` (V, 3) and screen (u, v, 1/z, z) ``scr`` (V, 4) of world vertices."""
    fx, fy, cx, cy = intr[0], intr[1], intr[2], intr[3]
    for v in range(verts.shape[0]):
        x, y, z = verts[v, 0], verts[v, 1], verts[v, 2]
        xc = rot[0, 0] * x + rot[0, 1] * y + rot[0, 2] * z + trans[0]
        yc = rot[1, 0] * x + rot[1, 1] * y + rot[1, 2] * z + trans[1]
        zc = rot[2, 0] * x + rot[2, 1] * y + rot[2, 2] * z + trans[2]
        cam[v, 0], cam[v, 1], cam[v, 2] = xc, yc, zc
        iz = 1.0 / zc if zc > 0.0 else 0.0
        scr[v, 0] = fx * xc * iz + cx
        scr[v, 1] = fy * yc * iz + cy
        scr[v, 2] = iz
        scr[v, 3] = zc


@njit(cache=True, error_model="numpy")
def _raster_faces(cam, scr, faces, f0, f1, intr, znear, zfar, cull, zbuf, fbuf):
    """Draw faces ``f0 .. f1 - 1`` of one view into ``zbuf`` / ``fbuf``."""
    nv = float(cam.shape[0])
    tri = np.empty((3, 4))
    poly = np.empty((4, 4))
    for f in range(f0, f1):
        ia, ib, ic = faces[f, 0], faces[f, 1], faces[f, 2]
        za, zb, zc = scr[ia, 3], scr[ib, 3], scr[ic, 3]
        if za > zfar and zb > zfar and zc > zfar:
            continue
        if za >= znear and zb >= znear and zc >= znear:
            _draw_triangle(
                scr[ia, 0], scr[ia, 1], scr[ia, 2], float(ia),
                scr[ib, 0], scr[ib, 1], scr[ib, 2], float(ib),
                scr[ic, 0], scr[ic, 1], scr[ic, 2], float(ic),
                f, cull, zbuf, fbuf,
            )
        elif za >= znear or zb >= znear or zc >= znear:
            for k in range(3):
                vi = faces[f, k]
                tri[k, 0], tri[k, 1], tri[k, 2], tri[k, 3] = cam[vi, 0], cam[vi, 1], cam[vi, 2], float(vi)
            _draw_clipped(tri, znear, intr[0], intr[1], intr[2], intr[3], nv, f, cull, zbuf, fbuf, poly)


@njit(cache=True, parallel=True)
def _raster_views(verts, faces, rots, trans, intr, near, far, cull, zbuf, fbuf):
    """One view per thread: fills zbuf (B, H, W) 1/z and fbuf (B, H, W) face ids."""
    nb = rots.shape[0]
    nv = verts.shape[0]
    for b in prange(nb):
        cam = np.empty((nv, 3))
        scr = np.empty((nv, 4))
        _project(verts, rots[b], trans[b], intr[b], cam, scr)
        zbuf[b, :, :] = 1.0 / far[b]
        fbuf[b, :, :] = -1
        _raster_faces(cam, scr, faces, 0, faces.shape[0], intr[b], near[b], far[b], cull, zbuf[b], fbuf[b])


@njit(cache=True, parallel=True)
def _raster_one_view_chunked(verts, faces, rot, trans, intr, znear, zfar, cull, nchunks, zbuf, fbuf):
    """One view, faces split into ``nchunks`` contiguous chunks drawn in parallel, then merged."""
    nv = verts.shape[0]
    nf = faces.shape[0]
    h, w = zbuf.shape
    cam = np.empty((nv, 3))
    scr = np.empty((nv, 4))
    _project(verts, rot, trans, intr, cam, scr)  # cheap; a parallel region costs more on a busy machine
    zs = np.empty((nchunks, h, w))
    fs = np.empty((nchunks, h, w), dtype=np.int32)
    per = (nf + nchunks - 1) // nchunks
    for c in prange(nchunks):
        zs[c, :, :] = 1.0 / zfar
        fs[c, :, :] = -1
        lo, hi = c * per, min(nf, (c + 1) * per)
        _raster_faces(cam, scr, faces, lo, hi, intr, znear, zfar, cull, zs[c], fs[c])
    # Chunks hold increasing face ids, so "strictly nearer" keeps the smaller id on ties.
    for i in prange(h):
        for j in range(w):
            bz, bf = zs[0, i, j], fs[0, i, j]
            for c in range(1, nchunks):
                if zs[c, i, j] > bz:
                    bz, bf = zs[c, i, j], fs[c, i, j]
            zbuf[i, j] = bz
            fbuf[i, j] = bf


@njit(cache=True, parallel=True)
def _resolve(verts, faces, rots, trans, intr, zbuf, fbuf, want_bary, depth, bary):
    """Depth from the z-buffer and perspective-correct barycentrics from the ray through each pixel."""
    nb, h, w = fbuf.shape
    for bi in prange(nb * h):
        b = bi // h
        i = bi % h
        r = rots[b]
        t = trans[b]
        fx, fy, cx, cy = intr[b, 0], intr[b, 1], intr[b, 2], intr[b, 3]
        dy = (i + 0.5 - cy) / fy
        for j in range(w):
            f = fbuf[b, i, j]
            if f < 0:
                depth[b, i, j] = np.inf
                if want_bary:
                    bary[b, i, j, 0] = 0.0
                    bary[b, i, j, 1] = 0.0
                    bary[b, i, j, 2] = 0.0
                continue
            depth[b, i, j] = 1.0 / zbuf[b, i, j]
            if not want_bary:
                continue
            dx = (j + 0.5 - cx) / fx
            ia, ib, ic = faces[f, 0], faces[f, 1], faces[f, 2]
            ax, ay, az = _to_cam(verts, ia, r, t)
            bx, by, bz = _to_cam(verts, ib, r, t)
            qx, qy, qz = _to_cam(verts, ic, r, t)
            # w_k is proportional to det[d, V_k+1, V_k+2] (signed volume with the camera centre).
            w0 = _det_ray(dx, dy, bx, by, bz, qx, qy, qz)
            w1 = _det_ray(dx, dy, qx, qy, qz, ax, ay, az)
            w2 = _det_ray(dx, dy, ax, ay, az, bx, by, bz)
            s = w0 + w1 + w2
            bary[b, i, j, 0] = w0 / s
            bary[b, i, j, 1] = w1 / s
            bary[b, i, j, 2] = w2 / s


@njit(cache=True, inline="always")
def _to_cam(verts, v, r, t):
    x, y, z = verts[v, 0], verts[v, 1], verts[v, 2]
    return (
        r[0, 0] * x + r[0, 1] * y + r[0, 2] * z + t[0],
        r[1, 0] * x + r[1, 1] * y + r[1, 2] * z + t[1],
        r[2, 0] * x + r[2, 1] * y + r[2, 2] * z + t[2],
    )


@njit(cache=True, inline="always")
def _det_ray(dx, dy, px, py, pz, qx, qy, qz):
    """det[d, p, q] for the ray direction d = (dx, dy, 1)."""
    return dx * (py * qz - pz * qy) + dy * (pz * qx - px * qz) + (px * qy - py * qx)


# ---------------------------------------------------------------------------------- public API
def _as_mesh_arrays(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(vertices)
    f = np.asarray(faces)
    if v.ndim != 2 or v.shape[1] != 3:
        raise InvalidGeometryError(f"rasterize: vertices must have shape (V, 3), got {v.shape}")
    if f.ndim != 2 or f.shape[1] != 3:
        raise InvalidGeometryError(f"rasterize: faces must have shape (F, 3), got {f.shape}")
    v = np.ascontiguousarray(v, dtype=np.float64)
    if not np.isfinite(v).all():
        raise InvalidGeometryError("rasterize: vertices contain NaN/Inf")
    f = np.ascontiguousarray(f, dtype=np.int64)
    if f.size and (f.min() < 0 or f.max() >= len(v)):
        raise InvalidGeometryError(f"rasterize: face indices must lie in [0, {len(v) - 1}]")
    return v, f


def _thread_count(num_threads: int | None) -> int:
    if num_threads is None:
        return numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # set by numba at import
    return max(1, min(int(num_threads), numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]  # set by numba at import


def rasterize(
    vertices: np.ndarray,
    faces: np.ndarray,
    cameras: Sequence[Camera] | Camera,
    cull_backfaces: bool = False,
    num_threads: int | None = None,
    with_bary: bool = True,
) -> Fragments:
    """Rasterise a triangle mesh into a batch of views (rules in the module docstring).

    Args:
        vertices: (V, 3) world coordinates (any float dtype; computed in float64).
        faces: (F, 3) integer vertex indices, counter-clockwise seen from outside.
        cameras: one camera or a sequence of ``B`` cameras sharing one image size.
        cull_backfaces: drop triangles facing away from the camera.
        num_threads: numba threads (default: all); views are spread over threads, a single view is
            split into face chunks drawn in parallel and merged.
        with_bary: also compute barycentrics (``Fragments.bary`` is None otherwise).

    Returns:
        :class:`Fragments` with (B, H, W) face ids, depth and (B, H, W, 3) barycentrics.
    """
    if isinstance(cameras, Camera):
        cameras = [cameras]
    v, f = _as_mesh_arrays(vertices, faces)
    st = stack_cameras(list(cameras))
    h, w = (int(x) for x in st["size"])
    nb = len(cameras)
    nthreads = _thread_count(num_threads)
    zbuf = np.empty((nb, h, w))
    fbuf = np.empty((nb, h, w), dtype=np.int32)
    start_numba_threads()
    prev = numba.get_num_threads()
    numba.set_num_threads(nthreads)
    try:
        if len(f) == 0:
            zbuf[...] = 0.0
            fbuf[...] = -1
        elif nb >= nthreads or nthreads == 1:
            _raster_views(v, f, st["R"], st["t"], st["intr"], st["near"], st["far"], cull_backfaces, zbuf, fbuf)
        else:
            for b in range(nb):
                _raster_one_view_chunked(
                    v, f, st["R"][b], st["t"][b], st["intr"][b], st["near"][b], st["far"][b],
                    cull_backfaces, nthreads, zbuf[b], fbuf[b],
                )
        depth = np.empty((nb, h, w), dtype=np.float32)
        bary = np.empty((nb, h, w, 3), dtype=np.float32) if with_bary else np.empty((1, 1, 1, 3), np.float32)
        _resolve(v, f, st["R"], st["t"], st["intr"], zbuf, fbuf, with_bary, depth, bary)
    finally:
        numba.set_num_threads(prev)
    return Fragments(face_ids=fbuf, bary=bary if with_bary else None, depth=depth)
