//! The batch evaluator: one pipeline, two reusable buffer sets, chunked dispatches.
//!
//! A population is split into chunks no larger than [`GpuOptions::max_chunk`](super::GpuOptions)
//! and no larger than what one storage binding may hold on this device. Chunks alternate between
//! two buffer sets, so while chunk `i` computes, the host uploads chunk `i + 1`'s genomes and
//! copies chunk `i - 1`'s results out; at most two chunks are ever in flight.

use super::{GpuContext, GpuError};
use crate::mapping::pack::{PackedProblem, PackedResult, HEADER_WORDS, LEVEL_WORDS, SP2_SHIFT};
use crate::mapping::MAX_LEVELS;
use crate::model::packed::evaluate_packed;
use bytemuck::{Pod, Zeroable};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::mpsc;

/// Invocations per workgroup; must match `@workgroup_size` in `shaders/maestro.wgsl`.
pub const WORKGROUP_SIZE: u32 = 64;

/// Default genomes per chunk: large enough to fill any GPU, small enough that the host-side
/// staging of one chunk stays around 100 MB.
pub(super) const DEFAULT_CHUNK: usize = 1 << 20;

const SHADER: &str = include_str!("../../shaders/maestro.wgsl");
const RESULT_BYTES: u64 = std::mem::size_of::<PackedResult>() as u64;
const PROBLEM_BYTES: u64 = std::mem::size_of::<PackedProblem>() as u64;

/// Status the kernel writes when the driver cut its loops short (Mesa's llvmpipe before 2023
/// caps the loop iterations of one shader run; see `shaders/maestro.wgsl`). [`GpuEvaluator`]
/// re-evaluates such genomes on the CPU, so callers never see this status.
pub const STATUS_INCOMPLETE: u32 = u32::MAX;

/// Largest tile, cluster size or layer dimension the kernel accepts. Its table arithmetic is in
/// i32 (with 64-bit guards where products of two table values are compared), which is exact well
/// beyond this; the CPU model would also overflow nothing here.
pub const MAX_GPU_VALUE: u32 = 1 << 24;

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    count: u32,
    stride: u32,
    row: u32,
    flags: u32,
}

/// One set of per-chunk buffers. Buffers only grow; the bind group is rebuilt when any bound
/// buffer is replaced.
struct Slot {
    params: wgpu::Buffer,
    genomes: Option<wgpu::Buffer>,
    results: Option<wgpu::Buffer>,
    readback: Option<wgpu::Buffer>,
    bind_group: Option<wgpu::BindGroup>,
}

struct InFlight {
    slot: usize,
    count: usize,
    submission: wgpu::SubmissionIndex,
    mapped: mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>,
}

/// Evaluates packed genomes on the GPU. Build once; call [`evaluate`](Self::evaluate) as often
/// as needed.
pub struct GpuEvaluator {
    ctx: GpuContext,
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    problems: Option<wgpu::Buffer>,
    slots: [Slot; 2],
    max_chunk: usize,
    last_fallbacks: usize,
    total_fallbacks: u64,
    last_cpu_routed: usize,
    simulate_incomplete: bool,
    poll_timeout: std::time::Duration,
}

impl std::fmt::Debug for GpuEvaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuEvaluator")
            .field("adapter", &self.ctx.adapter_info())
            .field("max_chunk", &self.max_chunk)
            .finish()
    }
}

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl GpuEvaluator {
    /// Compiles the kernel and creates the pipeline on `ctx`'s device.
    pub fn new(ctx: GpuContext) -> Result<GpuEvaluator, GpuError> {
        let device = ctx.device();
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("maestro.wgsl"),
            source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(SHADER)),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("maestro bindings"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: wgpu::BufferSize::new(std::mem::size_of::<Params>() as u64),
                    },
                    count: None,
                },
                storage_entry(1, true),
                storage_entry(2, true),
                storage_entry(3, false),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("maestro layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("maestro"),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(GpuError::Pipeline(e.to_string()));
        }
        ctx.check()?;
        let slot = |i: usize| Slot {
            params: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(["params 0", "params 1"][i]),
                size: std::mem::size_of::<Params>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            genomes: None,
            results: None,
            readback: None,
            bind_group: None,
        };
        let slots = [slot(0), slot(1)];
        let max_chunk = ctx.max_chunk;
        let poll_timeout = ctx.poll_timeout;
        Ok(GpuEvaluator {
            ctx,
            pipeline,
            layout,
            problems: None,
            slots,
            max_chunk,
            last_fallbacks: 0,
            total_fallbacks: 0,
            last_cpu_routed: 0,
            simulate_incomplete: false,
            poll_timeout,
        })
    }

    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// See [`GpuContext::adapter_info`].
    pub fn adapter_info(&self) -> String {
        self.ctx.adapter_info()
    }

    /// Genomes per dispatch for genomes of `stride` words: the configured maximum, capped so that
    /// neither the genome nor the result binding exceeds the device's storage-binding or
    /// buffer-size limit.
    pub fn chunk_len(&self, stride: usize) -> usize {
        let lim = self.ctx.limits();
        let bytes = lim.max_storage_buffer_binding_size.min(lim.max_buffer_size) & !3; // bindings must be multiples of 4
        let by_genomes = bytes / (stride.max(1) as u64 * 4);
        let by_results = bytes / RESULT_BYTES;
        (self.max_chunk as u64).min(by_genomes).min(by_results).max(1) as usize
    }

    /// Genomes of the last [`evaluate`](Self::evaluate) call that the GPU could not finish and
    /// were evaluated on the CPU instead (always 0 except on loop-capped software drivers).
    pub fn last_cpu_fallbacks(&self) -> usize {
        self.last_fallbacks
    }

    /// Genomes of the last [`evaluate`](Self::evaluate) call sent straight to the CPU reference
    /// because the kernel does not take them (a second spatial dim, values outside
    /// 1..=[`MAX_GPU_VALUE`], a cluster product above the PEs, a malformed genome or problem).
    /// Each is routed alone: the rest of the batch still runs on the GPU.
    pub fn last_cpu_routed(&self) -> usize {
        self.last_cpu_routed
    }

    /// [`last_cpu_fallbacks`](Self::last_cpu_fallbacks) summed over every call.
    pub fn total_cpu_fallbacks(&self) -> u64 {
        self.total_fallbacks
    }

    /// Test hook: makes the kernel report every 7th genome of each dispatch as unfinished, so the
    /// CPU fallback for loop-capped drivers can be tested on any device.
    #[doc(hidden)]
    pub fn simulate_incomplete(&mut self, on: bool) {
        self.simulate_incomplete = on;
    }

    /// Sets the largest chunk (genomes per dispatch); device limits still apply.
    pub fn set_max_chunk(&mut self, genomes: usize) {
        self.max_chunk = genomes.max(1);
    }

    /// Evaluates `words.len() / stride` packed genomes (layout in `mapping::pack`) against
    /// `problems`. `out` is cleared, then holds one result per genome, in order, each identical to
    /// `model::packed::evaluate_packed`.
    pub fn evaluate(
        &mut self,
        problems: &[PackedProblem],
        words: &[u32],
        stride: usize,
        out: &mut Vec<PackedResult>,
    ) -> Result<(), GpuError> {
        out.clear();
        self.last_fallbacks = 0;
        self.last_cpu_routed = 0;
        let n = check_layout(words, stride)?;
        if n == 0 {
            return Ok(());
        }
        // Genomes the kernel does not take are answered by the CPU reference one by one; their
        // slots in the upload hold a harmless stand-in so the kernel never reads out of range.
        let problem_ok: Vec<bool> = problems.iter().map(problem_in_kernel_range).collect();
        let genome = |i: usize| &words[i * stride..(i + 1) * stride];
        let routed: Vec<usize> = (0..n).filter(|&i| !genome_in_kernel_range(&problem_ok, genome(i))).collect();
        let r = if routed.len() == n {
            out.resize(n, PackedResult::default());
            Ok(())
        } else {
            self.ctx.check()?;
            out.reserve(n);
            let stand_in = problem_ok.iter().position(|&ok| ok).expect("some genome is in range");
            let sanitized = (!routed.is_empty()).then(|| {
                let mut w = words.to_vec();
                for &i in &routed {
                    w[i * stride..(i + 1) * stride].copy_from_slice(&stand_in_genome(stand_in as u32, stride));
                }
                w
            });
            self.run(problems, sanitized.as_deref().unwrap_or(words), stride, n, out)
        };
        if r.is_err() {
            // Buffers may be left mapped or half-written: start from fresh ones next time.
            out.clear();
            self.problems = None;
            for s in &mut self.slots {
                s.genomes = None;
                s.results = None;
                s.readback = None;
                s.bind_group = None;
            }
            return r;
        }
        if !routed.is_empty() {
            let fixed: Vec<PackedResult> = routed.par_iter().map(|&i| evaluate_packed(problems, genome(i))).collect();
            for (&i, res) in routed.iter().zip(fixed) {
                out[i] = res;
            }
            self.last_cpu_routed = routed.len();
        }
        Ok(())
    }

    fn run(
        &mut self,
        problems: &[PackedProblem],
        words: &[u32],
        stride: usize,
        n: usize,
        out: &mut Vec<PackedResult>,
    ) -> Result<(), GpuError> {
        self.upload_problems(problems)?;
        let chunk = self.chunk_len(stride);
        let mut in_flight: VecDeque<InFlight> = VecDeque::with_capacity(2);
        let mut start = 0;
        let mut slot = 0;
        while start < n {
            let count = chunk.min(n - start);
            let f = self.submit(slot, &words[start * stride..(start + count) * stride], count, stride)?;
            in_flight.push_back(f);
            // Collect the previous chunk while this one computes; its slot is then free again.
            if in_flight.len() == 2 {
                let done = in_flight.pop_front().expect("two chunks in flight");
                self.finish(done, out)?;
            }
            start += count;
            slot ^= 1;
        }
        while let Some(done) = in_flight.pop_front() {
            self.finish(done, out)?;
        }
        self.ctx.check()?;
        // A status the kernel is not meant to write (its unset-memo marker included) is a kernel
        // or driver fault: an error, never a plausible crash verdict.
        if let Some((i, r)) = out.iter().enumerate().find(|(_, r)| !known_status(r.status)) {
            return Err(GpuError::BadStatus { genome: i, status: r.status });
        }
        // Genomes whose run hit a driver loop cap: redo them with the CPU reference, which the
        // kernel matches bit for bit elsewhere, so the caller cannot tell the difference.
        let genome = |i: usize| &words[i * stride..(i + 1) * stride];
        let redo: Vec<usize> = (0..n).filter(|&i| out[i].status == STATUS_INCOMPLETE).collect();
        if !redo.is_empty() {
            let fixed: Vec<PackedResult> = redo.par_iter().map(|&i| evaluate_packed(problems, genome(i))).collect();
            for (&i, r) in redo.iter().zip(fixed) {
                out[i] = r;
            }
            self.last_fallbacks = redo.len();
            self.total_fallbacks += redo.len() as u64;
        }
        Ok(())
    }

    fn upload_problems(&mut self, problems: &[PackedProblem]) -> Result<(), GpuError> {
        let lim = self.ctx.limits();
        let bind_limit = lim.max_storage_buffer_binding_size.min(lim.max_buffer_size) & !3; // bindings must be multiples of 4
        let bytes = (problems.len() as u64 * PROBLEM_BYTES).max(PROBLEM_BYTES);
        if bytes > bind_limit {
            return Err(GpuError::InvalidInput(format!(
                "{} problems need {bytes} bytes, above the device's binding limit of {bind_limit}",
                problems.len()
            )));
        }
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        if Self::grow(self.ctx.device(), &mut self.problems, bytes, bind_limit, usage, "problems") {
            for s in &mut self.slots {
                s.bind_group = None;
            }
        }
        let buf = self.problems.as_ref().expect("problem buffer");
        self.ctx.queue().write_buffer(buf, 0, bytemuck::cast_slice(problems));
        Ok(())
    }

    /// Returns a buffer of at least `bytes`, replacing `slot` (and reporting it) if too small.
    /// Growth rounds up to a power of two within the binding limit, so a run of slightly larger
    /// calls does not reallocate each time.
    fn grow(
        device: &wgpu::Device,
        slot: &mut Option<wgpu::Buffer>,
        bytes: u64,
        limit: u64,
        usage: wgpu::BufferUsages,
        label: &str,
    ) -> bool {
        if slot.as_ref().is_some_and(|b| b.size() >= bytes) {
            return false;
        }
        let size = bytes.next_power_of_two().min(limit).max(bytes);
        *slot = Some(device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage,
            mapped_at_creation: false,
        }));
        true
    }

    fn submit(&mut self, si: usize, words: &[u32], count: usize, stride: usize) -> Result<InFlight, GpuError> {
        let device = self.ctx.device().clone();
        let queue = self.ctx.queue().clone();
        let lim = self.ctx.limits();
        let bind_limit = lim.max_storage_buffer_binding_size.min(lim.max_buffer_size) & !3; // bindings must be multiples of 4
        let genome_bytes = std::mem::size_of_val(words) as u64;
        let result_bytes = count as u64 * RESULT_BYTES;
        let s = &mut self.slots[si];
        let mut stale = Self::grow(
            &device,
            &mut s.genomes,
            genome_bytes,
            bind_limit,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            "genomes",
        );
        stale |= Self::grow(
            &device,
            &mut s.results,
            result_bytes,
            bind_limit,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            "results",
        );
        Self::grow(
            &device,
            &mut s.readback,
            result_bytes,
            lim.max_buffer_size,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            "readback",
        );
        if stale {
            s.bind_group = None;
        }
        let (genomes, results, readback) =
            (s.genomes.as_ref().unwrap(), s.results.as_ref().unwrap(), s.readback.as_ref().unwrap());
        if s.bind_group.is_none() {
            let problems = self.problems.as_ref().expect("problems uploaded first");
            s.bind_group = Some(device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("maestro bind group"),
                layout: &self.layout,
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: s.params.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 1, resource: problems.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 2, resource: genomes.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 3, resource: results.as_entire_binding() },
                ],
            }));
        }
        // 2D dispatch: rows of at most max_compute_workgroups_per_dimension workgroups.
        let groups = count.div_ceil(WORKGROUP_SIZE as usize) as u64;
        let max_x = lim.max_compute_workgroups_per_dimension.max(1) as u64;
        let gx = groups.min(max_x);
        let gy = groups.div_ceil(gx);
        if gy > max_x {
            return Err(GpuError::InvalidInput(format!("chunk of {count} genomes needs too many workgroups")));
        }
        let params = Params {
            count: count as u32,
            stride: stride as u32,
            row: (gx * WORKGROUP_SIZE as u64) as u32,
            flags: self.simulate_incomplete as u32,
        };
        queue.write_buffer(&s.params, 0, bytemuck::bytes_of(&params));
        queue.write_buffer(genomes, 0, bytemuck::cast_slice(words));
        let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("maestro chunk") });
        {
            let mut pass =
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("maestro"), timestamp_writes: None });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, s.bind_group.as_ref(), &[]);
            pass.dispatch_workgroups(gx as u32, gy as u32, 1);
        }
        enc.copy_buffer_to_buffer(results, 0, readback, 0, result_bytes);
        let submission = queue.submit([enc.finish()]);
        let (tx, rx) = mpsc::channel();
        readback.slice(0..result_bytes).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        Ok(InFlight { slot: si, count, submission, mapped: rx })
    }

    fn finish(&mut self, f: InFlight, out: &mut Vec<PackedResult>) -> Result<(), GpuError> {
        let device = self.ctx.device();
        // Bounded wait: a hung driver or device becomes an error (and a CPU fallback upstream)
        // instead of a process that never returns.
        let timeout = self.poll_timeout;
        let wait = wgpu::PollType::Wait { submission_index: Some(f.submission), timeout: Some(timeout) };
        let polled = device.poll(wait);
        self.ctx.check()?;
        polled.map_err(|e| match e {
            wgpu::PollError::Timeout => GpuError::Timeout(timeout),
            e => GpuError::Map(format!("waiting for the GPU: {e}")),
        })?;
        let mapped = match f.mapped.try_recv() {
            Ok(r) => r,
            // The callback normally runs inside the wait above; give it one more poll.
            Err(mpsc::TryRecvError::Empty) => {
                let _ = device.poll(wgpu::PollType::Wait { submission_index: None, timeout: Some(timeout) });
                f.mapped.try_recv().map_err(|_| GpuError::Map("map callback never ran".into()))?
            }
            Err(mpsc::TryRecvError::Disconnected) => return Err(GpuError::Map("map callback dropped".into())),
        };
        self.ctx.check()?;
        mapped.map_err(|e| GpuError::Map(e.to_string()))?;
        let readback = self.slots[f.slot].readback.as_ref().expect("readback buffer");
        let bytes = f.count as u64 * RESULT_BYTES;
        {
            let view = readback.get_mapped_range(0..bytes).map_err(|e| GpuError::Map(e.to_string()))?;
            let at = out.len();
            out.resize(at + f.count, PackedResult::default());
            // Copy as bytes: the mapped pointer carries no alignment guarantee for a typed cast.
            bytemuck::cast_slice_mut::<PackedResult, u8>(&mut out[at..]).copy_from_slice(&view);
        }
        readback.unmap();
        Ok(())
    }
}

/// Statuses the kernel writes: 0, a crash code, or the loop-cap marker.
fn known_status(s: u32) -> bool {
    s == 0 || s == STATUS_INCOMPLETE || crate::model::Crash::from_code(s).is_some()
}

/// Validates the batch layout (the only errors that concern a whole batch). Returns the genome
/// count.
fn check_layout(words: &[u32], stride: usize) -> Result<usize, GpuError> {
    let bad = |m: String| Err(GpuError::InvalidInput(m));
    if stride < HEADER_WORDS + LEVEL_WORDS {
        return bad(format!("stride {stride} is shorter than one level ({})", HEADER_WORDS + LEVEL_WORDS));
    }
    if !words.len().is_multiple_of(stride) {
        return bad(format!("{} words is not a multiple of the stride {stride}", words.len()));
    }
    if stride > u32::MAX as usize / 4 {
        return bad(format!("stride {stride} is too large"));
    }
    Ok(words.len() / stride)
}

/// Whether the kernel takes a problem: dims in 1..=[`MAX_GPU_VALUE`], nonzero bandwidths (0
/// would divide by zero on the device; the CPU reads it as unlimited).
fn problem_in_kernel_range(p: &PackedProblem) -> bool {
    p.dims.iter().all(|&d| d > 0 && d as u32 <= MAX_GPU_VALUE) && p.noc_bw != 0 && p.offchip_bw != 0
}

/// Whether the kernel evaluates this genome exactly as the CPU reference does. Everything the
/// CPU's input check rejects, and everything outside the kernel's exact range, is `false`: a
/// malformed header or level, a second spatial dim, any tile or gene-0 size outside
/// 1..=[`MAX_GPU_VALUE`], a PE count outside 1..=2^24, a cluster product past 64 bits (which
/// would wrap in the kernel's product).
pub fn genome_in_kernel_range(problem_ok: &[bool], g: &[u32]) -> bool {
    let levels = g[1] as usize;
    if !problem_ok.get(g[0] as usize).copied().unwrap_or(false) {
        return false;
    }
    if !(1..=MAX_LEVELS).contains(&levels) || HEADER_WORDS + LEVEL_WORDS * levels > g.len() {
        return false;
    }
    let num_pe = g[2];
    if num_pe == 0 || i64::from(num_pe) > crate::hardware::MAX_NUM_PE {
        return false;
    }
    let mut product = Some(1u64);
    for l in 0..levels {
        let b = &g[HEADER_WORDS + LEVEL_WORDS * l..HEADER_WORDS + LEVEL_WORDS * (l + 1)];
        let mut seen = 0u32;
        for i in 0..6 {
            let d = (b[0] >> (3 + 3 * i)) & 7;
            if d > 5 || seen & (1 << d) != 0 {
                return false;
            }
            seen |= 1 << d;
        }
        if b[0] & 7 > 5 || (b[0] >> SP2_SHIFT) & 7 != 0 {
            return false;
        }
        if b[1] == 0 || b[1] > MAX_GPU_VALUE || b[2..8].iter().any(|&t| t == 0 || t > MAX_GPU_VALUE) {
            return false;
        }
        if l > 0 {
            product = product.and_then(|p| p.checked_mul(u64::from(b[1])));
        }
    }
    // The kernel compares its 64-bit product with the PEs itself (MAESTRO's crash); one that
    // would wrap in 64 bits is the CPU's.
    product.is_some()
}

/// A one-level genome that is always in range (problem `p`, one PE, unit tiles), written into
/// the slots of genomes the CPU answers instead.
fn stand_in_genome(p: u32, stride: usize) -> Vec<u32> {
    let order = (0..6u32).fold(0u32, |w, i| w | (i << (3 + 3 * i)));
    let mut w = vec![p, 1, 1, 0, order, 1, 1, 1, 1, 1, 1, 1];
    w.resize(stride, 0);
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_level(problem: u32, levels: u32) -> Vec<u32> {
        let order = (0..6u32).fold(0u32, |w, i| w | (i << (3 + 3 * i)));
        let mut w = vec![problem, levels, 16, 0];
        for _ in 0..levels {
            w.extend_from_slice(&[order, 1, 1, 1, 1, 1, 1, 1]);
        }
        w
    }

    fn problem() -> PackedProblem {
        PackedProblem {
            dims: [4, 4, 6, 6, 3, 3],
            depthwise: 0,
            noc_bw: 1 << 30,
            offchip_bw: 1 << 30,
            l1_cap: 1 << 30,
            l2_cap: 1 << 30,
            _pad: 0,
        }
    }

    #[test]
    fn input_checks() {
        let ok = [true];
        assert_eq!(check_layout(&one_level(0, 1), 12).unwrap(), 1);
        assert_eq!(check_layout(&[], 12).unwrap(), 0);
        assert!(check_layout(&one_level(0, 1)[..11], 12).is_err(), "ragged");
        assert!(genome_in_kernel_range(&ok, &one_level(0, 1)));
        assert!(!genome_in_kernel_range(&ok, &one_level(1, 1)), "problem index out of range");
        assert!(!genome_in_kernel_range(&[false], &one_level(0, 1)), "problem out of range");
        assert!(!genome_in_kernel_range(&ok, &one_level(0, 2)[..12]), "two levels in a one-level stride");
        let mut w = one_level(0, 1);
        w[6] = 0;
        assert!(!genome_in_kernel_range(&ok, &w), "zero tile");
        let mut w = one_level(0, 1);
        w[4] = 0;
        assert!(!genome_in_kernel_range(&ok, &w), "repeated dim");
        let mut w = one_level(0, 1);
        w[4] |= 7 << SP2_SHIFT;
        assert!(!genome_in_kernel_range(&ok, &w), "sp2 code 7");
        let mut w = one_level(0, 1);
        w[5] = 0;
        assert!(!genome_in_kernel_range(&ok, &w), "top gene-0 size 0");
        // Cluster sizes whose 64-bit product would wrap in the kernel go to the CPU.
        let mut w = one_level(0, 4);
        w.truncate(4 + 8 * 4);
        for l in 1..4 {
            w[5 + 8 * l] = MAX_GPU_VALUE;
        }
        assert!(!genome_in_kernel_range(&ok, &w), "cluster product past 64 bits");
        w[5 + 8 * 3] = 1;
        assert!(genome_in_kernel_range(&ok, &w), "cluster product above the PEs is the kernel's crash");
        assert!(problem_in_kernel_range(&problem()));
        assert!(!problem_in_kernel_range(&PackedProblem { noc_bw: 0, ..problem() }));
        assert!(!problem_in_kernel_range(&PackedProblem::zeroed()));
    }
}
