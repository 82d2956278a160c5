"""Rate of gammaflow.evaluate_array against the Rust packed API (Evaluator::evaluate_packed +
from_packed) on the same 1e6 random 2-level genomes, in one run, with the peak memory of each
(measured in a child process per path).

    python examples/python_rate.py [--n 1000000] [--backend auto] [--repeat 3]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

import gammaflow
from gammaflow import _gammaflow

from python_million import random_genomes

LAYER = {"K": 64, "C": 64, "Y": 58, "X": 58, "R": 3, "S": 3, "T": 1}
HW = {"num_pe": 256, "l1_size": 512, "l2_size": 108_000}


def peak_mib():
    """Peak resident memory of this process (VmHWM; ru_maxrss would carry the parent's over exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(path, n, backend, repeat):
    # Filled in chunks, so that the generator's temporaries do not set the peak.
    rng = np.random.default_rng(0)
    genomes = np.empty((n, 2, 7, 2), dtype=np.int64)
    for i in range(0, n, 1 << 16):
        j = min(n, i + (1 << 16))
        genomes[i:j] = random_genomes(rng, j - i, LAYER, HW["num_pe"])
    base = peak_mib()
    best, pack = float("inf"), 0.0
    for _ in range(repeat):
        if path == "python":
            t = time.perf_counter()
            out = gammaflow.evaluate_array(LAYER, HW, genomes, backend=backend)
            dt = time.perf_counter() - t
            valid = int(out["valid_physical"].sum())
            del out
        else:
            # Evaluation only: packing (serial here, from the same array) is timed apart.
            dt, pack, valid = _gammaflow.rust_packed_seconds(json.dumps(LAYER), json.dumps(HW), genomes, backend)
        best = min(best, dt)
    return {"path": path, "rate": n / best, "seconds": best, "pack": pack, "valid": valid,
            "peak_mib": peak_mib(), "peak_over_inputs_mib": peak_mib() - base}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=["python", "rust"])
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run(a.child, a.n, a.backend, 1)))
        return
    print(f"backend: {gammaflow.backend_info(a.backend)['backend']}, {a.n} genomes, best of {a.repeat}")
    # Rates alternate in one process; peaks each come from a fresh child process.
    rust = run("rust", a.n, a.backend, a.repeat)
    py = run("python", a.n, a.backend, a.repeat)
    for r in (rust, py):
        child = json.loads(subprocess.run([sys.executable, __file__, "--child", r["path"], "--n", str(a.n),
                                           "--backend", a.backend], check=True, capture_output=True,
                                          text=True).stdout)
        print(f"{r['path']:>6}: {r['rate']:>12,.0f} mappings/s ({r['seconds']:.3f} s, {r['valid']} valid); "
              f"peak RSS {child['peak_mib']:.0f} MiB ({child['peak_over_inputs_mib']:.0f} MiB above the input genomes)")
    print(f"evaluate_array / Rust packed API: {py['rate'] / rust['rate']:.3f} "
          f"(the Rust path's serial packing, untimed there: {rust['pack']:.3f} s)")


if __name__ == "__main__":
    main()
