//! The experiment builder's checks: a spec made in the UI is read with the library's own
//! types, expanded with `muppet_train::experiment::expand` and checked against the data
//! with `check` (the same checks `muppet experiment run` makes before anything starts),
//! so the UI can show every problem, each naming its field, and the plan's size.
//! Saving writes the spec as TOML (a temporary file renamed over the target).

use std::path::{Path, PathBuf};

use muppet_core::{ExperimentSpec, RunKind};
use muppet_train::experiment::{self, Facts};
use serde::Serialize;

use crate::error::CommandError;
use crate::paths;

/// What the builder shows under the form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpecCheck {
    /// Runs of the expanded plan (0 when it does not expand).
    pub runs: usize,
    pub prefinetunes: usize,
    pub finetunes: usize,
    /// Every problem, each starting with its field (`sample_efficiency.sizes: ...`).
    pub errors: Vec<String>,
    /// Problems that do not stop a run (overlaps with `--allow-overlap`; none here).
    pub warnings: Vec<String>,
    /// The spec as the TOML file it would be saved as.
    pub toml: String,
}

/// Read the UI's spec object with the library's types; a wrong shape names the field.
pub fn parse(value: serde_json::Value) -> Result<ExperimentSpec, CommandError> {
    serde_json::from_value(value).map_err(|e| CommandError::Invalid(format!("the experiment spec is not valid: {e}")))
}

/// The spec as TOML, as `muppet experiment run --spec` reads it.
pub fn to_toml(spec: &ExperimentSpec) -> Result<String, CommandError> {
    toml::to_string(spec).map_err(|e| CommandError::Invalid(format!("the experiment spec cannot be written as TOML: {e}")))
}

/// Expand the spec and check it against `facts`; the plan's size and every problem.
pub fn check(spec: &ExperimentSpec, facts: &Facts) -> Result<SpecCheck, CommandError> {
    let toml = to_toml(spec)?;
    let mut out = SpecCheck { runs: 0, prefinetunes: 0, finetunes: 0, errors: Vec::new(), warnings: Vec::new(), toml };
    match experiment::expand(spec) {
        Err(e) => out.errors = e.0,
        Ok(plan) => {
            out.runs = plan.runs.len();
            out.prefinetunes = plan.runs.iter().filter(|r| r.kind == RunKind::PreFinetune).count();
            out.finetunes = out.runs - out.prefinetunes;
            match experiment::check(spec, &plan, facts, false) {
                Ok(warnings) => out.warnings = warnings,
                Err(e) => out.errors = e.0,
            }
        }
    }
    Ok(out)
}

/// A `.toml` file to write the spec to (replaced if it exists).
pub fn spec_file(text: &str) -> Result<PathBuf, CommandError> {
    let path = paths::new_file(text, "spec file", "toml")?;
    Ok(path)
}

/// Write `spec` to `path` as TOML: to a temporary file beside it, then renamed over it,
/// so a reader never sees half a file.
pub fn save(spec: &ExperimentSpec, path: &Path) -> Result<(), CommandError> {
    let text = to_toml(spec)?;
    // Read back as `muppet experiment run` will: the file must give the same spec.
    let back: ExperimentSpec = toml::from_str(&text).map_err(|e| CommandError::Invalid(format!("the spec does not read back from TOML: {e}")))?;
    if &back != spec {
        return Err(CommandError::Invalid("the spec does not read back from TOML unchanged; report this with the spec".into()));
    }
    paths::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        let mut f = Facts::default();
        for (name, n) in [("winowhy", 2000), ("bbc_news", 1500), ("strategyqa", 2000), ("fever_claims", 3000), ("sarcasm_headlines", 3000), ("vitaminc", 3000)] {
            f.task_examples.insert(name.into(), n);
        }
        f
    }

    fn se(sizes: serde_json::Value, seeds: serde_json::Value, stage_tasks: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "name": "built",
            "prefinetune": {"steps": 20, "batch_size": 8, "max_len": 64, "doc_stride": 16},
            "finetune": {"steps": 8, "batch_size": 8, "max_len": 64, "doc_stride": 16, "dev_size": 100},
            "stages": [{"name": "pft", "tasks": stage_tasks}],
            "sample_efficiency": {"tasks": ["winowhy", "bbc_news"], "sizes": sizes, "seeds": seeds, "starts": ["base", "pft", "run:4"]}
        })
    }

    fn with_run(mut f: Facts) -> Facts {
        f.runs.insert(4, Ok(vec!["vitaminc".into()]));
        f
    }

    #[test]
    fn a_good_spec_gives_the_plan_size_and_its_toml() {
        let spec = parse(se(serde_json::json!([16, 32, 64]), serde_json::json!(3), serde_json::json!(["strategyqa", "fever_claims"]))).expect("spec");
        let c = check(&spec, &with_run(facts())).expect("check");
        assert_eq!(c.errors, Vec::<String>::new());
        // One stage, then 2 tasks x 3 sizes x 3 seeds x 3 starts.
        assert_eq!((c.prefinetunes, c.finetunes, c.runs), (1, 54, 55));
        let back: ExperimentSpec = toml::from_str(&c.toml).expect("toml reads back");
        assert_eq!(back, spec);
        assert!(c.toml.contains("[sample_efficiency]") && c.toml.contains("[[stages]]"), "{}", c.toml);
    }

    #[test]
    fn every_problem_names_its_field() {
        // A size larger than winowhy's training split, zero seeds, an unknown task and a
        // downstream task inside the stage's mixture: all reported at once or in turn.
        let spec = parse(se(serde_json::json!([16, 5000]), serde_json::json!(0), serde_json::json!(["strategyqa", "no_such_task"]))).expect("spec");
        let c = check(&spec, &with_run(facts())).expect("check");
        assert_eq!(c.runs, 0, "no plan");
        assert!(c.errors.iter().any(|e| e.starts_with("sample_efficiency.seeds: no seeds")), "{:?}", c.errors);
        let spec = parse(se(serde_json::json!([16, 5000]), serde_json::json!(2), serde_json::json!(["strategyqa", "no_such_task"]))).expect("spec");
        let c = check(&spec, &with_run(facts())).expect("check");
        assert!(c.runs > 0, "it expands; the data check fails");
        assert!(c.errors.iter().any(|e| e.starts_with("stages[0].tasks: unknown task `no_such_task`")), "{:?}", c.errors);
        assert!(c.errors.iter().any(|e| e.starts_with("sample_efficiency.sizes: 5000 training examples of `winowhy`")), "{:?}", c.errors);
        let spec = parse(se(serde_json::json!([16]), serde_json::json!(2), serde_json::json!(["strategyqa", "winowhy"]))).expect("spec");
        let c = check(&spec, &with_run(facts())).expect("check");
        assert!(c.errors.iter().any(|e| e.contains("`winowhy` is in the pre-finetuning mixture of `pft`")), "{:?}", c.errors);
        // A run that cannot be a start.
        let mut f = facts();
        f.runs.insert(4, Err("it is failed, not completed".into()));
        let spec = parse(se(serde_json::json!([16]), serde_json::json!(2), serde_json::json!(["strategyqa"]))).expect("spec");
        let c = check(&spec, &f).expect("check");
        assert!(c.errors.iter().any(|e| e.contains("run 4") || e.contains("run:4")), "{:?}", c.errors);
    }

    #[test]
    fn a_task_count_spec_checks_sizes_against_the_pool() {
        let value = serde_json::json!({
            "name": "tc",
            "task_count": {"pool": ["strategyqa", "fever_claims", "sarcasm_headlines"], "sizes": [1, 2, 3], "order_seed": 7, "held_out": ["winowhy"], "seeds": 2, "train_size": 64}
        });
        let c = check(&parse(value).expect("spec"), &facts()).expect("check");
        assert_eq!(c.errors, Vec::<String>::new());
        // 3 pre-finetuning runs, then winowhy x 2 seeds x (base + 3).
        assert_eq!((c.prefinetunes, c.finetunes), (3, 8));
        let value = serde_json::json!({
            "name": "tc",
            "task_count": {"pool": ["strategyqa", "winowhy"], "sizes": [1, 4], "held_out": ["winowhy"], "seeds": [1]}
        });
        let c = check(&parse(value).expect("spec"), &facts()).expect("check");
        assert!(c.errors.iter().any(|e| e.starts_with("task_count.sizes: 4 tasks asked for but the pool has 2")), "{:?}", c.errors);
        assert!(c.errors.iter().any(|e| e.starts_with("task_count.held_out: `winowhy` is in the pool")), "{:?}", c.errors);
    }

    #[test]
    fn the_backend_and_mixed_precision_reach_every_run_and_the_toml() {
        let mut value = se(serde_json::json!([16]), serde_json::json!(1), serde_json::json!(["strategyqa"]));
        value["backend"] = "cuda".into();
        value["prefinetune"]["mixed_precision"] = "bf16".into();
        value["finetune"]["mixed_precision"] = "bf16".into();
        let spec = parse(value.clone()).expect("spec");
        let c = check(&spec, &with_run(facts())).expect("check");
        assert_eq!(c.errors, Vec::<String>::new());
        assert!(c.toml.contains("backend = \"cuda\"") && c.toml.contains("mixed_precision = \"bf16\""), "{}", c.toml);
        let plan = experiment::expand(&spec).expect("plan");
        assert!(plan.runs.iter().all(|r| r.config.mixed_precision.compute_dtype().is_some()));
        // Half-precision weights have no f32 copy to mix with: said under `backend`.
        value["backend"] = "cuda-bf16".into();
        let c = check(&parse(value).expect("spec"), &with_run(facts())).expect("check");
        assert!(c.errors.iter().any(|e| e.starts_with("backend: ") && e.contains("f32 master weights")), "{:?}", c.errors);
    }

    #[test]
    fn a_wrong_shape_is_refused_with_the_field() {
        let error = parse(serde_json::json!({"name": "x", "sample_efficiency": {"tasks": ["a"], "sizes": [1], "seeds": 1, "starts": ["run:x"]}})).expect_err("bad start");
        assert_eq!(error.kind(), "invalid");
        assert!(error.message().contains("run:ID"), "{error}");
    }

    #[test]
    fn saving_writes_toml_that_reads_back_and_checks_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = parse(se(serde_json::json!([16, 32]), serde_json::json!([1, 2]), serde_json::json!(["strategyqa"]))).expect("spec");
        let path = spec_file(&format!("{}/built.toml", dir.path().display())).expect("path");
        save(&spec, &path).expect("save");
        let back: ExperimentSpec = toml::from_str(&std::fs::read_to_string(&path).expect("read")).expect("parse");
        assert_eq!(back, spec);
        let names: Vec<String> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name().to_string_lossy().to_string()).collect();
        assert_eq!(names, ["built.toml"], "no temporary file is left");
        for bad in [format!("{}/built.json", dir.path().display()), "built.toml".into(), format!("{}/missing/built.toml", dir.path().display())] {
            assert_eq!(spec_file(&bad).expect_err(&bad).kind(), "invalid", "{bad}");
        }
    }
}
