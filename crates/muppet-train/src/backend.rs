//! Backend selection. The CPU backend is Burn's `Flex`: on MiniLM's train step it runs
//! about twice as fast as ndarray and candle (BENCHMARKS.md), which stay available behind
//! the `ndarray` and `candle` features for that comparison. CUDA is `burn-cuda`, compiled
//! in with the `cuda` feature and loaded at run time, in f32 (`cuda`) or entirely in half
//! precision (`cuda-f16`, `cuda-bf16`: weights, activations, gradients and optimizer state).
//! Mixed precision (bf16 products over f32 master weights, `TrainConfig::mixed_precision`)
//! runs on the f32 backends: Burn 0.21 has no autocast, so muppet-model casts where
//! PyTorch's autocast would, and autodiff differentiates the casts.

use burn::backend::{Autodiff, Flex};
use burn::tensor::backend::AutodiffBackend;

use crate::TrainError;

/// Training backend on CPU.
pub type CpuTrain = Autodiff<Flex>;

/// Where a run computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Cpu,
    Cuda,
    /// CUDA with every float in f16.
    CudaF16,
    /// CUDA with every float in bf16.
    CudaBf16,
    /// Burn's ndarray CPU backend, compiled in with the `ndarray` feature: kept to measure
    /// it against Flex (BENCHMARKS.md), not for training.
    NdArray,
    /// Burn's candle CPU backend, with the `candle` feature, for the same comparison.
    Candle,
    /// Burn's wgpu backend with kernel fusion and autotune, with the `wgpu-fusion`
    /// feature: the fusion path of the CUDA build, studied on any Vulkan device.
    WgpuFusion,
}

impl BackendKind {
    /// Backend name stored with each run.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Cpu => "flex",
            BackendKind::Cuda => "cuda",
            BackendKind::CudaF16 => "cuda-f16",
            BackendKind::CudaBf16 => "cuda-bf16",
            BackendKind::NdArray => "ndarray",
            BackendKind::Candle => "candle",
            BackendKind::WgpuFusion => "wgpu-fusion",
        }
    }
    /// Refuse mixed precision on a backend whose weights are already half precision: it
    /// needs f32 master weights.
    pub fn check_mixed_precision(self, mixed: muppet_model::MixedPrecision) -> Result<(), TrainError> {
        match (self, mixed) {
            (BackendKind::CudaF16 | BackendKind::CudaBf16, muppet_model::MixedPrecision::Bf16) => Err(TrainError::Config(format!(
                "mixed precision bf16 keeps f32 master weights, but the backend {} holds every float in half precision: use --backend cuda with --mixed-precision bf16, or {} alone",
                self.name(),
                self.name()
            ))),
            (BackendKind::WgpuFusion, muppet_model::MixedPrecision::Bf16) => {
                Err(TrainError::Config("mixed precision bf16 needs bf16 kernels, which wgpu's shader languages lack: use --backend cuda or cpu".into()))
            }
            _ => Ok(()),
        }
    }

    /// The devices of a run on `devices` of them, as stored with it: `cuda:0`, or `cuda:0-3`
    /// for a data-parallel run on four GPUs (`cpu x2` for two peers sharing the CPU).
    pub fn devices_label(self, devices: usize) -> String {
        let one = self.device_name();
        match (devices, one.strip_suffix(":0")) {
            (0 | 1, _) => one.to_string(),
            (n, Some(kind)) => format!("{kind}:0-{}", n - 1),
            (n, None) => format!("{one} x{n}"),
        }
    }

    /// Device name stored with each run.
    pub fn device_name(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::Cuda | BackendKind::CudaF16 | BackendKind::CudaBf16 => "cuda:0",
            BackendKind::NdArray | BackendKind::Candle => "cpu",
            BackendKind::WgpuFusion => "wgpu",
        }
    }
}

impl std::str::FromStr for BackendKind {
    type Err = TrainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(BackendKind::Cpu),
            "cuda" => Ok(BackendKind::Cuda),
            "cuda-f16" => Ok(BackendKind::CudaF16),
            "cuda-bf16" => Ok(BackendKind::CudaBf16),
            "ndarray" => Ok(BackendKind::NdArray),
            "candle" => Ok(BackendKind::Candle),
            "wgpu-fusion" => Ok(BackendKind::WgpuFusion),
            other => Err(TrainError::Config(format!("unknown backend `{other}`: expected cpu, cuda, cuda-f16 or cuda-bf16"))),
        }
    }
}

/// The float type of a CUDA backend.
#[derive(Debug, Clone, Copy)]
enum Precision {
    F32,
    F16,
    Bf16,
}

/// Where CUDA runs keep the GPU kernels cubecl compiles (PTX, from NVRTC) and its autotune
/// results, so that each kernel is compiled once per machine instead of once per process:
/// cubecl keeps no compiled kernel between processes unless told where. Set before the
/// first CUDA run of the process (the first call wins); a CUDA run applies it as it opens
/// the device, and caches named by a `cubecl.toml` (or `CUBECL_*` variables) win. Other
/// backends never read it.
pub fn use_kernel_cache(dir: &std::path::Path) {
    let _ = KERNEL_CACHE.set(dir.to_path_buf());
}

static KERNEL_CACHE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Work that runs on whichever training backend is chosen at run time.
pub trait OnBackend {
    type Output;
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Self::Output;
}

/// Run `work` on `kind`, or explain why that backend cannot be used here.
pub fn on_backend<W: OnBackend>(kind: BackendKind, work: W) -> Result<W::Output, TrainError> {
    match kind {
        BackendKind::Cpu => Ok(work.run::<CpuTrain>(Default::default())),
        BackendKind::Cuda => cuda::run(work, Precision::F32),
        BackendKind::CudaF16 => cuda::run(work, Precision::F16),
        BackendKind::CudaBf16 => cuda::run(work, Precision::Bf16),
        BackendKind::NdArray => ndarray_run(work),
        BackendKind::Candle => candle_run(work),
        BackendKind::WgpuFusion => wgpu_run(work),
    }
}

#[cfg(feature = "wgpu-fusion")]
fn wgpu_run<W: OnBackend>(work: W) -> Result<W::Output, TrainError> {
    Ok(work.run::<Autodiff<burn::backend::Wgpu>>(Default::default()))
}

#[cfg(not(feature = "wgpu-fusion"))]
fn wgpu_run<W: OnBackend>(_work: W) -> Result<W::Output, TrainError> {
    Err(TrainError::Backend("this build has no wgpu-fusion backend: build with `--features muppet-cli/wgpu-fusion`".into()))
}

#[cfg(feature = "ndarray")]
fn ndarray_run<W: OnBackend>(work: W) -> Result<W::Output, TrainError> {
    Ok(work.run::<Autodiff<burn::backend::NdArray>>(Default::default()))
}

/// burn-candle is deprecated in Burn 0.21; it stays here only to be measured.
#[cfg(feature = "candle")]
#[allow(deprecated)]
fn candle_run<W: OnBackend>(work: W) -> Result<W::Output, TrainError> {
    Ok(work.run::<Autodiff<burn::backend::Candle>>(Default::default()))
}

#[cfg(not(feature = "candle"))]
fn candle_run<W: OnBackend>(_work: W) -> Result<W::Output, TrainError> {
    Err(TrainError::Backend("this build has no candle backend: build with `--features muppet-train/candle`".into()))
}

#[cfg(not(feature = "ndarray"))]
fn ndarray_run<W: OnBackend>(_work: W) -> Result<W::Output, TrainError> {
    Err(TrainError::Backend("this build has no ndarray backend: build with `--features muppet-train/ndarray`".into()))
}

#[cfg(feature = "cuda")]
mod cuda {
    use std::sync::{Arc, Mutex};

    use burn::backend::{Autodiff, Cuda};
    use burn::prelude::*;

    use super::{DeviceMemory, OnBackend, Precision};
    use crate::TrainError;

    /// The CUDA runtime's memory pool on the default device.
    pub fn memory() -> Option<DeviceMemory> {
        use cubecl::Runtime;
        let usage = cubecl::cuda::CudaRuntime::client(&burn::backend::cuda::CudaDevice::default()).memory_usage().ok()?;
        Some(DeviceMemory { in_use: usage.bytes_in_use, reserved: usage.bytes_reserved })
    }

    /// Point cubecl's caches at `use_kernel_cache`'s folder, unless cubecl's configuration
    /// was already read (an earlier CUDA run of this process) or none was given.
    fn apply_kernel_cache() {
        use cubecl::config::cache::CacheConfig;
        use cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
        let Some(dir) = super::KERNEL_CACHE.get() else { return };
        let mut state = CubeClRuntimeConfig::storage().lock();
        if state.is_some() {
            return;
        }
        // What cubecl would read itself (a cubecl.toml here or above, then CUBECL_* variables).
        let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
        if config.compilation.cache.is_none() {
            config.compilation.cache = Some(CacheConfig::File(dir.join("compiled")));
        }
        // `Target` is the default: a `target` folder beside the nearest Cargo.toml, else the
        // user's cache folder.
        if matches!(config.autotune.cache, CacheConfig::Target) {
            config.autotune.cache = CacheConfig::File(dir.join("autotune"));
        }
        *state = Some(Arc::new(config));
    }

    /// The file cubecl reads its configuration from: the first `cubecl.toml`,
    /// `CubeCL.toml`, `burn.toml` or `Burn.toml` in the working folder or above it.
    fn config_file() -> Option<std::path::PathBuf> {
        let cwd = std::env::current_dir().ok()?;
        cwd.ancestors()
            .flat_map(|dir| ["cubecl.toml", "CubeCL.toml", "burn.toml", "Burn.toml"].map(|name| dir.join(name)))
            .find(|path| path.is_file())
    }

    /// 1 + 1 + 1 + 1 on the default device, in `B`'s float type.
    fn probe<B: Backend>() -> f32 {
        let device = B::Device::default();
        Tensor::<B, 1>::ones([4], &device).sum().into_scalar().elem::<f32>()
    }

    /// cudarc panics (on a runtime thread of cubecl) when it cannot load the
    /// driver library; probe inside a caught panic, with the panic messages
    /// collected instead of printed, so a machine without CUDA gets one clear
    /// error, not a crash. The probe runs in the precision of the work: the first
    /// tensor on a device fixes the device's default float type for every later
    /// tensor, whatever the backend's element type says.
    pub fn run<W: OnBackend>(work: W, precision: Precision) -> Result<W::Output, TrainError> {
        let messages = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = Arc::clone(&messages);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = match info.payload().downcast_ref::<String>() {
                Some(s) => s.clone(),
                None => info.payload().downcast_ref::<&str>().map(|s| s.to_string()).unwrap_or_default(),
            };
            if let Ok(mut m) = seen.lock() {
                m.push(text);
            }
        }));
        // A malformed cubecl.toml panics as it is read: caught, and named in the error.
        let config = std::panic::catch_unwind(apply_kernel_cache);
        let probe = config.is_ok().then(|| {
            std::panic::catch_unwind(|| match precision {
                Precision::F32 => probe::<Cuda>(),
                Precision::F16 => probe::<Cuda<burn::tensor::f16>>(),
                Precision::Bf16 => probe::<Cuda<burn::tensor::bf16>>(),
            })
        });
        std::panic::set_hook(previous);
        let first_message = || messages.lock().ok().and_then(|m| m.first().cloned()).unwrap_or_else(|| "unknown error".into());
        let Some(probe) = probe else {
            let file = config_file().map_or_else(|| "cubecl's configuration".to_string(), |f| f.display().to_string());
            return Err(TrainError::Backend(format!(
                "{file} could not be read: {}. Fix or remove it (muppet names cubecl's kernel caches itself)",
                first_message()
            )));
        };
        match probe {
            Ok(v) if v == 4.0 => Ok(match precision {
                Precision::F32 => work.run::<Autodiff<Cuda>>(Default::default()),
                Precision::F16 => work.run::<Autodiff<Cuda<burn::tensor::f16>>>(Default::default()),
                Precision::Bf16 => work.run::<Autodiff<Cuda<burn::tensor::bf16>>>(Default::default()),
            }),
            Ok(v) => Err(TrainError::Backend(format!("the CUDA device computed 1+1+1+1 = {v}"))),
            Err(_) => {
                let first = first_message();
                // cudarc's message lists every library name it tried; its first sentence says it all.
                let why = first.split(" - ").next().unwrap_or(&first).trim().to_string();
                Err(TrainError::Backend(format!(
                    "no usable CUDA device: {why}. Check `nvidia-smi` and that the NVIDIA driver (libcuda) is installed, or use --backend cpu"
                )))
            }
        }
    }
}

#[cfg(not(feature = "cuda"))]
mod cuda {
    use super::{DeviceMemory, OnBackend, Precision};
    use crate::TrainError;

    pub fn memory() -> Option<DeviceMemory> {
        None
    }

    pub fn run<W: OnBackend>(_work: W, _precision: Precision) -> Result<W::Output, TrainError> {
        Err(TrainError::Backend(
            "this muppet was built without CUDA support: rebuild with `CUDARC_CUDA_VERSION=13000 cargo build --release -p muppet-cli --features cuda`, or use --backend cpu".into(),
        ))
    }
}

/// Memory of a device, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DeviceMemory {
    /// Held by live tensors.
    pub in_use: u64,
    /// Held by the backend's memory pool (what the device sees as used).
    pub reserved: u64,
}

/// The memory a backend holds now: the CUDA runtime's pool, or for the CPU backends the
/// process's resident set (Linux), with its peak as `reserved`.
pub fn device_memory(kind: BackendKind) -> Option<DeviceMemory> {
    match kind {
        BackendKind::Cuda | BackendKind::CudaF16 | BackendKind::CudaBf16 => cuda::memory(),
        BackendKind::Cpu | BackendKind::NdArray | BackendKind::Candle | BackendKind::WgpuFusion => process_memory(),
    }
}

/// Resident set and its peak (`VmRSS`, `VmHWM` of /proc/self/status).
fn process_memory() -> Option<DeviceMemory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line[key.len()..].trim().trim_end_matches("kB").trim().parse::<u64>().ok().map(|k| k * 1024)
    };
    Some(DeviceMemory { in_use: kib("VmRSS:")?, reserved: kib("VmHWM:")? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_parse() {
        assert_eq!("cpu".parse::<BackendKind>().ok(), Some(BackendKind::Cpu));
        assert!("tpu".parse::<BackendKind>().is_err());
        for kind in [BackendKind::Cuda, BackendKind::CudaF16, BackendKind::CudaBf16, BackendKind::WgpuFusion] {
            assert_eq!(kind.name().parse::<BackendKind>().ok(), Some(kind));
        }
    }

    #[test]
    fn a_data_parallel_run_names_its_devices() {
        assert_eq!(BackendKind::Cuda.devices_label(1), "cuda:0");
        assert_eq!(BackendKind::CudaBf16.devices_label(4), "cuda:0-3");
        assert_eq!(BackendKind::Cpu.devices_label(2), "cpu x2");
    }

    #[test]
    fn process_memory_grows_with_a_touched_allocation() {
        let before = device_memory(BackendKind::Cpu).expect("/proc/self/status");
        assert!(before.in_use > 0 && before.reserved >= before.in_use, "{before:?}");
        let block = vec![1u8; 64 << 20];
        let after = device_memory(BackendKind::Cpu).expect("/proc/self/status");
        assert!(after.reserved >= before.reserved + (60 << 20), "{before:?} -> {after:?} ({})", block.iter().map(|&b| b as u64).sum::<u64>());
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_is_a_clear_error() {
        struct Nothing;
        impl OnBackend for Nothing {
            type Output = ();
            fn run<B: AutodiffBackend>(self, _device: B::Device) {}
        }
        let err = on_backend(BackendKind::Cuda, Nothing).expect_err("no cuda").to_string();
        assert!(err.contains("--features cuda"), "{err}");
        #[cfg(not(feature = "wgpu-fusion"))]
        {
            let err = on_backend(BackendKind::WgpuFusion, Nothing).expect_err("no wgpu").to_string();
            assert!(err.contains("--features muppet-cli/wgpu-fusion"), "{err}");
        }
    }

    #[cfg(not(feature = "ndarray"))]
    #[test]
    fn ndarray_without_the_feature_is_a_clear_error() {
        struct Nothing;
        impl OnBackend for Nothing {
            type Output = ();
            fn run<B: AutodiffBackend>(self, _device: B::Device) {}
        }
        let err = on_backend(BackendKind::NdArray, Nothing).expect_err("no ndarray").to_string();
        assert!(err.contains("--features muppet-train/ndarray"), "{err}");
    }
}
