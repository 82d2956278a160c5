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
//! Genomes are packed into a [`mapping::pack::Population`] of fixed-size word records (the GPU
//! buffer layout) and streamed through the evaluator in chunks, so memory stays at one chunk
//! however many genomes there are; results come back as compact integer records
//! ([`mapping::pack::PackedResult`]: runtime, MACs, buffer needs), and full metrics (energy,
//! area, power, validity) are derived on demand from a record.
//!
//! ```
//! use gammaflow::eval::{evaluate_stream, from_packed, BackendChoice, Evaluator};
//! use gammaflow::energy::EnergyModel;
//! use gammaflow::hardware::Hardware;
//! use gammaflow::mapping::pack::PackedProblem;
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
//! let (mut left, mut best) = (1_000_000, None::<(i64, usize)>);
//! let mut index = 0;
//! let n = evaluate_stream(
//!     &mut ev,
//!     &[PackedProblem::new(&layer, &hw)],
//!     2,
//!     1 << 16,
//!     |pop, room| {
//!         for _ in 0..room.min(left) {
//!             pop.push(&space.random_genome(&mut rng), 0, hw.num_pe).unwrap();
//!         }
//!         left -= pop.len();
//!         left > 0
//!     },
//!     |pop, results| {
//!         // The compact records are enough to rank; a candidate's full metrics say if it fits.
//!         for (i, r) in results.iter().enumerate() {
//!             let e = from_packed(&layer, &hw, 2, r, &EnergyModel::MAESTRO).unwrap();
//!             if e.valid_physical && best.is_none_or(|(b, _)| r.runtime_cycles() < b) {
//!                 best = Some((r.runtime_cycles(), index + i));
//!             }
//!         }
//!         index += pop.len();
//!     },
//! );
//! assert_eq!(n, 1_000_000);
//! let (runtime, _which) = best.unwrap();
//! assert!(runtime >= gammaflow::search::compute_bound(&layer, hw.num_pe));
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
//! The same through [`search::SearchOptions`], the options as the CLI and the Python package
//! name them (defaults included):
//!
//! ```
//! use gammaflow::eval::CpuEvaluator;
//! use gammaflow::search::SearchOptions;
//!
//! let opts = SearchOptions { model: "resnet18".into(), layer: Some(2), num_pe: Some(168), max_evals: Some(5_000), ..SearchOptions::default() };
//! let prepared = opts.prepare().unwrap(); // every option checked, the model read
//! let results = prepared.run(&mut CpuEvaluator, |_| {});
//! assert_eq!(results[0].index, 1);
//! assert!(results[0].best.is_some());
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

pub mod energy;
pub mod error;
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
