"""Grid timings of the probe-atom local chemical potential Ω_C(r) (issue targets on 2 CPU cores):
a 100 × 100 cut plane around a 20-atom molecule in ≤ 1 s, a 3D grid of ~10⁵ points in ≤ 15 s, and the
speed-up over evaluating one point at a time (≥ 50×). Also times the ESP of latent charges on the same grid.

    python benchmarks/probe_grid.py [--threads 2]
"""
import argparse
import os
import time

import numpy as np
import torch

from xatom import zoo
from xatom.analysis.esp import electrostatic_potential
from xatom.analysis.grids import box_grid, molecular_plane
from xatom.analysis.probe import LocalChemicalPotential
from xatom.data import load_qm9
from xatom.inference import latent_values
from qm9_cache import cpu_name


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--loop-points", type=int, default=300, help="points timed one at a time")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_qm9()
    row = int(np.where(data.n_atoms == 20)[0][0])
    molecule = data.molecule(row)
    model = zoo.load("schnet-energy")
    print(f"machine: {cpu_name()}, {args.threads} torch thread(s), load average {os.getloadavg()[0]:.2f}")
    print(f"molecule: {molecule.name} ({molecule.n_atoms} atoms), model: shipped schnet-energy fold 0")

    setup = best_of(lambda: LocalChemicalPotential(model, molecule))
    lcp = LocalChemicalPotential(model, molecule)
    plane = molecular_plane(molecule.positions, n=100).points()
    box = box_grid(molecule.positions, spacing=0.22, margin=3.0)
    points3d = box.points()
    lcp(plane[:1000])  # warm-up (kernel load, allocator)
    t_plane = best_of(lambda: lcp(plane))
    t_box = best_of(lambda: lcp(points3d), repeat=1)

    few = plane[:: max(1, len(plane) // args.loop_points)][: args.loop_points]
    one_by_one = LocalChemicalPotential(model, molecule, chunk_size=1)
    t_loop = best_of(lambda: one_by_one(few), repeat=1) / len(few)

    def naive(points):  # what a first implementation does: the whole model again for every point
        for p in points:
            LocalChemicalPotential(model, molecule, chunk_size=1)(p[None])

    t_naive = best_of(lambda: naive(few[:100]), repeat=1) / 100
    charges = latent_values(zoo.load("schnet-dipole"), molecule)
    t_esp = best_of(lambda: electrostatic_potential(points3d, molecule.positions, charges))

    n_plane, n_box = len(plane), len(points3d)
    print(f"\n{'task':46s} {'seconds':>9s} {'points/s':>11s}  target")
    print(f"{'molecule layers (once per molecule)':46s} {setup:9.4f}")
    print(f"{'Ω plane 100×100':46s} {t_plane:9.3f} {n_plane / t_plane:11,.0f}  ≤ 1 s")
    print(f"{f'Ω 3D grid {box.shape} = {n_box:,} points':46s} {t_box:9.3f} {n_box / t_box:11,.0f}  ≤ 15 s")
    print(f"{'Ω one point at a time (layers cached)':46s} {t_loop:9.5f} {1 / t_loop:11,.0f}  per point")
    print(f"{'Ω one point at a time (whole model per point)':46s} {t_naive:9.5f} {1 / t_naive:11,.0f}  per point")
    print(f"{'ESP of latent charges, same 3D grid':46s} {t_esp:9.3f} {n_box / t_esp:11,.0f}")
    batched = t_plane / n_plane
    print(f"\nspeed-up of batched grids over one point at a time: {t_loop / batched:,.0f}× (layers cached), "
          f"{t_naive / batched:,.0f}× (whole model per point); target ≥ 50×")


if __name__ == "__main__":
    main()
