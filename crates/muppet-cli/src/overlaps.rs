//! `muppet tasks overlaps`: every available task checked against every other for inputs
//! they share (normalised text), printed, and stored for the app (which reads the last
//! check instead of loading every task's data again).

use indicatif::{ProgressBar, ProgressStyle};
use muppet_core::MuppetHome;
use muppet_data::overlap::{check_all, for_store};
use muppet_data::LabeledTask;
use muppet_store::{OverlapCheck, Store};

use crate::tasks;

/// Load every available task (with a progress bar on stderr), check them all and store
/// the result, replacing the previous check. Returns the stored check.
pub fn check(home: &MuppetHome) -> anyhow::Result<OverlapCheck> {
    let names = tasks::available(home)?;
    let bar = ProgressBar::new(names.len() as u64)
        .with_style(ProgressStyle::with_template("{spinner} loading tasks [{bar:30}] {pos}/{len} {msg}")?.progress_chars("=> "));
    let mut loaded: Vec<LabeledTask> = Vec::with_capacity(names.len());
    for name in &names {
        bar.set_message(name.clone());
        loaded.push(tasks::load(home, name)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let (checked, pairs) = for_store(&check_all(&loaded));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let store = Store::open(&home.db()).await?;
        store.replace_overlap_check(&checked, &pairs).await?;
        let check = store.overlap_check().await?;
        store.close().await;
        Ok(check)
    })
}

/// `muppet tasks overlaps [--json]`.
pub fn run(home: &MuppetHome, json: bool) -> anyhow::Result<()> {
    let check = check(home)?;
    if json {
        println!("{}", serde_json::to_string(&check)?);
        return Ok(());
    }
    println!("{} tasks checked for shared inputs (normalised text)", check.tasks.len());
    if check.overlaps.is_empty() {
        println!("no two tasks share an input");
        return Ok(());
    }
    println!("{:<28} {:<28} {:>8} {:>8}", "task", "shares inputs with", "inputs", "of task");
    for o in &check.overlaps {
        println!("{:<28} {:<28} {:>8} {:>7.1}%", o.task, o.other, o.shared, o.percent);
    }
    println!("keep overlapping tasks apart when one of them is a downstream task");
    Ok(())
}
