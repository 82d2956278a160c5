//! Objectives: what a mapping is ranked by. All are costs (lower is better) internally;
//! throughput is ranked by its negation.

use crate::hardware::{AreaModel, Hardware};
use crate::model::Evaluation;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Runtime in cycles.
    Latency,
    /// Energy in nJ (MAESTRO's activity-count model).
    Energy,
    /// MAESTRO's power.
    Power,
    /// Energy × latency.
    Edp,
    /// Area in um^2, GAMMA's external model (282 um^2/PE + 0.086 um^2/bit of L1·PEs + L2):
    /// MAESTRO's own area barely depends on the mapping (spec Q11).
    Area,
    /// MACs per cycle (maximised).
    Throughput,
    /// Latency × area (cycles · um^2): performance per silicon, for co-exploration.
    LatencyArea,
    /// Energy × area (nJ · um^2).
    EnergyArea,
}

impl crate::schema::Named for Objective {
    const ALL: &'static [Self] = &[
        Objective::Latency,
        Objective::Energy,
        Objective::Power,
        Objective::Edp,
        Objective::Area,
        Objective::Throughput,
        Objective::LatencyArea,
        Objective::EnergyArea,
    ];
    fn name(self) -> &'static str {
        Objective::name(self)
    }
}

impl Objective {
    pub fn name(self) -> &'static str {
        match self {
            Objective::Latency => "latency",
            Objective::Energy => "energy",
            Objective::Power => "power",
            Objective::Edp => "edp",
            Objective::Area => "area",
            Objective::Throughput => "throughput",
            Objective::LatencyArea => "latency-area",
            Objective::EnergyArea => "energy-area",
        }
    }

    /// The unit of the objective's value; empty for MAESTRO's power, whose unit MAESTRO does not
    /// state.
    pub fn unit(self) -> &'static str {
        match self {
            Objective::Latency => "cycles",
            Objective::Energy => "nJ",
            Objective::Power => "",
            Objective::Edp => "nJ x cycles",
            Objective::Area => "um^2",
            Objective::Throughput => "MACs/cycle",
            Objective::LatencyArea => "cycles x um^2",
            Objective::EnergyArea => "nJ x um^2",
        }
    }

    /// The name with the unit, `latency (cycles)`, for tables and labels.
    pub fn labelled(name: &str) -> String {
        match <Objective as crate::schema::Named>::from_name(name) {
            Some(o) if !o.unit().is_empty() => format!("{name} ({})", o.unit()),
            _ => name.to_string(),
        }
    }

    /// The objective's natural value (cycles, nJ, ...) for a design with `hw.num_pe` PEs, or
    /// None for an unusable mapping. Area comes from `area` (GAMMA's external model by default).
    pub fn value(self, ev: &Evaluation, hw: &Hardware, area: &AreaModel) -> Option<f64> {
        if !ev.valid_physical {
            return None;
        }
        let m = ev.metrics.as_ref()?;
        let a = || area.breakdown(hw.num_pe, m.l1_size_req, m.l2_size_req, m.area).total;
        Some(match self {
            Objective::Latency => m.runtime_cycles as f64,
            Objective::Energy => m.energy_nj,
            Objective::Power => m.power,
            Objective::Edp => m.energy_nj * m.runtime_cycles as f64,
            Objective::Area => a(),
            Objective::Throughput => m.throughput,
            Objective::LatencyArea => m.runtime_cycles as f64 * a(),
            Objective::EnergyArea => m.energy_nj * a(),
        })
    }

    /// Cost to minimise: the value, negated for throughput; +inf for unusable mappings.
    pub fn cost(self, ev: &Evaluation, hw: &Hardware, area: &AreaModel) -> f64 {
        match self.value(ev, hw, area) {
            None => f64::INFINITY,
            Some(v) if self == Objective::Throughput => -v,
            Some(v) => v,
        }
    }

    pub fn from_cost(self, c: f64) -> f64 {
        if self == Objective::Throughput {
            -c
        } else {
            c
        }
    }
}

/// (first, second) costs, ranked lexicographically as GAMMA does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fitness {
    pub f1: f64,
    pub f2: f64,
}

impl Fitness {
    pub const WORST: Fitness = Fitness { f1: f64::INFINITY, f2: f64::INFINITY };

    pub fn is_valid(&self) -> bool {
        self.f1.is_finite() && self.f2.is_finite()
    }

    /// Lexicographic order; total (costs are never NaN: non-finite model outputs are rejected by
    /// `valid_physical` first).
    pub fn lex_cmp(&self, o: &Fitness) -> std::cmp::Ordering {
        self.f1.total_cmp(&o.f1).then(self.f2.total_cmp(&o.f2))
    }

    /// Pareto dominance over the two costs.
    pub fn dominates(&self, o: &Fitness) -> bool {
        self.f1 <= o.f1 && self.f2 <= o.f2 && (self.f1 < o.f1 || self.f2 < o.f2)
    }
}
