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

/// A real process that holds the lock at `lock` as a worker or an orchestrator does (its
/// folder created if missing), with its pid written in it; returned once it holds it. On
/// SIGTERM it waits half a second (the lock still held, as a run writing its checkpoint)
/// and exits with code 3. flock(1) locks the script's own descriptor 9.
pub fn process_holding_lock(lock: &std::path::Path) -> std::process::Child {
    std::fs::create_dir_all(lock.parent().expect("lock folder")).expect("lock folder");
    let script = "exec 9<>\"$LOCK\"; flock -n 9 || exit 9; echo $$ >&9; trap 'sleep 0.5; exit 3' TERM; while true; do sleep 0.05; done";
    let child = std::process::Command::new("bash").args(["-c", script]).env("LOCK", lock).spawn().expect("bash");
    let held = muppet_core::lock::Holder::Held { pid: Some(child.id()) };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while muppet_core::lock::holder(lock) != held {
        assert!(std::time::Instant::now() < deadline, "the stand-in never held {}", lock.display());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}
