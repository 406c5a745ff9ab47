//! What the nodes of a multi-node run agree on before its first update: that each computes
//! the same run (a digest of its settings, its tasks' data and splits, and its model's
//! architecture and tokenizer, checked against node 0's), and, for a run node 0 resumes or
//! starts from a checkpoint (`--from-run`), where it starts: node 0's model, optimizer moments
//! and progress travel to the other nodes, which keep no run folder and no runs, so the run
//! goes on every node as it would on one machine.

use std::path::Path;

use burn::module::Module;
use burn::optim::Optimizer;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::backend::AutodiffBackend;

use crate::checkpoint::ResumeState;
use crate::config::TrainConfig;
use crate::model::MultiTaskModel;
use crate::splits::TaskSplit;
use crate::train::{fnv1a_extend, FNV_OFFSET};
use crate::TrainError;

/// A digest of what decides the updates of a run: its settings, each task's data and split,
/// and the model's `config.json` and `tokenizer.json` (their contents: the folder may lie
/// elsewhere on each node).
pub(crate) fn run_digest(cfg: &TrainConfig, splits: &[&TaskSplit], model_dir: &Path) -> Result<u64, TrainError> {
    let json = |what: &str, e: serde_json::Error| TrainError::Config(format!("writing the run's {what} for the other nodes: {e}"));
    // FNV-1a over the pieces, each after its length so that pieces cannot run into each other.
    let piece = |h: u64, bytes: &[u8]| fnv1a_extend(fnv1a_extend(h, &(bytes.len() as u64).to_le_bytes()), bytes);
    let mut hash = piece(FNV_OFFSET, &serde_json::to_vec(cfg).map_err(|e| json("settings", e))?);
    for split in splits {
        hash = piece(hash, &serde_json::to_vec(split).map_err(|e| json("splits", e))?);
    }
    for name in [muppet_model::CONFIG_FILE, "tokenizer.json"] {
        let path = model_dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| TrainError::Config(format!("reading {}: {e}", path.display())))?;
        hash = piece(hash, &bytes);
    }
    Ok(hash)
}

/// Why a multi-node run does not start: this node's run differs from node 0's (`here`), or
/// another node's does.
pub(crate) fn differs(here: bool, node: usize) -> TrainError {
    TrainError::Config(if here {
        format!(
            "node {node} would train another run than node 0 (other settings, tasks, task data or splits, or another model's config.json or tokenizer.json): \
             start every node with the same command and the same data; to resume a run on several nodes, run `muppet resume ID` with the node flags on node 0 \
             and the command that started the run on the others; to start from a run's checkpoint, give --from-run on node 0 only, and on the others the settings it takes from that run \
             (--model, --max-len, --doc-stride)"
        )
    } else {
        "another node would train another run than node 0 (its output says so): start every node with the same command and the same data".to_string()
    })
}

fn recorder() -> NamedMpkBytesRecorder<FullPrecisionSettings> {
    NamedMpkBytesRecorder::default()
}

/// A run's start as bytes: the model, the optimizer, then the progress, each after its
/// length.
pub(crate) fn encode<B, O>(model: &MultiTaskModel<B>, optim: &O, state: &ResumeState) -> Result<Vec<u8>, TrainError>
where
    B: AutodiffBackend,
    O: Optimizer<MultiTaskModel<B>, B>,
{
    let failed = |what: &str, e: String| TrainError::Backend(format!("writing the {what} for the other nodes: {e}"));
    let model = Recorder::<B>::record(&recorder(), model.clone().into_record(), ()).map_err(|e| failed("model", e.to_string()))?;
    let optim = Recorder::<B>::record(&recorder(), optim.to_record(), ()).map_err(|e| failed("optimizer state", e.to_string()))?;
    let state = serde_json::to_vec(state).map_err(|e| failed("progress", e.to_string()))?;
    let mut out = Vec::with_capacity(model.len() + optim.len() + state.len() + 24);
    for part in [&model, &optim, &state] {
        out.extend_from_slice(&(part.len() as u64).to_le_bytes());
        out.extend_from_slice(part);
    }
    Ok(out)
}

/// The start [`encode`] wrote, loaded into this node's `model` and `optim`.
pub(crate) fn decode<B, O>(bytes: &[u8], model: MultiTaskModel<B>, optim: O, device: &B::Device) -> Result<(MultiTaskModel<B>, O, ResumeState), TrainError>
where
    B: AutodiffBackend,
    O: Optimizer<MultiTaskModel<B>, B>,
{
    let failed = |what: &str, e: String| TrainError::Backend(format!("reading node 0's {what}: {e}"));
    let mut parts = Vec::with_capacity(3);
    let mut rest = bytes;
    for what in ["model", "optimizer state", "progress"] {
        let (len, tail) = rest.split_first_chunk::<8>().ok_or_else(|| failed(what, "cut short".into()))?;
        let len = u64::from_le_bytes(*len) as usize;
        if tail.len() < len {
            return Err(failed(what, "cut short".into()));
        }
        parts.push(&tail[..len]);
        rest = &tail[len..];
    }
    let record = Recorder::<B>::load(&recorder(), parts[0].to_vec(), device).map_err(|e| failed("model", e.to_string()))?;
    let model = model.load_record(record);
    let record = Recorder::<B>::load(&recorder(), parts[1].to_vec(), device).map_err(|e| failed("optimizer state", e.to_string()))?;
    let optim = optim.load_record(record);
    let state = serde_json::from_slice(parts[2]).map_err(|e| failed("progress", e.to_string()))?;
    Ok((model, optim, state))
}
