//! Backend selection. CPU is Burn's `Flex` backend (the fastest of Burn
//! 0.21's CPU backends on the shapes measured in BENCHMARKS.md).

use burn::backend::{Autodiff, Flex};

/// Inference backend on CPU.
pub type Cpu = Flex;
/// Training backend on CPU.
pub type CpuTrain = Autodiff<Flex>;

/// Name stored with each run.
pub const CPU_BACKEND_NAME: &str = "flex";
