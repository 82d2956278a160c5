//! The search: map space, operators, strategies (GAMMA's GA, random search, islands with
//! neighbourhood polish and an order phase), packed populations, and the batched round loop.

pub mod bounds;
pub mod constraint;
pub mod engine;
pub mod local;
pub mod memo;
pub mod objective;
pub mod operators;
pub mod options;
pub mod pareto;
pub mod pool;
pub mod shared;
pub mod space;
pub mod strategy;

pub use bounds::parallel_bound;
pub use constraint::MapConstraint;
pub use engine::{
    clear_stop, compute_bound, request_stop, search, search_dedup, search_seeded, stop_requested, Candidate, GenStat,
    LayerResult, Progress, SearchConfig, Strategy,
};
pub use objective::{Fitness, Objective};
pub use operators::Rates;
pub use options::{OptionError, Prepared, SearchOptions};
pub use space::{PeDraw, Space, SpaceOptions};
