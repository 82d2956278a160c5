"""gammaflow: GAMMA-style search of DNN accelerator mappings on a MAESTRO-compatible cost model.

Three functions, all evaluating on the CPU (every core) or the GPU, with the GIL released:

- :func:`evaluate`: cases as the dicts of ``gammaflow eval`` input lines, results as its output
  objects.
- :func:`evaluate_array`: one layer, one accelerator and an int64 numpy array of genomes; one
  numpy array per output field.
- :func:`search`: the CLI's ``search`` (same options, same defaults, same result for the same
  seed); returns what ``results.json`` holds.

Bad input raises ``ValueError`` naming the field.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, Dict, List, Optional

import numpy as np

from . import _gammaflow

#: Raised by :func:`search` on Ctrl-C (a ``KeyboardInterrupt``): the search ends after its current
#: round, and ``.results`` holds what it found, in :func:`search`'s return form.
SearchInterrupted = _gammaflow.SearchInterrupted

__all__ = ["evaluate", "evaluate_array", "search", "backend_info", "DIMS", "ARRAY_FIELDS", "SearchInterrupted"]

#: Dimension numbering of genome arrays: ``DIMS.index("Y") == 2``.
DIMS = ("K", "C", "Y", "X", "R", "S")

#: The keys of :func:`evaluate_array`'s result.
ARRAY_FIELDS = (
    "runtime_cycles",
    "energy_nJ",
    "power",
    "area",
    "throughput",
    "l1_size_req",
    "l2_size_req",
    "num_macs",
    "l1_input_read",
    "l1_input_write",
    "l1_weight_read",
    "l1_weight_write",
    "l1_output_read",
    "l1_output_write",
    "l2_input_read",
    "l2_input_write",
    "l2_weight_read",
    "l2_weight_write",
    "l2_output_read",
    "l2_output_write",
    "expected_macs",
    "area_gamma_external",
    "valid",
    "valid_physical",
    "crash",
)

_BACKENDS = ("auto", "cpu", "gpu")


def _check_backend(backend: Any) -> str:
    if not isinstance(backend, str) or backend.lower() not in _BACKENDS:
        raise ValueError(f"backend: expected 'auto', 'cpu' or 'gpu', got {backend!r}")
    return backend.lower()


def _json_default(field: str):
    def default(o: Any) -> Any:
        # numpy scalars (np.int64, np.float64, np.bool_) become Python numbers.
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise ValueError(f"{field}: value {o!r} of type {type(o).__name__} is not JSON-serialisable")

    return default


# JSON (and so the library) holds integers of 64 bits; a larger one would reach it as a float.
_INT_MIN, _INT_END = -(1 << 63), 1 << 64


def _shown(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _bad_number(value: Any, path: str) -> Optional[str]:
    """Where in ``value`` (dicts, lists, numpy values) a number JSON cannot carry to the library
    is: an integer beyond 64 bits, or a NaN or infinite float; the message naming it, or None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        v = int(value)
        if not _INT_MIN <= v < _INT_END:
            return f"{path}: {_shown(v)} does not fit in 64 bits"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path}: expected a finite number, got {value!r}"
    if isinstance(value, Mapping):
        items = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, (list, tuple, np.ndarray)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for p, v in items:
        found = _bad_number(v, p)
        if found:
            return found
    return None


def _dumps(value: Any, field: str) -> str:
    try:
        return json.dumps(value, default=_json_default(field), allow_nan=False)
    except (TypeError, ValueError) as e:
        found = _bad_number(value, field)
        if found:
            raise ValueError(found) from None
        msg = str(e)
        raise ValueError(msg if msg.startswith(field) else f"{field}: {msg}") from None


def backend_info(backend: str = "auto") -> Dict[str, Optional[str]]:
    """The backend ``backend`` resolves to: ``{"backend": description, "fallback": reason}``.

    ``fallback`` says why ``"auto"`` runs on the CPU (no usable GPU), else None.
    """
    desc, why = _gammaflow.backend_info(_check_backend(backend))
    return {"backend": desc, "fallback": why}


def _energy_model(energy_model: Any) -> Optional[str]:
    if energy_model is None:
        return None
    if not isinstance(energy_model, (str, os.PathLike)):
        raise ValueError(f"energy_model: expected 'maestro' or a TOML file path, got {energy_model!r}")
    return os.fspath(energy_model)


def evaluate(
    cases: Iterable[Mapping[str, Any]], backend: str = "auto", energy_model: Optional[str] = None
) -> List[Dict[str, Any]]:
    """Evaluates mappings given as the dicts of ``gammaflow eval`` input lines.

    Each case holds ``layer`` ({K, C, Y, X, R, S, T}), ``genome`` (GAMMA's gene list
    ``[["K", 16], ...]``, 7 genes per cluster level), ``num_pe`` and optionally ``id``,
    ``l1_size``, ``l2_size``, ``noc_bw``, ``offchip_bw`` (default -1: unlimited); other keys are
    ignored. Returns one dict per case, in order, with the fields of ``gammaflow eval``'s output
    lines (the metrics, ``valid``, ``valid_physical``, ``crash``, ``error``, ``expected_macs``,
    ``area_gamma_external``, ``all_metrics_positive`` and ``id`` when given). A case that does not
    parse raises ``ValueError`` naming ``cases[i]`` and the field.

    ``energy_model``: ``"maestro"`` or None (MAESTRO's constants) or the path of an energy table
    (TOML, as ``--energy-model``); it changes ``energy_nJ`` only.
    """
    backend = _check_backend(backend)
    energy = _energy_model(energy_model)
    if isinstance(cases, Mapping) or isinstance(cases, (str, bytes)) or not isinstance(cases, Iterable):
        raise ValueError(f"cases: expected a list of case dicts, got {type(cases).__name__}")
    lines = []
    for i, c in enumerate(cases):
        if not isinstance(c, Mapping):
            raise ValueError(f"cases[{i}]: expected a dict, got {type(c).__name__}")
        lines.append(_dumps(dict(c), f"cases[{i}]"))
    try:
        return json.loads(_gammaflow.evaluate_lines(lines, backend, energy))
    except ValueError as e:
        # An integer beyond 64 bits reads there as a float ("invalid type: floating point"): say
        # which value it was. Looked for only on an error, so good cases cost nothing more.
        m = re.match(r"cases\[(\d+)\]: ", str(e))
        found = m and _bad_number(json.loads(lines[int(m.group(1))]), f"cases[{m.group(1)}]")
        if found:
            raise ValueError(found) from None
        raise


def evaluate_array(
    layer: Mapping[str, int],
    hw: Mapping[str, int],
    genomes: "np.ndarray",
    backend: str = "auto",
    energy_model: Optional[str] = None,
) -> Dict[str, "np.ndarray"]:
    """Evaluates an array of genomes on one layer and accelerator.

    ``layer``: {K, C, Y, X, R, S, T}. ``hw``: {num_pe, l1_size, l2_size, noc_bw, offchip_bw}
    (all but ``num_pe`` optional, default -1: unlimited). ``genomes``: int64 array of shape
    (N, levels, 7, 2), 1 <= levels <= 4, outermost level first: ``genomes[n, l, 0]`` is
    ``[parallel dim, cluster size]`` and ``genomes[n, l, g]`` for g = 1..6 is ``[dim, tile]`` in
    loop order, outer first, with dims numbered K=0, C=1, Y=2, X=3, R=4, S=5 (:data:`DIMS`).

    Returns one array of length N per field of :data:`ARRAY_FIELDS`: float64 ``energy_nJ``,
    ``power``, ``area``, ``throughput``, ``area_gamma_external``; int64 ``runtime_cycles``, the
    size requirements, ``num_macs``, the twelve l1/l2 read/write counts and ``expected_macs``;
    bool ``valid`` and ``valid_physical``; uint8 ``crash`` (0: none, else the code of MAESTRO's
    crash: 1 cluster product > PEs, 2 occurrence wrap, 3 zero compute, 4 zero unique). Where
    ``crash`` is nonzero the floats are NaN and the counts 0.

    Raises ``ValueError`` naming the field (and ``genomes[n]`` for a bad genome: a dim outside
    0..5, a non-positive tile or inner cluster size, a dim repeated in a level's loop order).
    ``energy_model`` is as for :func:`evaluate`.
    """
    backend = _check_backend(backend)
    energy = _energy_model(energy_model)
    if not isinstance(layer, Mapping):
        raise ValueError(f"layer: expected a dict {{K, C, Y, X, R, S, T}}, got {type(layer).__name__}")
    if not isinstance(hw, Mapping):
        raise ValueError(f"hw: expected a dict {{num_pe, l1_size, l2_size, noc_bw, offchip_bw}}, got {type(hw).__name__}")
    if not isinstance(genomes, np.ndarray):
        try:
            genomes = np.asarray(genomes)
        except Exception as e:  # ragged lists and the like
            raise ValueError(f"genomes: not convertible to an array ({e})") from None
    if genomes.dtype != np.int64:
        raise ValueError(f"genomes: expected dtype int64, got {genomes.dtype}")
    if genomes.ndim != 4 or genomes.shape[2:] != (7, 2) or not 1 <= genomes.shape[1] <= 4:
        raise ValueError(f"genomes: expected shape (N, levels, 7, 2) with 1 <= levels <= 4, got {genomes.shape}")
    for name, value in (("layer", layer), ("hw", hw)):
        found = _bad_number(dict(value), name)
        if found:
            raise ValueError(found)
    return _gammaflow.evaluate_array(_dumps(dict(layer), "layer"), _dumps(dict(hw), "hw"), genomes, backend, energy)


# search(): keyword -> kind. Every keyword is the CLI flag with '-' written '_'.
_SEARCH_FLAGS = {
    "model": "path",
    "layer": int,
    "num_layers": int,
    "hwconfig": "path",
    "num_pe": int,
    "l1_size": int,
    "l2_size": int,
    "noc_bw": int,
    "offchip_bw": int,
    "fitness1": str,
    "fitness2": str,
    "strategy": str,
    "num_pop": int,
    "epochs": int,
    "max_evals": int,
    "max_time": float,
    "seed": int,
    "backend": str,
    "slevel_min": int,
    "slevel_max": int,
    "par_rs": bool,
    "fixed_cluster": int,
    "factor_tiles": bool,
    "gamma_compat": bool,
    "divisor_bias": float,
    "free_rs": bool,
    "crossover_rate": float,
    "order_rate": float,
    "tile_rate": float,
    "par_swap_rate": float,
    "grow_rate": float,
    "aging_rate": float,
    "elite_ratio": float,
    "parents_ratio": float,
    "co_explore": bool,
    "pe_limit": int,
    "area_budget": float,
    "area_model": "path",
    "energy_model": "path",
    "pe_rate": float,
    "pe_draw": str,
    "f1_tolerance": float,
    "mapping_cstr": "path",
    "flex_class": int,
    "accel_cstr": "path",
}


def _search_options(opts: Dict[str, Any]) -> Dict[str, Any]:
    """The keywords given (None = the default) as the JSON object of the library's options."""
    out: Dict[str, Any] = {}
    for name, value in opts.items():
        kind = _SEARCH_FLAGS[name]
        if value is None:
            continue
        if kind is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name}: expected True or False, got {value!r}")
            out[name] = bool(value)
        elif kind is int:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                raise ValueError(f"{name}: expected an integer, got {value!r}")
            found = _bad_number(value, name)
            if found:
                raise ValueError(found)
            out[name] = int(value)
        elif kind is float:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise ValueError(f"{name}: expected a number, got {value!r}")
            try:
                number = float(value)
            except OverflowError:  # an integer past the float range
                number = math.inf
            if not math.isfinite(number):
                raise ValueError(f"{name}: expected a finite number, got {_shown(value)}")
            out[name] = number
        elif kind == "path":
            if not isinstance(value, (str, os.PathLike)):
                raise ValueError(f"{name}: expected a path, got {value!r}")
            out[name] = os.fspath(value)
        else:
            if not isinstance(value, str):
                raise ValueError(f"{name}: expected a string, got {value!r}")
            out[name] = value
    return out


def search(
    model: str = "resnet18",
    layer: Optional[int] = None,
    num_layers: Optional[int] = None,
    *,
    hwconfig: Optional[str] = None,
    num_pe: Optional[int] = None,
    l1_size: Optional[int] = None,
    l2_size: Optional[int] = None,
    noc_bw: Optional[int] = None,
    offchip_bw: Optional[int] = None,
    fitness1: str = "latency",
    fitness2: str = "power",
    strategy: str = "islands",
    num_pop: Optional[int] = None,
    epochs: Optional[int] = None,
    max_evals: Optional[int] = None,
    max_time: Optional[float] = None,
    seed: int = 0,
    backend: str = "auto",
    slevel_min: Optional[int] = None,
    slevel_max: Optional[int] = None,
    par_rs: bool = False,
    fixed_cluster: Optional[int] = None,
    factor_tiles: bool = False,
    gamma_compat: bool = False,
    divisor_bias: Optional[float] = None,
    free_rs: bool = False,
    crossover_rate: Optional[float] = None,
    order_rate: Optional[float] = None,
    tile_rate: Optional[float] = None,
    par_swap_rate: Optional[float] = None,
    grow_rate: Optional[float] = None,
    aging_rate: Optional[float] = None,
    elite_ratio: Optional[float] = None,
    parents_ratio: Optional[float] = None,
    co_explore: bool = False,
    pe_limit: Optional[int] = None,
    area_budget: Optional[float] = None,
    area_model: Optional[str] = None,
    energy_model: Optional[str] = None,
    pe_rate: Optional[float] = None,
    pe_draw: Optional[str] = None,
    f1_tolerance: Optional[float] = None,
    mapping_cstr: Optional[str] = None,
    flex_class: Optional[int] = None,
    accel_cstr: Optional[str] = None,
) -> Dict[str, Any]:
    """Searches mappings for a model's layers, as ``gammaflow search`` does.

    Every keyword is the CLI flag of the same name (``--num-pe`` is ``num_pe``) with the same
    meaning; None leaves the CLI's default (see ``gammaflow search --help``), e.g. ``num_pe`` None
    takes ``hwconfig``'s value or 1024, the caps None or <= 0 are unlimited. The arguments are
    checked and defaulted by the library's ``SearchOptions``, which the CLI uses too, so the same
    options and seed give the same result as the CLI.
    ``--shared-hw``, ``--outdir``, ``--gamma-layout`` and ``--quiet`` are CLI-only (nothing is
    written to disk here).

    Returns what the CLI's ``results.json`` holds: ``model``, ``config``, ``mapping_constraint``,
    ``totals`` and ``layers`` (per layer: ``layer``, ``shape``, ``stride``, ``hardware``, ``evaluations``,
    ``bound_cycles``, ``gap_to_bound``, ``parallel_bound_cycles``, ``gap_to_parallel_bound``,
    ``same_as_layer``, ``status``, ``best`` and ``pareto``,
    each candidate with its fitnesses, metrics, ``num_pe`` and ``mapping``).

    Raises ``ValueError`` naming the keyword for a bad option. Ctrl-C ends the search after its
    current round and raises ``SearchInterrupted`` (a ``KeyboardInterrupt``) whose ``results``
    holds what was found, in this function's return form.
    """
    opts = dict(locals())
    _check_backend(backend)
    options = _search_options(opts)
    try:
        text = _gammaflow.search_json(json.dumps(options))
    except SearchInterrupted as e:
        # Ctrl-C: the search stopped after its round; what it found rides on the exception.
        e.results = json.loads(e.args[1])
        raise
    except ValueError as e:
        # The CLI names flags (--num-pe); name the keyword instead (num_pe).
        msg = re.sub(r"--([a-z0-9][a-z0-9-]*)", lambda m: m.group(1).replace("-", "_"), str(e))
        raise ValueError(msg) from None
    return json.loads(text)
