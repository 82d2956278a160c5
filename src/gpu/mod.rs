//! GPU backend: the integer cost model (`model::packed::evaluate_packed`) as a WGSL compute
//! shader (`shaders/maestro.wgsl`), run through wgpu. One invocation evaluates one packed genome
//! and writes one [`PackedResult`](crate::mapping::pack::PackedResult), bit-identical to the CPU.
//!
//! * [`GpuContext`] picks an adapter (by name substring from [`GpuOptions::adapter`] or the
//!   `GAMMAFLOW_ADAPTER` environment variable; backends from `WGPU_BACKEND`) and opens a device.
//!   Having no adapter is an ordinary [`GpuError`], never a panic.
//! * [`GpuEvaluator`] owns the pipeline and reusable buffers and evaluates populations of any size
//!   in chunks that respect the device's binding and dispatch limits.
//! * Software Vulkan (Mesa's llvmpipe, 22.x) caps the loop iterations of one shader run; the kernel
//!   detects a run that hit the cap and the evaluator redoes those genomes with the CPU reference
//!   ([`GpuEvaluator::last_cpu_fallbacks`] counts them; real GPUs never need it).

mod evaluator;

pub use evaluator::{genome_in_kernel_range, GpuEvaluator, MAX_GPU_VALUE, STATUS_INCOMPLETE, WORKGROUP_SIZE};

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

/// Environment variable selecting an adapter by (case-insensitive) name substring.
pub const ADAPTER_ENV: &str = "GAMMAFLOW_ADAPTER";

/// Everything that can go wrong on the GPU path. None of these panic; callers can fall back to
/// the CPU.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GpuError {
    /// No adapter could be opened (the text says why, e.g. wgpu's "No suitable graphics adapter").
    #[error("{0}")]
    NoAdapter(String),
    #[error("no adapter name contains {wanted:?}; available: {available}")]
    AdapterNotFound { wanted: String, available: String },
    #[error("could not open a device on {adapter}: {reason}")]
    Device { adapter: String, reason: String },
    #[error("compute pipeline could not be built: {0}")]
    Pipeline(String),
    #[error("GPU device lost: {0}")]
    DeviceLost(String),
    /// An error wgpu reported asynchronously (validation, out of memory, internal).
    #[error("wgpu error: {0}")]
    Wgpu(String),
    #[error("reading results back from the GPU failed: {0}")]
    Map(String),
    #[error("invalid GPU input: {0}")]
    InvalidInput(String),
    /// The kernel wrote a status it never writes by design (e.g. its unset-memo marker).
    #[error("GPU kernel returned unknown status {status:#x} for genome {genome}")]
    BadStatus { genome: usize, status: u32 },
    #[error("GPU did not finish within {0:?}")]
    Timeout(std::time::Duration),
}

/// How to open the GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuOptions {
    /// Adapter name substring (case-insensitive). `None` reads [`ADAPTER_ENV`]; if that is unset
    /// too, wgpu's preferred adapter for `power_preference` is used.
    pub adapter: Option<String>,
    /// Backends to consider. `None` means all compiled-in backends, narrowed by `WGPU_BACKEND`
    /// (e.g. `vulkan`, `metal`, `dx12`) when that is set.
    pub backends: Option<wgpu::Backends>,
    pub power_preference: wgpu::PowerPreference,
    /// Largest number of genomes per dispatch; also capped by the device's binding limits. Bounds
    /// the host and device memory the evaluator keeps.
    pub max_chunk: usize,
    /// Longest wait for one chunk's results; past it the call fails with [`GpuError::Timeout`].
    /// Defaults to 600 s, or `GAMMAFLOW_GPU_TIMEOUT_S` seconds when that is set.
    pub poll_timeout: std::time::Duration,
}

impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions {
            adapter: None,
            backends: None,
            power_preference: wgpu::PowerPreference::HighPerformance,
            max_chunk: evaluator::DEFAULT_CHUNK,
            poll_timeout: std::env::var("GAMMAFLOW_GPU_TIMEOUT_S")
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
                .map(std::time::Duration::from_secs_f64)
                .unwrap_or(std::time::Duration::from_secs(600)),
        }
    }
}

/// Errors reported asynchronously by wgpu (validation, device loss), collected so they can be
/// returned from the call that triggered them instead of wgpu's default panic.
#[derive(Default)]
struct ErrorSink {
    lost: Mutex<Option<String>>,
    uncaptured: Mutex<Option<String>>,
}

impl ErrorSink {
    fn check(&self) -> Result<(), GpuError> {
        if let Some(r) = self.lost.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Err(GpuError::DeviceLost(r));
        }
        if let Some(r) = self.uncaptured.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(GpuError::Wgpu(r));
        }
        Ok(())
    }
}

/// An opened GPU: adapter, device and queue.
pub struct GpuContext {
    adapter: wgpu::Adapter,
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    max_chunk: usize,
    poll_timeout: std::time::Duration,
    sink: Arc<ErrorSink>,
}

impl fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuContext").field("adapter", &self.adapter_info()).finish()
    }
}

fn describe(info: &wgpu::AdapterInfo) -> String {
    let mut s = format!("{} ({:?}, {:?}", info.name, info.backend, info.device_type);
    if !info.driver.is_empty() {
        s.push_str(&format!(", {}", info.driver));
        if !info.driver_info.is_empty() {
            s.push_str(&format!(" {}", info.driver_info));
        }
    }
    s.push(')');
    s
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Mesa's Vulkan window-system layer connects to Wayland while the instance is set up, and
/// libwayland prints `error: XDG_RUNTIME_DIR is invalid or not set` when that variable is unset
/// (headless servers, containers, CI). gammaflow never presents to a window, so when the
/// variable is unset or not a directory it gets a private, empty directory for the process,
/// reused; the probe then finds no compositor and stays silent.
fn quiet_window_system_probe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if !cfg!(target_os = "linux")
            || std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).is_dir())
        {
            return;
        }
        // One per user, reused by every run (no litter of per-process directories).
        let user = std::env::var("USER").unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("gammaflow-runtime-{user}"));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        if b.create(&dir).is_ok() || dir.is_dir() {
            // Set before any GPU thread exists (the instance is created right after this).
            std::env::set_var("XDG_RUNTIME_DIR", &dir);
            log::debug!("XDG_RUNTIME_DIR unset: using {} for the Vulkan window-system probe", dir.display());
        }
    });
}

fn make_instance(opts: &GpuOptions) -> wgpu::Instance {
    quiet_window_system_probe();
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    if let Some(b) = opts.backends {
        desc.backends = b;
    }
    wgpu::Instance::new(desc)
}

impl GpuContext {
    /// Opens an adapter and device. Fails (without panicking) when there is no usable adapter.
    pub fn new(opts: &GpuOptions) -> Result<GpuContext, GpuError> {
        // A broken driver stack can make wgpu or the loader panic; that must read as "no GPU".
        catch_unwind(AssertUnwindSafe(|| Self::open(opts)))
            .unwrap_or_else(|p| Err(GpuError::NoAdapter(format!("GPU initialisation panicked: {}", panic_text(p)))))
    }

    fn open(opts: &GpuOptions) -> Result<GpuContext, GpuError> {
        let instance = make_instance(opts);
        let wanted = opts.adapter.clone().or_else(|| std::env::var(ADAPTER_ENV).ok()).filter(|s| !s.trim().is_empty());
        let adapter = match wanted {
            Some(name) => {
                let all = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
                let needle = name.trim().to_lowercase();
                let names: Vec<String> = all.iter().map(|a| describe(&a.get_info())).collect();
                match all.into_iter().find(|a| a.get_info().name.to_lowercase().contains(&needle)) {
                    Some(a) => a,
                    None if names.is_empty() => {
                        return Err(GpuError::NoAdapter(format!("no adapters at all (looking for {name:?})")))
                    }
                    None => return Err(GpuError::AdapterNotFound { wanted: name, available: names.join("; ") }),
                }
            }
            None => pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: opts.power_preference,
                ..Default::default()
            }))
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?,
        };
        let info = adapter.get_info();
        // Ask for the adapter's own limits: the chunk size depends on the storage-binding and
        // buffer-size limits, which the WebGPU defaults (128 MiB / 256 MiB) would cap needlessly.
        let limits = adapter.limits();
        let desc = wgpu::DeviceDescriptor {
            label: Some("gammaflow"),
            required_features: wgpu::Features::empty(),
            required_limits: limits,
            memory_hints: wgpu::MemoryHints::Performance,
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| GpuError::Device { adapter: describe(&info), reason: e.to_string() })?;
        let sink = Arc::new(ErrorSink::default());
        {
            let s = Arc::clone(&sink);
            device.set_device_lost_callback(move |reason, msg| {
                *s.lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{reason:?}: {msg}"));
            });
            let s = Arc::clone(&sink);
            device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                let mut slot = s.uncaptured.lock().unwrap_or_else(|e| e.into_inner());
                if slot.is_none() {
                    *slot = Some(e.to_string());
                }
            }));
        }
        Ok(GpuContext {
            adapter,
            device,
            queue,
            info,
            max_chunk: opts.max_chunk.max(1),
            poll_timeout: opts.poll_timeout,
            sink,
        })
    }

    /// Adapter name, backend, device type and driver, e.g.
    /// `llvmpipe (LLVM 15.0.7, 256 bits) (Vulkan, Cpu, llvmpipe Mesa 23.2.1)`.
    pub fn adapter_info(&self) -> String {
        describe(&self.info)
    }

    pub fn info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }
    pub fn adapter(&self) -> &wgpu::Adapter {
        &self.adapter
    }
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }
    pub fn limits(&self) -> wgpu::Limits {
        self.device.limits()
    }

    /// Device loss or an uncaptured validation error since the last check, as an error.
    pub fn check(&self) -> Result<(), GpuError> {
        self.sink.check()
    }
}

/// Names of every adapter wgpu can see with these options (for `--list-adapters`-style output).
pub fn list_adapters(opts: &GpuOptions) -> Vec<String> {
    catch_unwind(AssertUnwindSafe(|| {
        let instance = make_instance(opts);
        pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
            .iter()
            .map(|a| describe(&a.get_info()))
            .collect()
    }))
    .unwrap_or_default()
}

/// Whether a GPU device can be opened with default options (opens and drops one).
pub fn gpu_available() -> bool {
    GpuContext::new(&GpuOptions::default()).is_ok()
}
