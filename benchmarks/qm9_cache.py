"""QM9 cache timing: build from qm9pack's CSVs (target ≤ 60 s) and reload (target ≤ 2 s) on this machine.

    python benchmarks/qm9_cache.py            # uses a fresh temporary cache folder
"""
import platform
import tempfile
import time
from pathlib import Path

from xatom.data.qm9 import load_qm9


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        data = load_qm9(cache_dir=folder)
        build = time.perf_counter() - t0
        reloads = []
        for _ in range(3):
            t0 = time.perf_counter()
            load_qm9(cache_dir=folder)
            reloads.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        load_qm9(cache_dir=folder, verify=False)
        unverified = time.perf_counter() - t0
    print(f"machine: {cpu_name()}")
    print(f"molecules: {len(data):,}  atoms: {data.numbers.size:,}  rejected rows: {len(data.rejected)}")
    print(f"build from CSV : {build:6.2f} s   (target ≤ 60 s)")
    print(f"reload         : {min(reloads):6.3f} s   (best of 3, content hash verified; target ≤ 2 s)")
    print(f"reload, no hash: {unverified:6.3f} s")


if __name__ == "__main__":
    main()
