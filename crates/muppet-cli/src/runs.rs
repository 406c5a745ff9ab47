//! `muppet runs list [--json]`.

use clap::Subcommand;
use muppet_store::Store;

#[derive(Subcommand)]
pub enum RunsCommand {
    /// List runs, newest first.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: RunsCommand) -> anyhow::Result<()> {
    let RunsCommand::List { json } = command;
    let home = crate::home();
    home.ensure()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let runs = runtime.block_on(async {
        let store = Store::open(&home.db()).await?;
        let runs = store.list_runs().await;
        store.close().await;
        runs
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(());
    }
    if runs.is_empty() {
        println!("No runs in {} yet. Try `muppet demo`.", home.db().display());
        return Ok(());
    }
    println!("{:>5}  {:<44} {:<13} {:<10} {:>7}  {:>9}  started", "id", "name", "kind", "status", "points", "last loss");
    for r in runs {
        let loss = r.last_loss.map(|l| format!("{l:.4}")).unwrap_or_else(|| "-".into());
        println!(
            "{:>5}  {:<44} {:<13} {:<10} {:>7}  {:>9}  {}",
            r.id.0,
            r.name,
            r.kind.as_str(),
            r.status.as_str(),
            r.points,
            loss,
            r.started_at
        );
    }
    Ok(())
}
