"""Tests of the gammaflow Python package against MAESTRO's outputs (the dev oracle cases), the
`gammaflow` binary (eval and search), and its input checks.

The binary is target/release/gammaflow at the repository root (`cargo build --release`), or
$GAMMAFLOW_BIN.
"""

import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import gammaflow

ROOT = Path(__file__).resolve().parents[2]
CASES_FILE = ROOT / "tests" / "data" / "dev-cases.jsonl"
BIN = Path(os.environ.get("GAMMAFLOW_BIN", ROOT / "target" / "release" / "gammaflow"))
DIMS = "KCYXRS"
INT_FIELDS = [
    "runtime_cycles",
    "l1_size_req",
    "l2_size_req",
    "num_macs",
    *[f"l{lv}_{t}_{rw}" for lv in (1, 2) for t in ("input", "weight", "output") for rw in ("read", "write")],
]
FLOAT_FIELDS = ["throughput", "energy_nJ", "area", "power"]


@pytest.fixture(scope="module")
def cases():
    cs = [json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip()]
    assert len(cs) == 2500
    return cs


@pytest.fixture(scope="module")
def binary():
    assert BIN.is_file(), f"{BIN} missing: run `cargo build --release` at the repository root"
    return str(BIN)


def g6(x):
    """%.6g, as MAESTRO prints doubles."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return "%.6g" % x


def float_matches(got, want):
    if isinstance(want, str):
        return g6(float(got)) == want
    if g6(got) == g6(want):
        return True
    return abs(got - want) <= 6e-6 * abs(want)


def oracle_errors(case, got):
    """How `got` (an evaluate() result dict) differs from MAESTRO's outputs, as tests/oracle.rs
    compares them: crash, validity, error presence and counts exactly, floats to 6 digits."""
    exp = case["expect"]
    errs = []
    if exp["crash"] != got["crash"]:
        return [f"crash: want {exp['crash']}, got {got['crash']}"]
    for k in ("valid", "valid_physical", "expected_macs"):
        if exp[k] != got[k]:
            errs.append(f"{k}: want {exp[k]}, got {got[k]}")
    if (exp["error"] is None) != (got["error"] is None):
        errs.append(f"error: want {exp['error']!r}, got {got['error']!r}")
    if got["crash"]:
        return errs
    for k in INT_FIELDS:
        if exp[k] != got[k]:
            errs.append(f"{k}: want {exp[k]}, got {got[k]}")
    for k in FLOAT_FIELDS:
        g = got[k]
        g = float(g) if isinstance(g, str) else g
        if not float_matches(g, exp[k]):
            errs.append(f"{k}: want {exp[k]}, got {got[k]}")
    want = exp["area_gamma_external"]
    if abs(got["area_gamma_external"] - want) > 1e-12 * max(abs(want), 1.0):
        errs.append(f"area_gamma_external: want {want}, got {got['area_gamma_external']}")
    return errs


def genome_array(genome):
    """A case's gene list [["K", 16], ...] as a (levels, 7, 2) int64 array."""
    a = np.array([[DIMS.index(d), v] for d, v in genome], dtype=np.int64)
    return a.reshape(len(genome) // 7, 7, 2)


def hw_of(case):
    return {k: case[k] for k in ("num_pe", "l1_size", "l2_size", "noc_bw", "offchip_bw")}


# --- evaluate() ----------------------------------------------------------------------------


def test_evaluate_reproduces_the_oracle(cases):
    results = gammaflow.evaluate(cases, backend="cpu")
    assert len(results) == len(cases)
    failures = []
    for c, r in zip(cases, results):
        assert r["id"] == c["id"]
        errs = oracle_errors(c, r)
        if errs:
            failures.append(f"{c['id']}: {', '.join(errs)}")
    assert not failures, f"{len(failures)} cases differ from MAESTRO: {failures[:10]}"
    # The comparison sees both outcomes: crashes and valid mappings are both present.
    assert any(r["crash"] for r in results) and any(r["valid"] for r in results)


def test_oracle_check_can_fail(cases):
    r = gammaflow.evaluate(cases[:1], backend="cpu")[0]
    assert oracle_errors(cases[0], r) == []
    r["runtime_cycles"] += 1
    r["energy_nJ"] *= 1.0001
    assert len(oracle_errors(cases[0], r)) == 2


def test_evaluate_equals_the_cli_eval(cases, binary, tmp_path):
    out = tmp_path / "out.jsonl"
    subprocess.run([binary, "eval", "-i", str(CASES_FILE), "-o", str(out), "--backend", "cpu"], check=True)
    cli = [json.loads(line) for line in out.read_text().splitlines()]
    assert gammaflow.evaluate(cases, backend="cpu") == cli


def test_evaluate_auto_backend_equals_cpu(cases):
    assert gammaflow.evaluate(cases[:300]) == gammaflow.evaluate(cases[:300], backend="cpu")


def test_evaluate_defaults_and_numpy_values(cases):
    c = dict(cases[5])
    base = gammaflow.evaluate([c], backend="cpu")[0]
    c2 = {"layer": {k: np.int64(v) for k, v in c["layer"].items()}, "genome": c["genome"]}
    c2["num_pe"] = np.int64(c["num_pe"])
    for k in ("l1_size", "l2_size", "noc_bw", "offchip_bw"):
        if c[k] != -1:
            c2[k] = c[k]
    r = gammaflow.evaluate([c2], backend="cpu")[0]
    base.pop("id")
    assert r == base


# --- evaluate_array() ----------------------------------------------------------------------


def test_evaluate_array_reproduces_the_oracle_and_evaluate(cases):
    by_problem = {}
    for i, c in enumerate(cases):
        key = json.dumps([c["layer"], hw_of(c), len(c["genome"]) // 7], sort_keys=True)
        by_problem.setdefault(key, []).append(i)
    reference = gammaflow.evaluate(cases, backend="cpu")
    failures = []
    for idx in by_problem.values():
        c0 = cases[idx[0]]
        genomes = np.stack([genome_array(cases[i]["genome"]) for i in idx])
        out = gammaflow.evaluate_array(c0["layer"], hw_of(c0), genomes, backend="cpu")
        assert set(out) == set(gammaflow.ARRAY_FIELDS)
        for j, i in enumerate(idx):
            ref = reference[i]
            crash = int(out["crash"][j])
            got = {
                "crash": crash != 0,
                "valid": bool(out["valid"][j]),
                "valid_physical": bool(out["valid_physical"][j]),
                "expected_macs": int(out["expected_macs"][j]),
                # The array has no error text; evaluate()'s says whether there is one.
                "error": ref["error"],
            }
            if crash:
                assert all(math.isnan(out[k][j]) for k in FLOAT_FIELDS)
            else:
                got.update({k: int(out[k][j]) for k in INT_FIELDS})
                got.update({k: float(out[k][j]) for k in FLOAT_FIELDS})
                got["area_gamma_external"] = float(out["area_gamma_external"][j])
            errs = oracle_errors(cases[i], got)
            # Exactly evaluate()'s values, not only to 6 digits.
            for k, v in got.items():
                want = ref[k]
                if k in FLOAT_FIELDS and isinstance(want, str):
                    want = float(want)
                if not (v == want or (isinstance(v, float) and math.isnan(v) and math.isnan(want))):
                    errs.append(f"{k}: evaluate() {ref[k]}, evaluate_array {v}")
            if errs:
                failures.append(f"{cases[i]['id']}: {', '.join(errs)}")
    assert not failures, f"{len(failures)} cases differ: {failures[:10]}"


def test_evaluate_array_crash_codes(cases):
    crashed = [c for c in cases if c["expect"]["crash"]][:20]
    assert crashed
    for c in crashed:
        out = gammaflow.evaluate_array(c["layer"], hw_of(c), genome_array(c["genome"])[None], backend="cpu")
        assert out["crash"][0] in (1, 2, 3, 4)
        assert not out["valid"][0]


def test_evaluate_array_non_contiguous_and_auto(cases):
    c = cases[100]
    g = genome_array(c["genome"])
    many = np.stack([g] * 8)
    strided = np.stack([many, many], axis=1)[:, 0]  # not C-contiguous
    assert not strided.flags["C_CONTIGUOUS"]
    a = gammaflow.evaluate_array(c["layer"], hw_of(c), strided, backend="cpu")
    b = gammaflow.evaluate_array(c["layer"], hw_of(c), many)
    for k in gammaflow.ARRAY_FIELDS:
        np.testing.assert_array_equal(a[k], b[k])
    assert len(a["runtime_cycles"]) == 8


def test_evaluate_array_empty():
    layer = {"K": 4, "C": 4, "Y": 4, "X": 4, "R": 1, "S": 1, "T": 1}
    out = gammaflow.evaluate_array(layer, {"num_pe": 4}, np.zeros((0, 2, 7, 2), dtype=np.int64))
    assert all(len(v) == 0 for v in out.values())


# --- search() ------------------------------------------------------------------------------


def cli_search(binary, tmp_path, args):
    out = tmp_path / "out"
    subprocess.run([binary, "search", "--quiet", "--outdir", str(out), *args], check=True, capture_output=True)
    return json.loads((out / "results.json").read_text())


@pytest.mark.parametrize(
    "kwargs,args",
    [
        (
            dict(model="resnet18", layer=3, num_pe=64, max_evals=1500, seed=7, backend="cpu"),
            ["--model", "resnet18", "--layer", "3", "--num-pe", "64", "--max-evals", "1500", "--seed", "7", "--backend", "cpu"],
        ),
        (
            dict(model="vgg16", num_layers=2, num_pe=256, l1_size=512, l2_size=100000, strategy="gamma",
                 num_pop=20, epochs=5, fitness2="energy", seed=1, backend="cpu"),
            ["--model", "vgg16", "--num-layers", "2", "--num-pe", "256", "--l1-size", "512", "--l2-size", "100000",
             "--strategy", "gamma", "--num-pop", "20", "--epochs", "5", "--fitness2", "energy", "--seed", "1",
             "--backend", "cpu"],
        ),
        (
            dict(model="resnet18", layer=2, co_explore=True, pe_limit=256, area_budget=0.5, max_evals=1500,
                 seed=2, backend="cpu"),
            ["--model", "resnet18", "--layer", "2", "--co-explore", "--pe-limit", "256", "--area-budget", "0.5",
             "--max-evals", "1500", "--seed", "2", "--backend", "cpu"],
        ),
        (
            dict(model="resnet18", layer=5, num_pe=168, mapping_cstr="eyeriss", flex_class=1, max_evals=1000,
                 seed=4, backend="cpu"),
            ["--model", "resnet18", "--layer", "5", "--num-pe", "168", "--mapping-cstr", "eyeriss", "--flex-class",
             "1", "--max-evals", "1000", "--seed", "4", "--backend", "cpu"],
        ),
        (
            dict(model="resnet18", layer=3, co_explore=True, pe_limit=512, pe_draw="joint", f1_tolerance=0.0,
                 max_evals=1500, seed=3, backend="cpu"),
            ["--model", "resnet18", "--layer", "3", "--co-explore", "--pe-limit", "512", "--pe-draw", "joint",
             "--f1-tolerance", "0", "--max-evals", "1500", "--seed", "3", "--backend", "cpu"],
        ),
    ],
    ids=["islands", "gamma-caps-two-layers", "co-explore", "eyeriss-class1", "joint-pe-strict"],
)
def test_search_equals_the_cli(binary, tmp_path, kwargs, args):
    want = cli_search(binary, tmp_path, args)
    got = gammaflow.search(**kwargs)
    assert got["layers"] == want["layers"]
    assert got == want
    assert got["layers"] and all(layer["status"] == "ok" for layer in got["layers"])


def test_ctrl_c_ends_a_search_with_what_it_found():
    """SIGINT during a search raises SearchInterrupted (a KeyboardInterrupt) after the current
    round, carrying every layer's best so far; the next search runs in full."""
    import signal
    import threading

    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(gammaflow.SearchInterrupted) as ei:
            gammaflow.search(model="resnet18", max_evals=10**12, backend="cpu")
    finally:
        timer.cancel()
    assert isinstance(ei.value, KeyboardInterrupt)
    layers = ei.value.results["layers"]
    assert layers and all(l["best"] is not None for l in layers)
    # The stop is withdrawn: a later search spends its whole budget.
    r = gammaflow.search(model="toy", layer=1, max_evals=500, backend="cpu")
    assert r["totals"]["evaluations"] == 500


def test_search_depends_on_the_seed():
    a = gammaflow.search(model="resnet18", layer=3, num_pe=64, max_evals=600, seed=1, backend="cpu")
    b = gammaflow.search(model="resnet18", layer=3, num_pe=64, max_evals=600, seed=1, backend="cpu")
    c = gammaflow.search(model="resnet18", layer=3, num_pe=64, max_evals=600, seed=2, backend="cpu")
    assert a == b
    assert a["layers"][0]["pareto"] != c["layers"][0]["pareto"] or a["config"] != c["config"]


# --- bad input -----------------------------------------------------------------------------

LAYER = {"K": 16, "C": 16, "Y": 8, "X": 8, "R": 3, "S": 3, "T": 1}
HW = {"num_pe": 16}


def good_genomes(n=3):
    lvl = [[0, 1], [0, 16], [1, 16], [2, 6], [3, 6], [4, 3], [5, 3]]
    inner = [[1, 4], [0, 1], [1, 1], [2, 1], [3, 1], [4, 3], [5, 3]]
    return np.array([[lvl, inner]] * n, dtype=np.int64)


def test_good_genomes_evaluate():
    out = gammaflow.evaluate_array(LAYER, HW, good_genomes())
    assert out["crash"].tolist() == [0, 0, 0] and out["valid"].all()


def _set(idx, v):
    g = good_genomes()
    g[idx] = v
    return g


def _repeat_dim():
    g = good_genomes()
    g[2, 1, 3, 0] = 2  # level 1 gene 3 says Y, gene 2... both Y
    g[2, 1, 2, 0] = 2
    return g


@pytest.mark.parametrize(
    "layer,hw,genomes,match",
    [
        (LAYER, HW, good_genomes().astype(np.int32), r"genomes: expected dtype int64"),
        (LAYER, HW, good_genomes().astype(np.float64), r"genomes: expected dtype int64"),
        (LAYER, HW, good_genomes()[:, :, :6], r"genomes: expected shape"),
        (LAYER, HW, good_genomes()[0], r"genomes: expected shape"),
        (LAYER, HW, np.zeros((2, 5, 7, 2), dtype=np.int64), r"genomes: expected shape"),
        (LAYER, HW, _set((1, 0, 3, 0), 6), r"genomes\[1\]: level 0, gene 3: dim 6"),
        (LAYER, HW, _set((2, 1, 0, 0), -1), r"genomes\[2\]: level 1, gene 0: dim -1"),
        (LAYER, HW, _set((0, 1, 4, 1), 0), r"genomes\[0\].*tile"),
        (LAYER, HW, _set((1, 0, 2, 1), -5), r"genomes\[1\].*tile"),
        (LAYER, HW, _set((1, 1, 0, 1), 0), r"genomes\[1\].*cluster size"),
        (LAYER, HW, _set((0, 0, 1, 1), 1 << 40), r"genomes\[0\].*exceeds"),
        (LAYER, HW, _repeat_dim(), r"genomes\[2\].*Y appears more than once"),
        ({**LAYER, "K": 0}, HW, good_genomes(), r"layer field K"),
        ({k: v for k, v in LAYER.items() if k != "T"}, HW, good_genomes(), r"layer: missing field `T`"),
        ({**LAYER, "R": 9}, HW, good_genomes(), r"layer field R"),
        # A misspelt or extra layer key is an error, as in `evaluate` and `gammaflow eval`.
        ({**LAYER, "Q": 1}, HW, good_genomes(), r'layer: unknown field "Q"'),
        (
            {**{k: v for k, v in LAYER.items() if k != "K"}, "k": LAYER["K"]},
            HW,
            good_genomes(),
            r'layer: unknown field "k" \(did you mean "K"',
        ),
        ("conv", HW, good_genomes(), r"layer: expected a dict"),
        (LAYER, {}, good_genomes(), r"hw: missing field `num_pe`"),
        (LAYER, {"num_pe": 16, "l3_size": 4}, good_genomes(), r"hw: unknown field `l3_size`"),
        (LAYER, {"num_pe": 0}, good_genomes(), r"num_pe"),
        (LAYER, {"num_pe": 16.5}, good_genomes(), r"hw: .*num_pe|hw: invalid type"),
    ],
)
def test_evaluate_array_rejects(layer, hw, genomes, match):
    with pytest.raises(ValueError, match=match):
        gammaflow.evaluate_array(layer, hw, genomes)


def test_evaluate_array_rejects_bad_backend():
    with pytest.raises(ValueError, match="backend"):
        gammaflow.evaluate_array(LAYER, HW, good_genomes(), backend="tpu")


def test_evaluate_rejects(cases):
    with pytest.raises(ValueError, match=r"cases\[1\]: expected a dict"):
        gammaflow.evaluate([cases[0], 3])
    with pytest.raises(ValueError, match=r"cases\[0\]: .*missing field `num_pe`"):
        gammaflow.evaluate([{k: v for k, v in cases[0].items() if k != "num_pe"}])
    with pytest.raises(ValueError, match=r"cases\[2\]: layer field C"):
        gammaflow.evaluate([cases[0], cases[1], {**cases[2], "layer": {**cases[2]["layer"], "C": -1}}])
    with pytest.raises(ValueError, match=r"cases\[0\]: .*genome"):
        gammaflow.evaluate([{**cases[0], "genome": [["K", 1]] * 6}])
    with pytest.raises(ValueError, match=r"cases\[0\]"):
        gammaflow.evaluate([{**cases[0], "num_pe": float("nan")}])
    with pytest.raises(ValueError, match=r"cases: expected a list"):
        gammaflow.evaluate(cases[0])
    with pytest.raises(ValueError, match="backend"):
        gammaflow.evaluate(cases[:1], backend="fast")


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(model="no-such-model"), r"model"),
        (dict(layer=0), r"layer is 1-based"),
        (dict(layer=99), r"layer 99"),
        (dict(layer="3"), r"layer: expected an integer"),
        (dict(num_pe=64.0), r"num_pe: expected an integer"),
        (dict(strategy="annealing"), r"strategy"),
        (dict(fitness1="speed"), r"fitness1"),
        (dict(fitness2="speed"), r"fitness2"),
        (dict(num_pop=1), r"num_pop"),
        (dict(max_evals=0), r"max_evals"),
        (dict(crossover_rate=1.5), r"crossover_rate"),
        (dict(slevel_min=3, slevel_max=2), r"slevel_min"),
        (dict(flex_class=3), r"mapping_cstr"),
        (dict(mapping_cstr="no-such-map"), r"mapping_cstr"),
        (dict(area_budget=-1.0), r"area_budget"),
        (dict(co_explore="yes"), r"co_explore: expected True or False"),
        (dict(backend="tpu"), r"backend"),
        (dict(f1_tolerance=2.0), r"f1_tolerance"),
        (dict(pe_draw="sideways", co_explore=True), r"pe_draw"),
        # Options the mapping constraint would silently override, budgets no design meets.
        (dict(mapping_cstr="nvdla", fixed_cluster=4), r"fixed_cluster 4 conflicts with mapping constraint nvdla"),
        (dict(mapping_cstr="nvdla", slevel_min=3, slevel_max=3), r"slevel_min/slevel_max conflict"),
        (dict(co_explore=True, area_budget=1e-9), r"area_budget .* below the area of 1 PE"),
        (dict(model=3), r"model: expected a path"),
    ],
)
def test_search_rejects(kwargs, match):
    kwargs = {"layer": 1, "max_evals": 10, "backend": "cpu", **kwargs}
    with pytest.raises(ValueError, match=match):
        gammaflow.search(**kwargs)


BIG = 1 << 70  # JSON would carry it to the library as a float


def test_numbers_beyond_64_bits_or_not_finite_are_named(cases):
    # Before: "field num_pe: invalid type: floating point `1.1805916207174113e+21`, expected i64".
    with pytest.raises(ValueError, match=r"^cases\[1\]\.num_pe: 1180591620717411303424 does not fit in 64 bits$"):
        gammaflow.evaluate([cases[0], {**cases[1], "num_pe": BIG}])
    with pytest.raises(ValueError, match=r"^cases\[0\]\.layer\.K: -1180591620717411303424 does not fit"):
        gammaflow.evaluate([{**cases[0], "layer": {**cases[0]["layer"], "K": -BIG}}])
    with pytest.raises(ValueError, match=r"^cases\[0\]\.genome\[2\]\[1\]: .* does not fit in 64 bits$"):
        g = [list(x) for x in cases[0]["genome"]]
        g[2][1] = BIG
        gammaflow.evaluate([{**cases[0], "genome": g}])
    with pytest.raises(ValueError, match=r"^cases\[0\]\.num_pe: expected a finite number, got nan$"):
        gammaflow.evaluate([{**cases[0], "num_pe": float("nan")}])
    with pytest.raises(ValueError, match=r"^layer\.K: 1180591620717411303424 does not fit in 64 bits$"):
        gammaflow.evaluate_array({**LAYER, "K": BIG}, HW, good_genomes())
    with pytest.raises(ValueError, match=r"^hw\.num_pe: 1180591620717411303424 does not fit"):
        gammaflow.evaluate_array(LAYER, {"num_pe": BIG}, good_genomes())
    with pytest.raises(ValueError, match=r"^hw\.l1_size: expected a finite number, got inf$"):
        gammaflow.evaluate_array(LAYER, {**HW, "l1_size": math.inf}, good_genomes())
    for kwargs, match in [
        (dict(num_pe=BIG), r"^num_pe: 1180591620717411303424 does not fit in 64 bits$"),
        (dict(seed=1 << 64), r"^seed: 18446744073709551616 does not fit in 64 bits$"),
        (dict(max_evals=BIG), r"^max_evals: .* does not fit in 64 bits$"),
        # Before: OverflowError from float().
        (dict(max_time=10**400), r"^max_time: expected a finite number, got 1000"),
    ]:
        with pytest.raises(ValueError, match=match):
            gammaflow.search(layer=1, backend="cpu", **kwargs)
    # 64-bit values at the edges still reach the library (and its range checks).
    with pytest.raises(ValueError, match=r"num_pe must be between 1 and"):
        gammaflow.search(layer=1, backend="cpu", num_pe=(1 << 63) - 1)
    assert gammaflow.search(model="toy", layer=1, max_evals=10, backend="cpu", seed=(1 << 64) - 1)["totals"]["layers"] == 1


def test_bad_argument_kinds_raise_value_error():
    # Before: TypeError ("'NoneType' object is not iterable").
    for bad in [None, 5]:
        with pytest.raises(ValueError, match=r"^cases: expected a list of case dicts, got "):
            gammaflow.evaluate(bad)
    # The position in the JSON text the wrapper made is no part of the message.
    with pytest.raises(ValueError) as e:
        gammaflow.evaluate_array(LAYER, {"num_pe": 16, "l3_size": 4}, good_genomes())
    assert "l3_size" in str(e.value) and " at line " not in str(e.value), str(e.value)
    # A PE limit means something only when the PE count is searched.
    with pytest.raises(ValueError, match=r"^pe_limit 5 bounds the PE count of co-explored designs: give co_explore"):
        gammaflow.search(model="toy", layer=1, backend="cpu", num_pe=64, pe_limit=5)
    with pytest.raises(ValueError, match=r"^pe_limit must be between 1 and 16777216"):
        gammaflow.search(model="toy", layer=1, backend="cpu", co_explore=True, pe_limit=0)


def test_search_takes_path_objects_for_files():
    # Every file argument takes a path object (model CSVs and constraint files as hwconfig does).
    r = gammaflow.search(
        model=ROOT / "data" / "models" / "toy.csv",
        layer=1,
        max_evals=20,
        backend="cpu",
        mapping_cstr=ROOT / "data" / "constraints" / "eyeriss.toml",
        flex_class=15,
    )
    assert r["totals"]["layers"] == 1 and r["mapping_constraint"] is not None


# --- energy tables, strides, ONNX errors ---------------------------------------------------

ENERGY_DIR = ROOT / "data" / "energy"


def test_energy_model_changes_energy_and_nothing_else(cases):
    some = cases[:200]
    default = gammaflow.evaluate(some, backend="cpu")
    assert gammaflow.evaluate(some, backend="cpu", energy_model=ENERGY_DIR / "maestro.toml") == default
    assert gammaflow.evaluate(some, backend="cpu", energy_model="maestro") == default
    other = gammaflow.evaluate(some, backend="cpu", energy_model=str(ENERGY_DIR / "example_pj.toml"))
    # Hand-computed (MAESTRO's worked example V01 under the pJ table): 1700 pJ = 1.7 nJ.
    assert math.isclose(other[0]["energy_nJ"], 1.7, rel_tol=1e-12)
    changed = 0
    for d, o in zip(default, other):
        assert {k: v for k, v in d.items() if k != "energy_nJ"} == {k: v for k, v in o.items() if k != "energy_nJ"}
        changed += d["energy_nJ"] != o["energy_nJ"]
    assert changed > 150
    # The array API derives energy the same way.
    c = cases[0]
    arr = gammaflow.evaluate_array(c["layer"], hw_of(c), genome_array(c["genome"])[None], backend="cpu",
                                   energy_model=ENERGY_DIR / "example_pj.toml")
    assert arr["energy_nJ"][0] == other[0]["energy_nJ"]


def test_energy_model_errors(cases, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((ENERGY_DIR / "maestro.toml").read_text().replace("mac = 0.0", "mak = 0.0"))
    with pytest.raises(ValueError, match=r"energy_model: .*bad.toml line \d+, field mak.*did you mean \"mac\""):
        gammaflow.evaluate(cases[:1], energy_model=bad)
    with pytest.raises(ValueError, match=r"energy_model"):
        gammaflow.evaluate_array(LAYER, HW, np.zeros((0, 1, 7, 2), dtype=np.int64), energy_model=3)
    with pytest.raises(ValueError, match=r"energy_model: .*bad.toml"):
        gammaflow.search(layer=1, max_evals=10, backend="cpu", energy_model=bad)


def test_search_energy_model_equals_the_cli(binary, tmp_path):
    table = ENERGY_DIR / "example_pj.toml"
    args = ["--model", "resnet18", "--layer", "3", "--num-pe", "64", "--max-evals", "800", "--backend", "cpu"]
    want = cli_search(binary, tmp_path, [*args, "--energy-model", str(table)])
    got = gammaflow.search(model="resnet18", layer=3, num_pe=64, max_evals=800, backend="cpu", energy_model=table)
    assert got == want
    # Latency then power: energy is no objective, so the search is the same and only energy moves.
    plain = gammaflow.search(model="resnet18", layer=3, num_pe=64, max_evals=800, backend="cpu")
    b, p = got["layers"][0]["best"], plain["layers"][0]["best"]
    assert b["mapping"] == p["mapping"] and b["runtime_cycles"] == p["runtime_cycles"]
    assert b["energy_nJ"] != p["energy_nJ"]
    assert got["config"]["energy_model"]["scale"] == 0.001 and "energy_model" not in plain["config"]


def test_search_onnx_strides_and_errors():
    onnx = ROOT / "tests" / "data" / "onnx"
    res = gammaflow.search(model=str(onnx / "convs.onnx"), num_layers=2, num_pe=64, max_evals=200, backend="cpu")
    # conv1 is 7x7 stride 2; the next layer stride 1.
    assert [layer["stride"] for layer in res["layers"]] == ["2", "1"]
    with pytest.raises(ValueError) as e:
        gammaflow.search(model=str(onnx / "einsum.onnx"), backend="cpu")
    msg = str(e.value)
    assert 'einsum.onnx: node "contract" (op Einsum) has MACs but is not supported' in msg, msg
    assert "cannot read model file" not in msg, msg
