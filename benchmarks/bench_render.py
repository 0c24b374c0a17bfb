"""Benchmark the CPU renderer: numba rasteriser vs trimesh/Embree ray casting, and torch interpolation.

Prints markdown tables (best-of-N wall-clock ms per frame) for docs/BENCHMARKS.md, "Rendering":

    .venv/bin/python benchmarks/bench_render.py            # full run (a few minutes)
    .venv/bin/python benchmarks/bench_render.py --quick    # smoke run (seconds)
"""

from __future__ import annotations

import os
import sys

# OpenMP threads (numba's omp layer and torch) spin-wait at barriers by default; on the shared 2-core
# machine that turns a 0.4 ms two-thread call into 25-40 ms (torch: 10 -> 150+ ms) whenever another
# process is busy. Must be set before numba/torch load their OpenMP runtimes; --omp-default skips it.
if "--omp-default" not in sys.argv:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import trimesh  # noqa: E402

from partlift.render import Camera, interpolate, rasterize  # noqa: E402


def best_ms(fn, repeats: int, warmup: int = 1) -> float:
    """Best-of-``repeats`` wall-clock ms: the machine is shared, and the minimum is the figure least
    disturbed by other processes (the median is printed by ``--median``)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * (statistics.median(times) if MEDIAN else min(times))


MEDIAN = False


def meshes(quick: bool) -> dict[str, trimesh.Trimesh]:
    out = {
        "icosphere": trimesh.creation.icosphere(subdivisions=3),  # 1,280 faces
        "uv-sphere": trimesh.creation.uv_sphere(count=[50, 51]),  # ~10k faces
        "icosphere ": trimesh.creation.icosphere(subdivisions=5),  # 20,480 faces: the 2 ms target
    }
    if not quick:
        out["uv-sphere "] = trimesh.creation.uv_sphere(count=[158, 159])  # ~100k faces
        spec = importlib.util.find_spec("pymeshfix")
        if spec is not None and spec.origin is not None:
            path = os.path.join(os.path.dirname(spec.origin), "examples", "StanfordBunny.ply")
            if os.path.exists(path):
                m = trimesh.load(path, process=False)
                v = m.vertices - m.bounds.mean(axis=0)
                out["bunny (pymeshfix)"] = trimesh.Trimesh(v / np.abs(v).max(), m.faces, process=False)
    return out


def embree_frame(mesh: trimesh.Trimesh, cam: Camera):
    jj, ii = np.meshgrid(np.arange(cam.width) + 0.5, np.arange(cam.height) + 0.5)
    d = np.stack([(jj - cam.cx) / cam.fx, (ii - cam.cy) / cam.fy, np.ones_like(jj)], axis=-1).reshape(-1, 3)
    d_world = d @ cam.rotation
    origins = np.repeat(cam.center[None], len(d), axis=0)
    return mesh.ray.intersects_location(origins, d_world, multiple_hits=False)


def bench_raster(quick: bool, repeats: int) -> list[str]:
    sizes = (128, 256) if quick else (128, 256, 512)
    reps = 5 if quick else repeats
    rows = [
        "| mesh | faces | px | 1 view, 1 thread | 1 view, 2 threads | 8 views, 1 thread | 8 views, 2 threads "
        "| + barycentrics (1 view, 1 thr) | Embree ray cast (1 view) | Embree / numba (1 thr) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(rows), flush=True)
    for name, mesh in meshes(quick).items():
        v, f = np.asarray(mesh.vertices), np.asarray(mesh.faces)
        for px in sizes:
            cams = [Camera.look_at(azimuth=30 + 45 * k, elevation=20, distance=2.5, fov=60,
                                   width=px, height=px, degrees=True) for k in range(8)]

            def run(nviews, nthreads, bary=False, cams=cams, v=v, f=f):
                return lambda: rasterize(v, f, cams[:nviews], num_threads=nthreads, with_bary=bary)

            t11 = best_ms(run(1, 1), reps)
            t12 = best_ms(run(1, 2), reps)
            t81 = best_ms(run(8, 1), max(2, reps // 4)) / 8
            t82 = best_ms(run(8, 2), max(2, reps // 4)) / 8
            tb = best_ms(run(1, 1, True), reps)
            if trimesh.ray.has_embree:
                te = best_ms(lambda mesh=mesh, cams=cams: embree_frame(mesh, cams[0]), max(2, reps // 5))
                te_s, ratio = f"{te:.1f}", f"{te / t11:.0f}x"
            else:
                te_s, ratio = "n/a (no embreex)", "-"
            rows.append(
                f"| {name.strip()} | {len(f):,} | {px} | {t11:.2f} | {t12:.2f} | {t81:.2f} | {t82:.2f} | {tb:.2f} "
                f"| {te_s} | {ratio} |"
            )
            print(rows[-1], flush=True)
    return rows


def bench_interpolate(quick: bool, repeats: int) -> list[str]:
    mesh = trimesh.creation.icosphere(subdivisions=4)  # 5,120 faces
    cam = Camera.look_at(azimuth=30, elevation=20, distance=2.5, fov=60, width=64, height=64, degrees=True)
    fid = torch.from_numpy(rasterize(mesh.vertices, mesh.faces, [cam]).face_ids[0].astype(np.int64))
    faces = torch.from_numpy(np.asarray(mesh.faces))
    rows = ["| channels | covered px | torch threads | fwd + bwd ms |", "|---|---|---|---|"]
    print("\n".join(rows), flush=True)
    prev = torch.get_num_threads()
    for threads in (1, 2):
        torch.set_num_threads(threads)
        verts = torch.tensor(mesh.vertices, dtype=torch.float32, requires_grad=True)
        attr = torch.randn(len(mesh.vertices), 128, requires_grad=True)
        r = torch.tensor(cam.rotation, dtype=torch.float32, requires_grad=True)
        t = torch.tensor(cam.translation, dtype=torch.float32, requires_grad=True)
        k = torch.tensor([cam.fx, cam.fy, cam.cx, cam.cy], dtype=torch.float32)

        def step(verts=verts, attr=attr, r=r, t=t, k=k):
            out, _ = interpolate(fid, verts, faces, attr, r, t, k)
            out.square().mean().backward()

        ms = best_ms(step, 10 if quick else 2 * repeats, warmup=3)
        rows.append(f"| 128 | {(fid >= 0).sum().item():,} of 4,096 | {threads} | {ms:.2f} |")
        print(rows[-1], flush=True)
    torch.set_num_threads(prev)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer meshes, sizes and repeats")
    ap.add_argument("--median", action="store_true", help="report the median instead of the best of N runs")
    ap.add_argument("--repeats", type=int, default=20, help="timed runs per cell (full run)")
    ap.add_argument("--omp-default", action="store_true",
                    help="keep OpenMP's default (spinning) wait policy instead of OMP_WAIT_POLICY=PASSIVE")
    args = ap.parse_args()
    global MEDIAN
    MEDIAN = args.median
    # Compile (or load the cache) before timing.
    ico = trimesh.creation.icosphere(subdivisions=1)
    rasterize(ico.vertices, ico.faces, [Camera.look_at(azimuth=0, elevation=0, distance=3, width=16, height=16)] * 2)
    print(f"# {platform.processor() or platform.machine()}, numba {numba.__version__} "
          f"({numba.config.NUMBA_NUM_THREADS} threads, layer {numba.threading_layer()}), torch {torch.__version__}, "
          f"trimesh {trimesh.__version__}, embree {'yes' if trimesh.ray.has_embree else 'no'}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, load average {os.getloadavg()[0]:.1f}")
    stat = "median" if MEDIAN else "best-of-N"
    print(f"\nFace id + depth ({stat} ms per frame; camera at distance 2.5, fov 60, object fills ~45 % of the image)")
    bench_raster(args.quick, args.repeats)
    print("\nDifferentiable interpolation, 64 x 64 map, forward + backward (vertices, pose, attributes)")
    bench_interpolate(args.quick, args.repeats)


if __name__ == "__main__":
    main()
