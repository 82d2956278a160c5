#!/usr/bin/env python3
"""Energy of the best mapping against the previous engine, at several --f1-tolerance values,
and against the lowest energy an energy-first search finds at any latency.

usage: benches/energy_table.py PARETO.csv PREVIOUS.csv ENERGY_FIRST.csv

PARETO.csv: `search_quality --pareto-csv` (latency then energy); the pick at tolerance T is the
lowest energy on a run's front among the mappings within (1 + T) x its fastest, which is what
`--f1-tolerance T` reports (the archive keeps every member of that band). PREVIOUS.csv: set,
layer, seed, runtime, energy of the previous engine. ENERGY_FIRST.csv: `search_quality
--fitness1 energy --fitness2 latency --csv`.
"""
import collections
import csv
import statistics as st
import sys

TOLS = [0, 1e-5, 1e-4, 1e-3]


def main(pareto, previous, efirst):
    old = collections.defaultdict(list)
    for r in csv.DictReader(open(previous)):
        old[(r["set"], r["layer"])].append(float(r["energy"]))
    floor = collections.defaultdict(lambda: float("inf"))
    for r in csv.DictReader(open(efirst)):
        k = (r["set"], r["layer"])
        floor[k] = min(floor[k], float(r["energy_nJ"]))
    fronts = collections.defaultdict(list)
    for r in csv.DictReader(open(pareto)):
        fronts[(r["set"], r["layer"], r["seed"])].append((float(r["fitness1"]), float(r["fitness2"])))
    best_known = collections.defaultdict(lambda: float("inf"))
    for (s, l, _), f in fronts.items():
        best_known[(s, l)] = min(best_known[(s, l)], min(x[0] for x in f))
    picks = collections.defaultdict(lambda: collections.defaultdict(list))
    for (s, l, _), f in fronts.items():
        f.sort()
        for t in TOLS:
            p = [x for x in f if x[0] <= f[0][0] * (1 + t)][-1]
            picks[(s, l)][t].append(p)
    head = " | ".join(f"ratio at T={t:g}" for t in TOLS)
    print(f"| set | layer | previous engine median nJ | {head} | energy-first floor / previous |")
    print("|--|--|--|" + "--|" * len(TOLS) + "--|")
    ratios = {t: [] for t in TOLS}
    unreachable = 0
    for k in sorted(picks):
        om = st.median(old[k])
        cells = []
        for t in TOLS:
            r = st.median(p[1] for p in picks[k][t]) / om
            ratios[t].append(r)
            cells.append(f"{r:.2f}")
        fl = floor[k] / om
        unreachable += fl > 0.6
        print(f"| {k[0]} | {k[1]} | {om:.4g} | " + " | ".join(cells) + f" | {fl:.2f} |")
    print()
    for t in TOLS:
        r = sorted(ratios[t])
        spread = [max(p[1] for p in v[t]) / min(p[1] for p in v[t]) for v in picks.values()]
        slow = max(p[0] / best_known[k] - 1 for k, v in picks.items() for p in v[t])
        print(
            f"- T={t:g}: energy ratio median {st.median(r):.2f}, max {r[-1]:.2f}, "
            f"{sum(x <= 0.6 for x in r)} of {len(r)} layers at or below 0.6; energy spread over seeds "
            f"(max/min) median {st.median(spread):.2f}, max {max(spread):.2f}; worst runtime over best "
            f"known {100 * slow:.4f}%"
        )
    print(
        f"- {unreachable} of {len(picks)} layers: the lowest energy found at any latency (energy first) "
        "is above 0.6x the previous engine's median"
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
