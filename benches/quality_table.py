#!/usr/bin/env python3
"""Summarise examples/search_quality's CSV: per layer, strategy and budget, the median and worst
gap to the compute bound and to the best runtime any run found, the median energy of the best
mapping, and the budget checks of the search-engine issue.

  cargo run --release --example search_quality -- --budgets 1e4,1e5,1e6 --seeds 10 --csv q.csv
  python3 benches/quality_table.py q.csv [old.csv]

old.csv (optional): set,layer,seed,runtime,energy rows of another engine at one budget, to
compare energies (the ratio of medians is printed per layer)."""
import csv
import statistics as st
import sys
from collections import defaultdict

rows = list(csv.DictReader(open(sys.argv[1])))
best = defaultdict(lambda: float("inf"))
for r in rows:
    rt = int(r["runtime"])
    if rt > 0:
        best[(r["set"], r["layer"])] = min(best[(r["set"], r["layer"])], rt)
groups = defaultdict(list)
for r in rows:
    groups[(r["set"], r["layer"], r["strategy"], int(r["budget"]))].append(r)
old = defaultdict(list)
if len(sys.argv) > 2:
    for r in csv.DictReader(open(sys.argv[2])):
        if r.get("set") and r["set"] != "done":
            old[(r["set"], r["layer"])].append(float(r["energy"]))

print("| set | layer | strategy | budget | median gap % | worst gap % | worst over best known % | median energy nJ |")
print("|--|--|--|--|--|--|--|--|")
summary = defaultdict(list)
for key in sorted(groups, key=lambda k: (k[0], k[2], k[3], k[1])):
    s, layer, strat, budget = key
    g = groups[key]
    gaps = sorted(float(r["gap"]) * 100 for r in g)
    over = max((int(r["runtime"]) / best[(s, layer)] - 1) * 100 for r in g)
    en = st.median(float(r["energy_nJ"]) for r in g)
    med = st.median(gaps)
    print(f"| {s} | {layer} | {strat} | {budget:.0e} | {med:.4f} | {gaps[-1]:.4f} | {over:.4f} | {en:.4e} |")
    summary[(s, strat, budget)].append((layer, med, gaps[-1], over, en))

print()
print("| set | strategy | budget | layers | max median gap % | layers with median gap > 0.2% | max worst over best known % |")
print("|--|--|--|--|--|--|--|")
for (s, strat, budget), v in sorted(summary.items()):
    print(f"| {s} | {strat} | {budget:.0e} | {len(v)} | {max(x[1] for x in v):.4f} | {sum(x[1] > 0.2 for x in v)} | {max(x[3] for x in v):.4f} |")

# The median never gets worse with a larger budget (per set, strategy, layer).
worse = []
for (s, strat, budget), v in summary.items():
    for (layer, med, *_rest) in v:
        for (s2, strat2, b2), v2 in summary.items():
            if s2 == s and strat2 == strat and b2 > budget:
                for (l2, m2, *_r) in v2:
                    if l2 == layer and m2 > med + 1e-9:
                        worse.append(f"{s} {layer} {strat}: {budget:.0e} {med:.4f}% -> {b2:.0e} {m2:.4f}%")
print()
print("median worse at a larger budget:", "none" if not worse else "; ".join(sorted(worse)))

if old:
    print()
    print("| set | layer | median energy, this engine (islands, 1e6) | median energy, other engine | ratio |")
    print("|--|--|--|--|--|")
    ratios = []
    for (s, strat, budget), v in sorted(summary.items()):
        if strat != "islands" or budget != 1_000_000:
            continue
        for (layer, _m, _w, _o, en) in v:
            if (s, layer) in old:
                o = st.median(old[(s, layer)])
                ratios.append(en / o)
                print(f"| {s} | {layer} | {en:.4e} | {o:.4e} | {en / o:.2f} |")
    if ratios:
        print(f"\nenergy ratio: median {st.median(ratios):.2f}, max {max(ratios):.2f} over {len(ratios)} layers")
