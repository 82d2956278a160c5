//! Running a sweep: jobs grouped into shared `search()` calls, run one group after another on one
//! evaluator, rows appended as each group finishes.
//!
//! Why groups: a job of one small layer with a population of 20 gives the evaluator 20 genomes a
//! generation, far too few to keep the cores (let alone a GPU) busy. `search()` already evaluates
//! the offspring of all its tasks in one batch per generation, so jobs that share a complete
//! search configuration (objectives, population, epochs, seed, map-space options, mapping
//! constraint and flexibility class, area budget) run as the
//! tasks of one `search()` call.
//!
//! Why a job's result does not depend on its group: in `search()` every task keeps its own
//! population and random stream, seeded from the configuration's seed and the task's index, and
//! nothing else couples tasks (the sweep sets no evaluation or time budget, the only coupling
//! `search()` has). The task index is the layer's index in its model, as in `gammaflow search`,
//! and the seed is part of the group key, so each task sees exactly the stream it would see in a
//! standalone `gammaflow search` of that job: per-job output folders are byte-identical to it.
//! `search_dedup`'s reuse of repeated layer shapes is reproduced per job (the first layer of a
//! job with that shape is searched; a task shared by two jobs of a group, same index, layer and
//! accelerator, is searched once since its result is the same). Groups run one after another
//! (rather than in parallel with rayon) because the evaluator already spreads each batch over all
//! cores, or owns the GPU, and one evaluator keeps it simple.

use super::config::{Job, Sweep};
use super::store::{job_rows, Shard, Store};
use super::SweepError;
use crate::error::Context;
use crate::eval::{BackendChoice, Evaluator};
use crate::hardware::Hardware;
use crate::report::search_out::{write_search_outputs_with, OutputOptions};
use crate::search::{search, LayerResult, Progress};
use crate::workload::Layer;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

/// Largest number of genomes one group may evaluate per generation: bounds memory and the work
/// lost to an interruption, while still filling the CPU or a GPU.
pub const MAX_GROUP_GENOMES: usize = 1 << 17;

#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The folder this run writes (already the shard's folder when sharded).
    pub outdir: PathBuf,
    pub shard: Option<Shard>,
    pub backend: BackendChoice,
    pub quiet: bool,
    /// At most this many jobs per shared search.
    pub group_jobs: usize,
    /// Write `jobs/<id>/` (the files of `gammaflow search`) for every job.
    pub job_dirs: bool,
    /// Stop after this many jobs (tests use it to interrupt a sweep at a known point).
    pub max_jobs: Option<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct SweepSummary {
    /// Jobs of this run's slice of the sweep (the shard, or all).
    pub jobs: usize,
    /// Finished before this run started.
    pub already: usize,
    /// Finished by this run.
    pub ran: usize,
    /// Still to do (non-zero only with `max_jobs`).
    pub remaining: usize,
    pub evaluations: u64,
    pub seconds: f64,
    pub repaired: bool,
    /// Finished jobs whose `jobs/<id>/` folder was missing (deleted) and was rebuilt by
    /// rerunning them (a job's result depends only on its settings, so it is the same).
    pub rebuilt: usize,
}

/// (layer index in the model, layer, accelerator): what a task's result depends on besides the
/// shared configuration.
type TaskKey = (usize, Layer, Hardware);

/// Splits jobs into groups of identical search configuration (constraint included, see
/// [`Job::group_key`]), keeping job order within a group
/// and ordering groups by their first job.
pub fn make_groups<'a>(jobs: &[&'a Job], max_jobs: usize) -> Vec<Vec<&'a Job>> {
    let max_jobs = max_jobs.max(1);
    let mut groups: Vec<Vec<&Job>> = Vec::new();
    let mut genomes: Vec<usize> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    for &job in jobs {
        // The serialised config leaves the mapping constraint out; the key adds its identity.
        let key = job.group_key();
        let need = job.layers.len() * job.cfg.num_pop;
        let slot =
            open.get(&key).copied().filter(|&g| groups[g].len() < max_jobs && genomes[g] + need <= MAX_GROUP_GENOMES);
        match slot {
            Some(g) => {
                groups[g].push(job);
                genomes[g] += need;
            }
            None => {
                open.insert(key, groups.len());
                groups.push(vec![job]);
                genomes.push(need);
            }
        }
    }
    groups
}

/// Runs jobs of one search configuration together; returns each job's results exactly as
/// `search_dedup(&job.tasks(), &job.cfg, ..)` would.
pub fn search_group(jobs: &[&Job], ev: &mut Evaluator, progress: impl FnMut(&Progress)) -> Vec<Vec<LayerResult>> {
    let Some(first) = jobs.first() else { return Vec::new() };
    let cfg = &first.cfg;
    assert!(jobs.iter().all(|j| j.cfg == *cfg), "a group shares one search configuration");
    // Per job, as search_dedup: each task maps to the first task of the job with its shape.
    let mut unique: Vec<TaskKey> = Vec::new();
    let mut slot: HashMap<TaskKey, usize> = HashMap::new();
    let mut plan: Vec<Vec<(usize, usize)>> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let tasks = job.tasks();
        let mut p = Vec::with_capacity(tasks.len());
        for t in &tasks {
            let rep = *tasks.iter().find(|u| u.1 == t.1 && u.2 == t.2).expect("t itself matches");
            let k = *slot.entry(rep).or_insert_with(|| {
                unique.push(rep);
                unique.len() - 1
            });
            p.push((t.0, k));
        }
        plan.push(p);
    }
    let found = search(&unique, cfg, ev, progress);
    plan.into_iter()
        .zip(jobs)
        .map(|(p, job)| {
            let mut rs: Vec<LayerResult> = p
                .into_iter()
                .map(|(idx, k)| {
                    let mut r = found[k].clone();
                    if r.index != idx {
                        r.same_as = Some(r.index);
                        r.index = idx;
                        r.evaluations = 0;
                    }
                    r
                })
                .collect();
            // Shapes are shared across the group's models; strides are each job's model's.
            LayerResult::set_strides(&mut rs, &job.model);
            rs
        })
        .collect()
}

/// Where a running sweep is, for a progress display: reported as each group's search advances
/// and as each job's rows are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepProgress {
    /// Jobs this run has to do (its share of the sweep not finished before).
    pub jobs_total: usize,
    /// Of those, jobs done so far.
    pub jobs_done: usize,
    /// The group being searched (0-based) and the number of groups.
    pub group: usize,
    pub groups: usize,
    /// Jobs in that group.
    pub group_jobs: usize,
    /// The group's search round (generation) and its rounds in all (0 when it runs to a budget).
    pub generation: usize,
    pub epochs: usize,
}

/// Runs (or resumes) a sweep into `opts.outdir`, calling `progress` as it goes.
pub fn run_sweep(
    sweep: &Sweep,
    opts: &SweepOptions,
    mut progress: impl FnMut(&SweepProgress),
) -> Result<SweepSummary, SweepError> {
    let start = Instant::now();
    let (mut store, found) = Store::open(&opts.outdir, sweep, opts.shard)?;
    let slice: Vec<&Job> = sweep.jobs.iter().filter(|j| opts.shard.is_none_or(|s| s.contains(j.index))).collect();
    let pending: Vec<&Job> = slice.iter().copied().filter(|j| !found.finished.contains(&j.id)).collect();
    let todo = &pending[..opts.max_jobs.unwrap_or(usize::MAX).min(pending.len())];
    // Finished jobs whose folder is gone are rerun to rebuild it; their rows are already stored.
    let rebuild: Vec<&Job> = if opts.job_dirs {
        slice
            .iter()
            .copied()
            .filter(|j| found.finished.contains(&j.id) && !opts.outdir.join("jobs").join(&j.id).is_dir())
            .collect()
    } else {
        Vec::new()
    };
    let rebuild_ids: std::collections::HashSet<&str> = rebuild.iter().map(|j| j.id.as_str()).collect();
    let remaining = pending.len() - todo.len();
    let todo: Vec<&Job> = todo.iter().copied().chain(rebuild.iter().copied()).collect();
    let todo = &todo[..];
    let mut summary = SweepSummary {
        jobs: slice.len(),
        already: slice.len() - pending.len(),
        remaining,
        repaired: found.repaired,
        rebuilt: rebuild.len(),
        ..SweepSummary::default()
    };
    if !rebuild.is_empty() && !opts.quiet {
        log::info!(
            "{} finished job(s) have no jobs/<id>/ folder in {} (deleted?); rerunning them to rebuild it",
            rebuild.len(),
            opts.outdir.display()
        );
    }
    if found.repaired && !opts.quiet {
        log::info!("{} had rows of unfinished jobs or a partial last line (interrupted run); they were dropped and those jobs rerun", opts.outdir.display());
    }
    if todo.is_empty() {
        summary.seconds = start.elapsed().as_secs_f64();
        return Ok(summary);
    }
    let mut ev = Evaluator::new(opts.backend)?;
    if let Some(why) = &ev.fallback_reason {
        log::info!("{why}");
    }
    let groups = make_groups(todo, opts.group_jobs);
    if !opts.quiet {
        let shard = opts.shard.map(|s| format!(" (shard {s})")).unwrap_or_default();
        log::info!(
            "sweep: {} job(s){shard}, {} already finished, running {} in {} group(s) on {}",
            slice.len(),
            summary.already,
            todo.len(),
            groups.len(),
            ev.describe()
        );
    }
    let mut at = SweepProgress {
        jobs_total: todo.len(),
        jobs_done: 0,
        group: 0,
        groups: groups.len(),
        group_jobs: 0,
        generation: 0,
        epochs: 0,
    };
    for (gi, group) in groups.iter().enumerate() {
        at = SweepProgress { group: gi, group_jobs: group.len(), generation: 0, epochs: group[0].cfg.epochs, ..at };
        progress(&at);
        let results = search_group(group, &mut ev, |p| {
            at.generation = p.generation;
            progress(&at);
        });
        for (job, res) in group.iter().zip(results) {
            // The job's folder first: a row in results.* then implies its folder is complete.
            if opts.job_dirs {
                let dir = opts.outdir.join("jobs").join(&job.id);
                // SVG charts only: a sweep has many job folders (its own report has PNGs).
                write_search_outputs_with(&dir, &job.model.name, &job.cfg, &res, OutputOptions { png: false })
                    .with_context(|| format!("writing {}", dir.display()))?;
            }
            if rebuild_ids.contains(job.id.as_str()) {
                at.jobs_done += 1;
                progress(&at);
                continue;
            }
            summary.evaluations += res.iter().map(|r| r.evaluations).sum::<u64>();
            store.append(&job_rows(job, &res))?;
            summary.ran += 1;
            at.jobs_done += 1;
            progress(&at);
        }
    }
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}
