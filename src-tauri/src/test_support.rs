//! What the shell's unit tests share.

use muppet_core::RunKind;
use muppet_store::NewRun;

/// A pre-finetuning run named `name` on `backend` (CPU), with an empty spec.
pub fn new_run(name: &str, backend: &str) -> NewRun {
    NewRun {
        name: name.into(),
        kind: RunKind::PreFinetune,
        spec: serde_json::json!({}),
        seed: None,
        backend: backend.into(),
        device: "cpu".into(),
    }
}
