"""Build data/reference/esp_b3lyp.npz (+ .json): DFT ESP, ESP-fitted charges, dipoles and Mulliken charges of
the molecules in :data:`xatom.reference.esp.MOLECULES` at QM9's level (B3LYP/6-31G(2df,p)) and geometry.

Needs PySCF (``pip install -e .[dft]``). One molecule at a time, each cached in ``--cache`` as soon as it is
done, so an interrupted build continues where it stopped (a cache made under other settings is recomputed).
The notebooks and tests only read the shipped file.

    OMP_NUM_THREADS=1 nice -n 10 python tools/build_esp_reference.py --cache /tmp/xatom-dft
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="folder for one .npz per finished molecule")
    parser.add_argument("--out", type=Path, default=None, help="reference .npz to write (default: the shipped one)")
    parser.add_argument("--only", nargs="+", default=None, help="compute these molecules only (no file written)")
    parser.add_argument("--threads", type=int, default=1, help="PySCF threads (default 1)")
    args = parser.parse_args(argv)

    import pyscf
    from pyscf import lib
    from pyscf.dft import libxc

    from xatom.data import load_qm9
    from xatom.reference import esp as ref

    lib.num_threads(args.threads)
    out = args.out or ref.REFERENCE_FILE
    names = args.only or list(ref.MOLECULES)
    unknown = [n for n in names if n not in ref.MOLECULES]
    if unknown:
        parser.error(f"unknown molecules {unknown}; known: {list(ref.MOLECULES)}")
    settings = ref.settings()
    args.cache.mkdir(parents=True, exist_ok=True)
    data = load_qm9()
    results, facts = {}, {}
    for name in names:
        row = data.find_smiles(ref.MOLECULES[name])
        mol = data.molecule(row)
        cache = args.cache / f"{name}.npz"
        cached = None
        if cache.is_file():
            with np.load(cache) as z:
                if json.loads(str(z["settings"])) == settings and np.array_equal(z["positions"], mol.positions):
                    cached = {k: z[k] for k in z.files}
        if cached is None:
            print(f"{name} (QM9 {data.index[row]}, {mol.n_atoms} atoms) ...", flush=True)
            res = ref.compute_molecule(mol)
            res.update(numbers=mol.numbers, positions=mol.positions, settings=json.dumps(settings))
            np.savez(cache, **res)
            cached = {k: np.asarray(v) for k, v in res.items()}
        a, b = data.offsets[row], data.offsets[row + 1]
        dipole = float(np.linalg.norm(cached["dipole_debye"]))
        mulliken_gap = float(np.abs(cached["mulliken_e"] - data.mulliken_e[a:b]).max())
        print(f"{name:18s} QM9 {int(data.index[row]):6d}  {float(cached['seconds']):7.1f} s  "
              f"{len(cached['points']):5d} points  |µ| {dipole:.4f} D (QM9 {data.dipole_debye[row]:.4f})  "
              f"max |Δq Mulliken| {mulliken_gap:.4f} e", flush=True)
        results[name] = cached
        facts[name] = {"smiles": ref.MOLECULES[name], "qm9_index": int(data.index[row]), "n_atoms": mol.n_atoms,
                       "n_points": int(len(cached["points"])), "energy_hartree": float(cached["energy_hartree"]),
                       "dipole_debye": round(dipole, 5), "qm9_dipole_debye": float(data.dipole_debye[row]),
                       "max_abs_mulliken_difference_e": round(mulliken_gap, 5),
                       "scf_cycles": int(cached["scf_cycles"]), "seconds": round(float(cached["seconds"]), 1)}
    if args.only:
        return 0
    meta = {"command": "OMP_NUM_THREADS=1 nice -n 10 python tools/build_esp_reference.py --cache <folder>",
            "built": time.strftime("%Y-%m-%d"), "pyscf_version": pyscf.__version__,
            "libxc_version": libxc.libxc_version(), "threads": args.threads,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), **settings,
            "geometry": "QM9's (xatom.data.load_qm9 positions, Å)", "molecules": facts}
    out.parent.mkdir(parents=True, exist_ok=True)
    for path in ref.save_reference(out, results, meta):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
