//! GAMMA's genetic search (and gammaflow's extensions): map space, operators, selection, engine.

pub mod constraint;
pub mod engine;
pub mod objective;
pub mod operators;
pub mod pareto;
pub mod shared;
pub mod space;

pub use constraint::MapConstraint;
pub use engine::{search, search_dedup, search_seeded, Candidate, GenStat, LayerResult, Progress, SearchConfig};
pub use objective::{Fitness, Objective};
pub use operators::Rates;
pub use space::{Space, SpaceOptions};
