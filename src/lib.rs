//! gammaflow: genetic search of DNN accelerator mappings (GAMMA), constrained map spaces and
//! hardware co-design (DiGamma), on a MAESTRO-compatible cost model evaluated in batches on the
//! CPU or, through wgpu compute shaders, on the GPU.
//!
//! The pieces, by domain concept: [`workload`] (layers and models: built-in, GAMMA CSV, ONNX),
//! [`hardware`] (PEs, buffers, bandwidths, area models), [`energy`] (energy tables),
//! [`mapping`] (the genome, its packed GPU layout and MAESTRO's mapping file), [`model`] (the CPU
//! reference of MAESTRO), [`gpu`] (the WGSL evaluator), [`eval`] (one evaluation API for both
//! backends, and the [`eval::BatchEvaluator`] trait the search runs on), [`search`] (map space,
//! strategies, bounds, constraints), [`sweep`] and [`report`].
//!
//! # Evaluate a million packed mappings on the best backend
//!
//! Genomes are packed into fixed-size word records (the GPU buffer layout), evaluated in one
//! call, and come back as compact integer records; full metrics (energy, area, validity) are
//! derived on demand from a record.
//!
//! ```
//! use gammaflow::eval::{from_packed, BackendChoice, Evaluator};
//! use gammaflow::energy::EnergyModel;
//! use gammaflow::hardware::Hardware;
//! use gammaflow::mapping::pack::{pack_genome, stride_for, PackedProblem};
//! use gammaflow::search::{Space, SpaceOptions};
//! use gammaflow::workload::Layer;
//! use rand::SeedableRng;
//!
//! let layer = Layer::conv(64, 64, 56, 56, 3, 3);
//! let hw = Hardware { num_pe: 168, l1_size: 512, l2_size: 108_000, ..Hardware::default() };
//! // The GPU when there is one (a real one: `Auto` skips software rasterisers), else every core.
//! let mut ev = Evaluator::new(BackendChoice::Auto).unwrap();
//! let space = Space::new(&layer, hw.num_pe, SpaceOptions::default());
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
//! let stride = stride_for(2);
//! let mut words = Vec::with_capacity(1_000_000 * stride);
//! for _ in 0..1_000_000 {
//!     pack_genome(&space.random_genome(&mut rng), 0, hw.num_pe, stride, &mut words);
//! }
//! let mut results = Vec::new();
//! ev.evaluate_packed(&[PackedProblem::new(&layer, &hw)], &words, stride, &mut results);
//! assert_eq!(results.len(), 1_000_000);
//! // Full metrics on demand, from the compact records: the fastest physically valid mapping.
//! let best = results
//!     .iter()
//!     .map(|r| from_packed(&layer, &hw, 2, r, &EnergyModel::MAESTRO).unwrap())
//!     .filter(|e| e.valid_physical)
//!     .filter_map(|e| e.metrics)
//!     .min_by_key(|m| m.runtime_cycles)
//!     .unwrap();
//! assert!(best.runtime_cycles > 0 && best.energy_nj > 0.0);
//! ```
//!
//! # Search one layer
//!
//! ```
//! use gammaflow::eval::{BackendChoice, Evaluator};
//! use gammaflow::hardware::Hardware;
//! use gammaflow::search::{search, Objective, SearchConfig};
//! use gammaflow::workload::builtin::resolve_model;
//!
//! let layer = resolve_model("resnet18").unwrap().layers[1];
//! let hw = Hardware { num_pe: 168, l1_size: 512, l2_size: 108_000, ..Hardware::default() };
//! let cfg = SearchConfig {
//!     fitness1: Objective::Latency,
//!     fitness2: Some(Objective::Energy),
//!     max_evals: Some(20_000),
//!     epochs: 0,
//!     num_pop: 48,
//!     seed: 7,
//!     ..SearchConfig::default()
//! };
//! let mut ev = Evaluator::new(BackendChoice::Cpu).unwrap();
//! let progress = |p: &gammaflow::search::Progress| assert!(p.evaluations <= p.budget);
//! let r = &search(&[(0, layer, hw)], &cfg, &mut ev, progress)[0];
//! let best = r.best.as_ref().unwrap();
//! let runtime = best.eval.metrics.unwrap().runtime_cycles;
//! assert!(runtime >= r.parallel_bound_cycles && r.parallel_bound_cycles >= r.bound_cycles);
//! println!("{} cycles, {:.3}% above ceil(MACs / PEs)", runtime, 100.0 * r.gap_to_bound().unwrap());
//! ```
//!
//! # Search a model on a constrained accelerator
//!
//! A built-in accelerator map (NVDLA, Eyeriss, TPU) or a constraint file fixes parts of every
//! mapping; a flexibility class frees some of them again.
//!
//! ```
//! use gammaflow::eval::{BackendChoice, Evaluator};
//! use gammaflow::hardware::Hardware;
//! use gammaflow::search::{search_dedup, MapConstraint, SearchConfig, SpaceOptions};
//! use gammaflow::workload::builtin::resolve_model;
//! use std::sync::Arc;
//!
//! let model = resolve_model("resnet18").unwrap();
//! let hw = Hardware { num_pe: 256, ..Hardware::default() };
//! let nvdla = MapConstraint::resolve("nvdla").unwrap();
//! let levels = nvdla.levels.len();
//! let space = SpaceOptions {
//!     slevel_min: levels,
//!     slevel_max: levels,
//!     constraint: Some(Arc::new(nvdla)),
//!     ..SpaceOptions::default()
//! };
//! let cfg = SearchConfig { space, max_evals: Some(1_000), epochs: 0, num_pop: 24, ..SearchConfig::default() };
//! let tasks: Vec<_> = model.layers.iter().enumerate().map(|(i, l)| (i, *l, hw)).collect();
//! let results = search_dedup(&tasks, &cfg, &mut Evaluator::new(BackendChoice::Cpu).unwrap(), |_| {});
//! let total: i64 = results.iter().filter_map(|r| Some(r.best.as_ref()?.eval.metrics?.runtime_cycles)).sum();
//! assert_eq!(results.len(), model.layers.len());
//! assert!(total > 0);
//! ```

pub mod cli;
pub mod energy;
pub mod eval;
pub mod gpu;
pub mod hardware;
pub mod mapping;
pub mod model;
pub mod report;
pub mod schema;
pub mod search;
pub mod sweep;
pub mod workload;
