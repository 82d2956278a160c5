"""Evaluates a million random 2-level mappings of one layer with numpy through
gammaflow.evaluate_array, prints the rate, and plots latency against energy (with matplotlib,
if it is installed).

    pip install ./python            # from the repository root
    python examples/python_million.py [--n 1000000] [--backend auto] [--plot latency_energy.png]
"""

import argparse
import time

import numpy as np

import gammaflow


def random_genomes(rng, n, layer, num_pe):
    """n random 2-level genomes, shape (n, 2, 7, 2): random loop orders, parallel dims among
    K C Y X, outer tiles up to the dims, inner tiles up to the outer ones, and an inner cluster
    size up to the PE count."""
    dims = np.array([layer[d] for d in gammaflow.DIMS], dtype=np.int64)
    # Y and X tiles are output-centric: at most the output size.
    dims[2] -= layer["R"] - 1
    dims[3] -= layer["S"] - 1
    outer = rng.integers(1, dims + 1, size=(n, 6))
    inner = 1 + (rng.random((n, 6)) * outer).astype(np.int64)
    g = np.empty((n, 2, 7, 2), dtype=np.int64)
    for lvl, tiles in enumerate((outer, inner)):
        order = np.argsort(rng.random((n, 6)), axis=1)
        g[:, lvl, 0, 0] = rng.integers(0, 4, size=n)
        g[:, lvl, 1:, 0] = order
        g[:, lvl, 1:, 1] = np.take_along_axis(tiles, order, axis=1)
    g[:, 0, 0, 1] = 1
    g[:, 1, 0, 1] = rng.integers(1, num_pe + 1, size=n)
    return g


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--backend", default="auto", choices=["auto", "cpu", "gpu"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default="latency_energy.png")
    a = ap.parse_args()

    layer = {"K": 64, "C": 64, "Y": 58, "X": 58, "R": 3, "S": 3, "T": 1}  # a ResNet-18 3x3 layer
    hw = {"num_pe": 256, "l1_size": 512, "l2_size": 108_000}
    rng = np.random.default_rng(a.seed)
    genomes = random_genomes(rng, a.n, layer, hw["num_pe"])
    print(f"backend: {gammaflow.backend_info(a.backend)['backend']}")

    t = time.perf_counter()
    out = gammaflow.evaluate_array(layer, hw, genomes, backend=a.backend)
    dt = time.perf_counter() - t
    ok = out["valid_physical"]
    print(f"evaluated {a.n} mappings in {dt:.2f} s: {a.n / dt:,.0f} mappings/s")
    print(f"valid (physically): {ok.sum()}, crashed: {(out['crash'] != 0).sum()}")
    if ok.any():
        best = np.flatnonzero(ok)[np.argmin(out["runtime_cycles"][ok])]
        print(f"fastest valid: {out['runtime_cycles'][best]} cycles, {out['energy_nJ'][best]:.4g} nJ, genome")
        print(genomes[best])

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(out["runtime_cycles"][ok], out["energy_nJ"][ok], s=1, alpha=0.3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("latency (cycles)")
    ax.set_ylabel("energy (nJ)")
    ax.set_title(f"{ok.sum():,} valid of {a.n:,} random mappings")
    fig.tight_layout()
    fig.savefig(a.plot, dpi=120)
    print(f"plot written to {a.plot}")


if __name__ == "__main__":
    main()
