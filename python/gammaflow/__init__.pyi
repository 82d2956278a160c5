"""Type stubs of the gammaflow Python package (see the docstrings in __init__.py)."""

from collections.abc import Iterable, Mapping
from os import PathLike
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

DIMS: Tuple[str, str, str, str, str, str]
ARRAY_FIELDS: Tuple[str, ...]

class SearchInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`search`; ``results`` holds what the search found by then."""

    results: Dict[str, Any]

def backend_info(backend: str = "auto") -> Dict[str, Optional[str]]:
    """The backend a choice resolves to, and why "auto" fell back to the CPU if it did."""

def evaluate(
    cases: Iterable[Mapping[str, Any]],
    backend: str = "auto",
    energy_model: Optional[Union[str, PathLike[str]]] = None,
) -> List[Dict[str, Any]]:
    """Evaluates `gammaflow eval` input cases; returns its output objects, in order."""

def evaluate_array(
    layer: Mapping[str, int],
    hw: Mapping[str, int],
    genomes: npt.NDArray[np.int64],
    backend: str = "auto",
    energy_model: Optional[Union[str, PathLike[str]]] = None,
) -> Dict[str, np.ndarray]:
    """Evaluates an int64 (N, levels, 7, 2) genome array; one array of length N per field."""

def search(
    model: Union[str, PathLike[str]] = "resnet18",
    layer: Optional[int] = None,
    num_layers: Optional[int] = None,
    *,
    hwconfig: Optional[Union[str, PathLike[str]]] = None,
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
    area_model: Optional[Union[str, PathLike[str]]] = None,
    energy_model: Optional[Union[str, PathLike[str]]] = None,
    pe_rate: Optional[float] = None,
    pe_draw: Optional[str] = None,
    f1_tolerance: Optional[float] = None,
    mapping_cstr: Optional[Union[str, PathLike[str]]] = None,
    flex_class: Optional[int] = None,
    accel_cstr: Optional[Union[str, PathLike[str]]] = None,
) -> Dict[str, Any]:
    """`gammaflow search` with the same options; returns what results.json holds."""
