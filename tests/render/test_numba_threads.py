"""numba's thread pool must not undo torch.set_num_threads (they share the OpenMP runtime)."""

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import numpy as np, torch
    torch.set_num_threads(1)
    torch.__config__.parallel_info()  # torch has started its own threads, as in a real session
    from partlift.render.camera import Camera
    from partlift.render.{module} import {call}
    cam = Camera.look_at(azimuth=20.0, elevation=10.0, distance=2.2, fov=60.0, width=32, height=32, degrees=True)
    {run}
    omp = [l for l in torch.__config__.parallel_info().splitlines() if "omp_get_max_threads" in l]
    print(torch.get_num_threads(), omp[0].split(":")[-1].strip() if omp else "1")
    """
)

RUNS = {
    "splat": ("splat_points", "splat_points(np.random.rand(50, 3) - 0.5, None, [cam], radius_px=2.0, num_threads=1)"),
    "rasterize": ("rasterize", "rasterize(np.random.rand(3, 3) - 0.5, np.array([[0, 1, 2]]), [cam])"),
}


@pytest.mark.parametrize("module", sorted(RUNS))
def test_first_numba_launch_keeps_torch_threads(module):
    call, run = RUNS[module]
    env = dict(os.environ, NUMBA_NUM_THREADS="2", OMP_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(module=module, call=call, run=run)],
                         capture_output=True, text=True, env=env, check=True)
    torch_threads, omp_threads = out.stdout.split()
    assert (torch_threads, omp_threads) == ("1", "1"), out.stdout
