#!/usr/bin/env python3
"""Co-exploration quality table from `examples/coexplore_quality.rs --csv` output(s).

usage: benches/coexplore_table.py RUNS.csv [MORE.csv ...]

Per setting, layer, strategy and budget: median and worst runtime over seeds, median area used
(share of the budget), median gap to the design's bound (ceil(MACs / its PEs)) and to the
parallelism bound at the PE limit. Then the issue's two checks: at the smallest budget the default
(islands) median is never worse than gamma's; at the largest, every seed within 1% of the best
design any run found for that setting and layer.
"""
import collections
import csv
import statistics as st
import sys

rows = [r for f in sys.argv[1:] for r in csv.DictReader(open(f))]
runs = collections.defaultdict(list)
best = collections.defaultdict(lambda: float("inf"))
for r in rows:
    k = (r["setting"], r["layer"], r["strategy"], int(r["budget"]))
    rt = int(r["runtime"])
    runs[k].append((rt, float(r["area_um2"]) / float(r["area_budget_um2"]), rt / int(r["design_bound"]) - 1,
                    rt / int(r["parallel_bound"]) - 1))
    best[(r["setting"], r["layer"])] = min(best[(r["setting"], r["layer"])], rt)
print("| setting | layer | strategy | budget | seeds | median runtime | worst runtime | worst over best known % "
      "| median budget used % | median gap to design bound % | median gap to parallelism bound % |")
print("|--|--|--|--|--|--|--|--|--|--|--|")
for k in sorted(runs):
    v = runs[k]
    rts = [x[0] for x in v]
    print(f"| {k[0]} | {k[1]} | {k[2]} | {k[3]:.0e} | {len(v)} | {st.median(rts):.0f} | {max(rts)} | "
          f"{100 * (max(rts) / best[k[:2]] - 1):.3f} | {100 * st.median(x[1] for x in v):.1f} | "
          f"{100 * st.median(x[2] for x in v):.3f} | {100 * st.median(x[3] for x in v):.3f} |")
budgets = sorted({k[3] for k in runs})
lo, hi = budgets[0], budgets[-1]
worse = [(k[0], k[1], st.median(x[0] for x in runs[k]) / st.median(x[0] for x in runs[(k[0], k[1], "gamma", lo)]))
         for k in runs if k[2] == "islands" and k[3] == lo and (k[0], k[1], "gamma", lo) in runs]
bad = [w for w in worse if w[2] > 1]
print()
print(f"- at {lo:.0e}: islands' median worse than gamma's on {len(bad)} of {len(worse)} (setting, layer) pairs"
      + (": " + ", ".join(f"{s} {l} ({100 * (x - 1):.2f}%)" for s, l, x in bad) if bad else ""))
for strat in ["islands", "gamma"]:
    far = [(k[0], k[1], max(x[0] for x in runs[k]) / best[k[:2]] - 1) for k in runs if k[2] == strat and k[3] == hi]
    over = [f for f in far if f[2] > 0.01]
    print(f"- at {hi:.0e}, {strat}: worst seed more than 1% above the best known on {len(over)} of {len(far)} pairs"
          + (": " + ", ".join(f"{s} {l} ({100 * x:.2f}%)" for s, l, x in over) if over else ""))
