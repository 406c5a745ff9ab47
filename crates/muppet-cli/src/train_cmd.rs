//! `muppet prefinetune`, `muppet finetune` and `muppet resume`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use muppet_core::{RunId, RunKind};
use muppet_data::assets;
use muppet_model::{LossScale, MixedPrecision};
use muppet_train::parallel::Nodes;
use muppet_train::spec::SpecFile;
use muppet_train::{Batching, NoiseKind, R3f, TrainConfig};

use crate::launch::{self, InitSpec, RunSpec, Start};

/// Knobs shared by pre-finetuning and fine-tuning. Each one given overrides the spec file,
/// which overrides the defaults.
#[derive(Args, Debug, Default)]
pub struct ConfigArgs {
    /// Optimizer updates.
    #[arg(long)]
    steps: Option<u64>,
    /// Examples per micro-batch.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Single-task micro-batches accumulated into each update (K).
    #[arg(long)]
    tasks_per_update: Option<usize>,
    /// heterogeneous, homogeneous or sequential.
    #[arg(long)]
    batching: Option<Batching>,
    /// natural, uniform or temperature:T.
    #[arg(long)]
    sampling: Option<String>,
    /// Cap each task's size at N before weighting.
    #[arg(long)]
    cap: Option<usize>,
    /// Tokens per sequence, specials included.
    #[arg(long)]
    max_len: Option<usize>,
    /// Overlap of the windows of long span passages, in tokens.
    #[arg(long)]
    doc_stride: Option<usize>,
    /// Peak learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Warmup updates.
    #[arg(long)]
    warmup: Option<u64>,
    /// Clip the global gradient norm (0: off).
    #[arg(long)]
    clip_norm: Option<f32>,
    #[arg(long)]
    seed: Option<u64>,
    /// Dev examples held out per task.
    #[arg(long)]
    dev_size: Option<usize>,
    /// Evaluate on dev every N updates (0: before and after only).
    #[arg(long)]
    eval_every: Option<u64>,
    /// Write a resumable checkpoint every N updates (0: at the end only).
    #[arg(long)]
    checkpoint_every: Option<u64>,
    /// Keep only the model checkpoints of the last N saves (default: all).
    #[arg(long)]
    keep_checkpoints: Option<usize>,
    /// Keep the checkpoint of the best dev score as well (`--step best` takes it); needs
    /// --eval-every.
    #[arg(long)]
    keep_best: bool,
    /// Stop once N dev evaluations in a row have not beaten the best score, keeping the best
    /// checkpoint; needs --eval-every.
    #[arg(long, value_name = "N")]
    early_stopping: Option<u64>,
    /// With --early-stopping: how much a dev score must beat the best to count as an
    /// improvement (a smaller gain is still kept as the best; default 0, any gain).
    #[arg(long, value_name = "DELTA")]
    early_stopping_threshold: Option<f64>,
    /// Dropout of the task heads (the encoder's comes from its config.json).
    #[arg(long)]
    head_dropout: Option<f64>,
    /// Turn Muppet's loss scaling (L / ln n) off.
    #[arg(long)]
    no_loss_scaling: bool,
    /// R3F on classification heads.
    #[arg(long)]
    r3f: bool,
    /// R3F: weight of the symmetric KL term.
    #[arg(long, default_value_t = 1.0)]
    r3f_lambda: f64,
    /// R3F: noise scale.
    #[arg(long, default_value_t = 1e-5)]
    r3f_eps: f64,
    /// R3F: uniform or normal noise.
    #[arg(long, default_value = "uniform")]
    r3f_noise: String,
    /// no, or bf16: the encoder's matrix products in bf16 over f32 weights and optimizer
    /// state, as PyTorch's bf16 autocast (with --backend cuda, or cpu).
    #[arg(long)]
    mixed_precision: Option<MixedPrecision>,
    /// Train on N devices, data-parallel (with --backend cuda, GPUs 0 to N-1): each holds a
    /// replica and computes its share of every update's micro-batches, and their gradients
    /// are summed (burn-collective), so the update is the one a single device would make.
    #[arg(long)]
    devices: Option<usize>,
}

impl ConfigArgs {
    fn apply(&self, mut c: TrainConfig) -> anyhow::Result<TrainConfig> {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f.clone() { c.$f = v; } )* };
        }
        set!(steps, batch_size, tasks_per_update, batching, max_len, doc_stride, lr, warmup, seed, dev_size, eval_every, checkpoint_every, head_dropout, mixed_precision, devices, early_stopping_threshold);
        if let Some(s) = &self.sampling {
            c.sampling = s.parse()?;
        }
        if self.cap.is_some() {
            c.cap = self.cap;
        }
        if self.keep_checkpoints.is_some() {
            c.keep_checkpoints = self.keep_checkpoints;
        }
        if self.keep_best {
            c.keep_best = true;
        }
        if self.early_stopping.is_some() {
            c.early_stopping = self.early_stopping;
        }
        if let Some(n) = self.clip_norm {
            c.clip_norm = (n > 0.0).then_some(n);
        }
        if self.no_loss_scaling {
            c.loss_scale = LossScale::Off;
        }
        if self.r3f {
            let noise = match self.r3f_noise.as_str() {
                "uniform" => NoiseKind::Uniform,
                "normal" => NoiseKind::Normal,
                other => bail!("unknown --r3f-noise `{other}`: expected uniform or normal"),
            };
            c.r3f = Some(R3f { lambda: self.r3f_lambda, eps: self.r3f_eps, noise });
        }
        Ok(c)
    }
}

/// A run spec file (TOML), read by the parser the app's "Save as spec file" is checked with.
fn read_spec(path: &Path) -> anyhow::Result<SpecFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the spec file {}", path.display()))?;
    SpecFile::parse(&text).with_context(|| format!("{} is not a valid run spec", path.display()))
}

#[derive(Args, Debug)]
pub struct PrefinetuneArgs {
    /// Model folder in Hugging Face layout (config.json, model.safetensors, tokenizer.json),
    /// or a hub id (`org/name`) in the local Hugging Face cache; default: the embedded
    /// all-MiniLM-L6-v2.
    #[arg(long)]
    model: Option<PathBuf>,
    /// A task of the mixture (repeat for each task).
    #[arg(long = "task")]
    tasks: Vec<String>,
    /// A run spec (TOML) to start from; flags override it.
    #[arg(long)]
    spec: Option<PathBuf>,
    #[command(flatten)]
    launch: LaunchArgs,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Where and how a new run is started, shared by `prefinetune` and `finetune`.
#[derive(Args, Debug)]
pub struct LaunchArgs {
    /// cpu, or cuda (a build with `--features cuda`).
    #[arg(long)]
    backend: Option<String>,
    /// Name shown in the runs table.
    #[arg(long)]
    name: Option<String>,
    /// Print a JSON summary as the last line of stdout.
    #[arg(long)]
    json: bool,
    /// Only register the run as queued and print its id; `muppet worker --run ID` runs it.
    #[arg(long)]
    queue: bool,
    /// A tag to put on the run (repeat for several; `muppet runs list --tag` filters by it).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// A note kept with the run (what it is for), shown by `muppet runs show` and the app.
    #[arg(long)]
    note: Option<String>,
    #[command(flatten)]
    nodes: NodesArgs,
}

/// A run across several machines: the same command on each, with its own --node-rank and
/// --node-address, once `muppet coordinator` runs. Node 0 keeps the run.
#[derive(Args, Debug, Default)]
pub struct NodesArgs {
    /// Machines the run trains on (each with --devices devices).
    #[arg(long, requires_all = ["node_rank", "coordinator", "node_address"])]
    nodes: Option<u32>,
    /// This machine's rank, from 0 (the node that keeps the run) to --nodes minus 1.
    #[arg(long, requires = "nodes")]
    node_rank: Option<u32>,
    /// ws://HOST:PORT of `muppet coordinator`, the same on every node.
    #[arg(long, requires = "nodes")]
    coordinator: Option<String>,
    /// ws://HOST:PORT at which the other nodes reach this one (the port is opened here).
    #[arg(long, requires = "nodes")]
    node_address: Option<String>,
}

impl NodesArgs {
    fn nodes(&self) -> anyhow::Result<Option<Nodes>> {
        match (self.nodes, self.node_rank, &self.coordinator, &self.node_address) {
            (Some(count), Some(rank), Some(coordinator), Some(address)) => Ok(Some(Nodes::new(count, rank, coordinator, address)?)),
            _ => Ok(None),
        }
    }
}

impl LaunchArgs {
    /// Queue the run, or train it now (as one node of a multi-node run with --nodes).
    fn start(self, home: &muppet_core::MuppetHome, default_name: String, kind: RunKind, parent: Option<RunId>, spec: &RunSpec) -> anyhow::Result<()> {
        let name = self.name.unwrap_or(default_name);
        let labels = launch::Labels::new(&self.tags, self.note.as_deref())?;
        let nodes = self.nodes.nodes()?;
        match (&nodes, self.queue) {
            (Some(_), true) => bail!("--queue registers a run for a worker on this machine; a multi-node run starts with the same command on every node instead"),
            (None, true) => queue(home, &name, kind, parent, spec, &labels, self.json),
            (Some(nodes), false) if nodes.rank > 0 => {
                let tasks = launch::load_tasks(home, &spec.tasks)?;
                let summary = launch::execute_node(spec, &tasks, nodes, home)?;
                let status = if summary.outcome == muppet_train::Outcome::Cancelled { "cancelled" } else { "completed" };
                println!("node {} {status}: {} steps, {} examples, loss {:.4} -> {:.4}", nodes.rank, summary.steps, summary.examples, summary.first_loss, summary.final_loss);
                if self.json {
                    let line = serde_json::json!({"node": nodes.rank, "status": status, "steps": summary.steps, "examples": summary.examples, "loss_first": summary.first_loss, "loss_last": summary.final_loss});
                    println!("{line}");
                }
                Ok(())
            }
            (nodes, false) => run_on(home, Start::New { name, kind, parent, labels }, spec, self.json, nodes.as_ref()),
        }
    }
}

pub fn prefinetune(args: PrefinetuneArgs) -> anyhow::Result<()> {
    let home = crate::home();
    home.ensure()?;
    let file = args.spec.as_deref().map(read_spec).transpose()?.unwrap_or_default();
    let config = args.config.apply(file.config.unwrap_or_else(TrainConfig::prefinetune))?;
    let tasks = if args.tasks.is_empty() { file.tasks } else { args.tasks };
    if tasks.is_empty() {
        bail!("no tasks: give --task NAME for each task of the mixture (see `muppet tasks list`)");
    }
    let model = model_dir(&home, args.model.or(file.model))?;
    let backend = args.launch.backend.clone().or(file.backend).unwrap_or_else(|| "cpu".into());
    let spec = RunSpec { model, tasks, backend, init: InitSpec::Base, config };
    let name = file.name.unwrap_or_else(|| format!("pre-finetune: {}", spec.tasks.join(" + ")));
    args.launch.start(&home, name, RunKind::PreFinetune, None, &spec)
}

#[derive(Args, Debug)]
pub struct FinetuneArgs {
    /// Base model folder (default: the embedded all-MiniLM-L6-v2); ignored with --from-run
    /// except for its tokenizer and architecture, which must match.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Start from this pre-finetuned run's checkpoint instead of the base model.
    #[arg(long)]
    from_run: Option<i64>,
    /// Which checkpoint of --from-run: a step, or `best`, the one with the best dev score
    /// (default: its last).
    #[arg(long, requires = "from_run")]
    step: Option<crate::best::StepArg>,
    /// Start from the pre-finetuned head of the same task (shared heads for MC and span).
    #[arg(long, requires = "from_run")]
    reuse_head: bool,
    /// The downstream task (repeat to fine-tune on several at once).
    #[arg(long = "task", required = true)]
    tasks: Vec<String>,
    /// Keep N training examples per task, drawn with the seed.
    #[arg(long)]
    train_size: Option<usize>,
    #[command(flatten)]
    launch: LaunchArgs,
    #[command(flatten)]
    config: ConfigArgs,
}

pub fn finetune(args: FinetuneArgs) -> anyhow::Result<()> {
    let home = crate::home();
    home.ensure()?;
    if let (Some(_), Some(rank)) = (args.from_run, args.launch.nodes.node_rank.filter(|&r| r > 0)) {
        bail!(
            "node {rank} keeps no runs: give --from-run on node 0 only, which sends the model it starts from; here give the settings node 0 takes from that run (--model of its base model, --max-len, --doc-stride) and the rest of its command"
        );
    }
    let mut config = args.config.apply(TrainConfig::finetune())?;
    config.train_size = args.train_size;
    let backend = args.launch.backend.clone().unwrap_or_else(|| "cpu".into());
    let (spec, parent) = match args.from_run {
        None => (RunSpec { model: model_dir(&home, args.model)?, tasks: args.tasks, backend, init: InitSpec::Base, config }, None),
        Some(source) => {
            let source_spec = stored_spec(&home, RunId(source))?;
            // The source run's tokenization unless given (as the app's fine-tune form).
            if args.config.max_len.is_none() {
                config.max_len = source_spec.config.max_len;
            }
            if args.config.doc_stride.is_none() {
                config.doc_stride = source_spec.config.doc_stride;
            }
            let step = crate::best::resolve(&home, RunId(source), args.step)?;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let store = runtime.block_on(muppet_store::Store::open(&home.db()))?;
            let chosen = runtime.block_on(store.checkpoint_at(RunId(source), step));
            runtime.block_on(store.close());
            let chosen = chosen?;
            warn_overlaps(&home, &args.tasks, &source_spec.tasks)?;
            let init = InitSpec::Run { run: source, step: chosen.step, checkpoint: chosen.path, reuse_heads: args.reuse_head };
            (source_spec.finetune_from(init, args.tasks, backend, config), Some(RunId(source)))
        }
    };
    let name = spec.finetune_name();
    args.launch.start(&home, name, RunKind::Finetune, parent, &spec)
}

/// Warn when a downstream task shares inputs with a task the starting run was trained on:
/// its scores would then measure memorisation, not transfer.
fn warn_overlaps(home: &muppet_core::MuppetHome, downstream: &[String], mixture: &[String]) -> anyhow::Result<()> {
    let mixture = launch::load_tasks(home, mixture)?;
    for task in launch::load_tasks(home, downstream)? {
        for o in muppet_data::overlap::overlaps(&task, &mixture) {
            eprintln!(
                "warning: {} of the {} inputs of `{}` ({:.1}%) are also in `{}`, a task of the pre-finetuning run",
                o.shared,
                o.of,
                task.spec.name,
                o.percent(),
                o.other
            );
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct CoordinatorArgs {
    /// Port to listen on (every node's --coordinator is ws://THIS_HOST:PORT).
    #[arg(long, default_value_t = 3000)]
    port: u16,
}

/// `muppet coordinator`: what the nodes of multi-node runs register with and agree through
/// (burn-collective's global orchestrator). Runs until SIGINT or SIGTERM.
pub fn coordinator(args: CoordinatorArgs) -> anyhow::Result<()> {
    eprintln!("coordinating multi-node runs on port {} (ws://0.0.0.0:{}); stop with Ctrl-C", args.port, args.port);
    muppet_train::parallel::serve_coordinator(args.port)?;
    Ok(())
}

#[derive(Args, Debug)]
pub struct ResumeArgs {
    /// The run to continue from its last checkpoint.
    run: i64,
    #[arg(long)]
    json: bool,
    /// On several machines again (node 0 here, which keeps the run): the other nodes run the
    /// command that started the run and continue from this node's checkpoint.
    #[command(flatten)]
    nodes: NodesArgs,
}

pub fn resume(args: ResumeArgs) -> anyhow::Result<()> {
    let home = crate::home();
    let nodes = args.nodes.nodes()?;
    if let Some(nodes) = &nodes
        && nodes.rank > 0
    {
        bail!(
            "node {} keeps no run to resume: resume the run with `muppet resume ID --node-rank 0 ...` on node 0, and on this node run the command that started it (with the same --node-rank {})",
            nodes.rank,
            nodes.rank
        );
    }
    let spec = stored_spec(&home, RunId(args.run))?;
    run_on(&home, Start::Existing(RunId(args.run)), &spec, args.json, nodes.as_ref())
}

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The stored run to execute (queued, or stopped with a checkpoint to resume from).
    #[arg(long)]
    run: i64,
}

/// `muppet worker --run ID`: what the app and the experiment runner launch. Every event is
/// a JSON line on stdout; the last line is the summary (`"event": "summary"`).
pub fn worker(args: WorkerArgs) -> anyhow::Result<()> {
    let home = crate::home();
    let run = RunId(args.run);
    let spec = stored_spec(&home, run)?;
    let result = launch::load_tasks(&home, &spec.tasks).and_then(|tasks| launch::execute(&home, Start::Existing(run), &spec, &tasks, true, None));
    match result {
        Ok((run, summary)) => {
            let mut line = launch::summary_json(run, &summary);
            line["event"] = "summary".into();
            println!("{line}");
            Ok(())
        }
        Err(e) => {
            // One that another process is training is left to it: no status, and no event
            // (the events the app follows are that run's), only the error on stderr.
            if matches!(e.downcast_ref::<muppet_core::LockError>(), Some(muppet_core::LockError::Busy { .. })) {
                return Err(e);
            }
            // A run that could not start (its tasks, its model) is failed with the reason.
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build()
                && let Ok(store) = runtime.block_on(muppet_store::Store::open(&home.db()))
                && let Ok(row) = runtime.block_on(store.run(run))
                && matches!(row.status, muppet_core::RunStatus::Queued | muppet_core::RunStatus::Running)
            {
                let _ = runtime.block_on(store.end_run(run, muppet_core::RunStatus::Failed, Some(&format!("{e:#}"))));
            }
            println!("{}", serde_json::json!({"event": "failed", "run": run.0, "reason": format!("{e:#}")}));
            Err(e)
        }
    }
}

/// Check the tasks, then register the run as queued.
fn queue(home: &muppet_core::MuppetHome, name: &str, kind: RunKind, parent: Option<RunId>, spec: &RunSpec, labels: &launch::Labels, json: bool) -> anyhow::Result<()> {
    launch::load_tasks(home, &spec.tasks)?;
    let run = launch::create_queued(home, name, kind, parent, None, spec, labels)?;
    if json {
        println!("{}", serde_json::json!({"run_id": run.0, "status": "queued"}));
    } else {
        println!("run {run} queued: start it with `muppet worker --run {run}`");
    }
    Ok(())
}

/// The spec a run was created with.
pub(crate) fn stored_spec(home: &muppet_core::MuppetHome, run: RunId) -> anyhow::Result<RunSpec> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let store = runtime.block_on(muppet_store::Store::open(&home.db()))?;
    let value = runtime.block_on(store.run_spec(run));
    runtime.block_on(store.close());
    serde_json::from_value(value?).with_context(|| format!("run {run} was not made by `muppet prefinetune`/`finetune` and cannot be resumed or fine-tuned from"))
}

/// Train a run here and print its summary, as node 0 of a multi-node run when `nodes` says so.
fn run_on(home: &muppet_core::MuppetHome, start: Start, spec: &RunSpec, json: bool, nodes: Option<&Nodes>) -> anyhow::Result<()> {
    let tasks = launch::load_tasks(home, &spec.tasks)?;
    let (run, summary) = launch::execute(home, start, spec, &tasks, false, nodes)?;
    launch::print_summary(run, &summary);
    if json {
        println!("{}", launch::summary_json(run, &summary));
    }
    Ok(())
}

/// The model folder: the one given, else the embedded default (fetched if missing).
pub fn model_dir(home: &muppet_core::MuppetHome, given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match given {
        Some(dir) if dir.join(muppet_model::CONFIG_FILE).is_file() => Ok(std::fs::canonicalize(&dir)?),
        Some(id) if !id.exists() && id.to_str().is_some_and(muppet_data::hub::is_hub_id) => {
            let id = id.to_str().unwrap_or_default();
            Ok(muppet_data::hub::cached_model(&muppet_data::hub::cache_root(), id, "main")?)
        }
        Some(dir) => bail!(
            "{} is not a model folder (no config.json): give a folder in Hugging Face layout with config.json, model.safetensors and tokenizer.json",
            dir.display()
        ),
        None => {
            crate::assets::fetch(&[assets::Group::Model])?;
            Ok(assets::model_dir(home.assets()))
        }
    }
}
