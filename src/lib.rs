//! gammaflow: genetic search of DNN accelerator mappings (GAMMA), constrained map spaces and
//! hardware co-design (DiGamma), on a MAESTRO-compatible cost model evaluated in batches on the
//! CPU or, through wgpu compute shaders, on the GPU.

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
