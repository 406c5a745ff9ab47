//! The specification of a run as it is stored with the run (`runs.spec_json`): the model
//! folder, the tasks by name, the backend, where the weights start and every training
//! knob. The CLI, the desktop app and the experiment runner all create runs from it, and
//! `muppet worker --run ID` executes it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::TrainConfig;

/// Where a run's weights start, as stored in its spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum InitSpec {
    /// The pretrained model.
    Base,
    /// A checkpoint of a stored run.
    Run { run: i64, step: u64, checkpoint: PathBuf, reuse_heads: bool },
}

/// Everything a run needs, stored as the run's spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub model: PathBuf,
    pub tasks: Vec<String>,
    pub backend: String,
    pub init: InitSpec,
    pub config: TrainConfig,
}

impl RunSpec {
    /// A fine-tune of `tasks` starting at `init` (a checkpoint of the run whose spec is
    /// `self`): that run's model folder gives the tokenizer and architecture.
    pub fn finetune_from(&self, init: InitSpec, tasks: Vec<String>, backend: String, config: TrainConfig) -> Self {
        Self { model: self.model.clone(), tasks, backend, init, config }
    }

    /// A fine-tune's name in the runs table: `fine-tune: sst2 n=64 from run 3`.
    pub fn finetune_name(&self) -> String {
        let size = self.config.train_size.map(|n| format!(" n={n}")).unwrap_or_default();
        let from = match &self.init {
            InitSpec::Run { run, .. } => format!(" from run {run}"),
            InitSpec::Base => String::new(),
        };
        format!("fine-tune: {}{size}{from}", self.tasks.join(" + "))
    }

    /// The backend, checked against the config (mixed precision needs f32 weights).
    pub fn backend_kind(&self) -> Result<crate::backend::BackendKind, crate::TrainError> {
        let backend: crate::backend::BackendKind = self.backend.parse()?;
        backend.check_mixed_precision(self.config.mixed_precision)?;
        Ok(backend)
    }
}

/// A run spec file (TOML), as `muppet prefinetune --spec FILE` reads it and the app's
/// mixture builder saves it: the model folder (none: the embedded default), the tasks, the
/// backend and any [`TrainConfig`] field under `[config]` (the rest default).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// The run's name in the runs table (`--name` overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<PathBuf>,
    #[serde(default)]
    pub tasks: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<TrainConfig>,
}

impl SpecFile {
    /// Read a spec file's text: the one parser of `muppet prefinetune --spec`.
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// The file of a pre-finetuning run's spec: `model` is left out when it is `default_model`
    /// (the file then means the embedded default wherever it is run), the config is written whole.
    /// `name`, when given, names the runs made from the file.
    pub fn of_prefinetune(spec: &RunSpec, default_model: &std::path::Path, name: Option<&str>) -> Self {
        let model = (spec.model != default_model).then(|| spec.model.clone());
        let name = name.map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
        SpecFile { name, model, tasks: spec.tasks.clone(), backend: Some(spec.backend.clone()), config: Some(spec.config.clone()) }
    }

    /// The text of the file.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_files_round_trip_and_refuse_unknown_fields() {
        let mut config = TrainConfig { steps: 77, max_len: 64, cap: Some(500), ..TrainConfig::default() };
        config.r3f = Some(crate::R3f { lambda: 1.0, eps: 1e-5, noise: crate::NoiseKind::Uniform });
        let spec = RunSpec { model: "/models/bert".into(), tasks: vec!["a".into(), "b".into()], backend: "cpu".into(), init: InitSpec::Base, config };
        let file = SpecFile::of_prefinetune(&spec, std::path::Path::new("/assets/model"), Some("bert on a + b"));
        let text = file.to_toml().expect("toml");
        assert!(text.starts_with("name = \"bert on a + b\"\n"), "{text}");
        assert_eq!(SpecFile::parse(&text).expect("parse"), file, "{text}");
        assert_eq!(SpecFile::of_prefinetune(&spec, std::path::Path::new("/models/bert"), None).model, None, "the default model is left out");
        assert_eq!(SpecFile::of_prefinetune(&spec, std::path::Path::new("/models/bert"), Some("  ")).name, None, "a blank name is no name");
        assert!(SpecFile::parse("tasks = [\"a\"]\ntitle = \"x\"\n").is_err(), "unknown fields are refused");
        assert_eq!(SpecFile::parse("tasks = [\"a\"]\n[config]\nsteps = 5\n").expect("partial").config.map(|c| c.steps), Some(5));
        let mixed = SpecFile::parse("tasks = [\"a\"]\n[config]\nmixed_precision = \"bf16\"\n").expect("mixed");
        assert_eq!(mixed.config.map(|c| c.mixed_precision), Some(muppet_model::MixedPrecision::Bf16));
        assert!(SpecFile::parse("tasks = [\"a\"]\n[config]\nmixed_precision = \"fp16\"\n").is_err());
    }

    #[test]
    fn mixed_precision_needs_a_backend_with_f32_weights() {
        let config = TrainConfig { mixed_precision: muppet_model::MixedPrecision::Bf16, ..TrainConfig::default() };
        let spec = |backend: &str| RunSpec { model: "/m".into(), tasks: vec!["a".into()], backend: backend.into(), init: InitSpec::Base, config: config.clone() };
        assert!(spec("cpu").backend_kind().is_ok());
        assert!(spec("cuda").backend_kind().is_ok());
        let err = spec("cuda-bf16").backend_kind().expect_err("bf16 weights have no f32 master copy").to_string();
        assert!(err.contains("cuda-bf16") && err.contains("--backend cuda with --mixed-precision bf16"), "{err}");
    }
}
