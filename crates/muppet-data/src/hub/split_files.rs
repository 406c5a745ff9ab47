//! Which Parquet files of a hub dataset repository hold one split of one
//! config, from the repository's file list alone. The layouts the hub uses:
//!
//! | layout | example |
//! |---|---|
//! | one folder per config | `sst2/train-00000-of-00001.parquet`, `mnli/validation_matched-00000-of-00001.parquet` |
//! | the default config in `data/` | `data/train-00000-of-00002-4d27b5a2.parquet` (older uploads add a hash) |
//! | files at the top | `train.parquet`, `rotten_tomatoes-test.parquet` |
//! | the `refs/convert/parquet` revision | `sst2/train/0000.parquet`, `default/partial-train/0000.parquet` |
//!
//! A config is a top-level folder (`data/` and the top itself are the config
//! `default`). A file's split is the folder below the config if there is one,
//! else its name less the shard suffix and anything up to the last `-` (split
//! names never contain `-` on the hub). Shards are read in path order, which is
//! shard order because their numbers are zero-padded.

/// Why a config and split do not resolve to files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// The repository has no Parquet file at all.
    NoParquet,
    /// The config is not one of the repository's.
    UnknownConfig { configs: Vec<String> },
    /// No config was named and the repository has several.
    NeedConfig { configs: Vec<String> },
    /// The config has no such split.
    UnknownSplit { config: String, splits: Vec<String> },
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::NoParquet => write!(f, "it has no Parquet files"),
            Unresolved::UnknownConfig { configs } => write!(f, "no such config; its configs are: {}", configs.join(", ")),
            Unresolved::NeedConfig { configs } => write!(f, "it has several configs ({}): pick one with --config", configs.join(", ")),
            Unresolved::UnknownSplit { config, splits } => {
                write!(f, "config `{config}` has no such split; its splits are: {}", splits.join(", "))
            }
        }
    }
}

/// The config a repository path belongs to, and the path below it.
fn config_of(path: &str) -> (&str, &str) {
    match path.split_once('/') {
        None => ("default", path),
        Some(("data", rest)) => ("default", rest),
        Some((config, rest)) => (config, rest),
    }
}

/// The split of a path below its config.
fn split_of(rest: &str) -> String {
    if let Some((dir, _)) = rest.split_once('/') {
        return dir.strip_prefix("partial-").unwrap_or(dir).to_string();
    }
    let stem = rest.strip_suffix(".parquet").unwrap_or(rest);
    let stem = strip_shard(stem);
    stem.rsplit('-').next().unwrap_or(stem).to_string()
}

/// `train-00000-of-00002` and `train-00000-of-00002-4d27b5a2` -> `train`.
fn strip_shard(stem: &str) -> &str {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = stem.split('-').collect();
    for cut in [parts.len().saturating_sub(4), parts.len().saturating_sub(3)] {
        let tail = &parts[cut..];
        let shard = tail.len() >= 3 && digits(tail[0]) && tail[1] == "of" && digits(tail[2]);
        let hash = tail.len() == 3 || (tail.len() == 4 && tail[3].bytes().all(|b| b.is_ascii_hexdigit()));
        if cut > 0 && shard && hash {
            let keep: usize = parts[..cut].iter().map(|p| p.len() + 1).sum::<usize>() - 1;
            return &stem[..keep];
        }
    }
    stem
}

fn parquet(files: &[String]) -> impl Iterator<Item = &String> {
    files.iter().filter(|f| f.ends_with(".parquet"))
}

/// The config to read: the one named, or the only one.
fn pick_config(files: &[String], config: Option<&str>) -> Result<String, Unresolved> {
    let mut configs: Vec<String> = parquet(files).map(|f| config_of(f).0.to_string()).collect();
    configs.sort();
    configs.dedup();
    match (config, configs.as_slice()) {
        (_, []) => Err(Unresolved::NoParquet),
        (Some(c), _) if configs.iter().any(|k| k == c) => Ok(c.to_string()),
        (Some(_), _) => Err(Unresolved::UnknownConfig { configs }),
        (None, [only]) => Ok(only.clone()),
        (None, _) => Err(Unresolved::NeedConfig { configs }),
    }
}

/// The splits of `config` (or of the only config), sorted.
pub fn splits_of(files: &[String], config: Option<&str>) -> Result<Vec<String>, Unresolved> {
    let config = pick_config(files, config)?;
    let mut splits: Vec<String> = parquet(files).map(|f| config_of(f)).filter(|(c, _)| *c == config).map(|(_, rest)| split_of(rest)).collect();
    splits.sort();
    splits.dedup();
    Ok(splits)
}

/// The Parquet files of `split` of `config` (or of the only config), in shard order.
pub fn split_files(files: &[String], config: Option<&str>, split: &str) -> Result<Vec<String>, Unresolved> {
    let config = pick_config(files, config)?;
    let mut out: Vec<String> = parquet(files)
        .filter(|f| {
            let (c, rest) = config_of(f);
            c == config && split_of(rest) == split
        })
        .cloned()
        .collect();
    if out.is_empty() {
        return Err(Unresolved::UnknownSplit { splits: splits_of(files, Some(&config))?, config });
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(files: &[&str]) -> Vec<String> {
        files.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn config_folders_with_shards_and_underscored_splits() {
        let glue = list(&[
            "README.md",
            "mnli/test_matched-00000-of-00001.parquet",
            "mnli/train-00000-of-00001.parquet",
            "mnli/validation_matched-00000-of-00001.parquet",
            "sst2/train-00001-of-00002.parquet",
            "sst2/train-00000-of-00002.parquet",
            "sst2/validation-00000-of-00001.parquet",
        ]);
        assert_eq!(
            split_files(&glue, Some("sst2"), "train").expect("sst2"),
            ["sst2/train-00000-of-00002.parquet", "sst2/train-00001-of-00002.parquet"]
        );
        assert_eq!(split_files(&glue, Some("mnli"), "validation_matched").expect("mnli"), ["mnli/validation_matched-00000-of-00001.parquet"]);
        assert_eq!(
            split_files(&glue, Some("mnli"), "test"),
            Err(Unresolved::UnknownSplit { config: "mnli".into(), splits: list(&["test_matched", "train", "validation_matched"]) })
        );
        assert_eq!(split_files(&glue, None, "train"), Err(Unresolved::NeedConfig { configs: list(&["mnli", "sst2"]) }));
        assert_eq!(split_files(&glue, Some("cola"), "train"), Err(Unresolved::UnknownConfig { configs: list(&["mnli", "sst2"]) }));
        assert_eq!(split_files(&list(&["README.md"]), None, "train"), Err(Unresolved::NoParquet));
    }

    #[test]
    fn default_config_in_data_at_the_top_and_on_the_convert_revision() {
        let data = list(&[
            "data/train-00000-of-00002-4d27b5a2.parquet",
            "data/train-00001-of-00002-9a0c11ee.parquet",
            "data/test-00000-of-00001-0badc0de.parquet",
        ]);
        assert_eq!(split_files(&data, None, "train").expect("data").len(), 2);
        assert_eq!(split_files(&data, Some("default"), "test").expect("default"), ["data/test-00000-of-00001-0badc0de.parquet"]);
        let top = list(&["train.parquet", "validation.parquet", "rotten_tomatoes-test.parquet"]);
        assert_eq!(splits_of(&top, None).expect("top"), ["test", "train", "validation"]);
        let convert =
            list(&["sst2/train/0000.parquet", "sst2/train/0001.parquet", "sst2/validation/0000.parquet", "default/partial-train/0000.parquet"]);
        assert_eq!(split_files(&convert, Some("sst2"), "train").expect("convert"), ["sst2/train/0000.parquet", "sst2/train/0001.parquet"]);
        assert_eq!(split_files(&convert, Some("default"), "train").expect("partial"), ["default/partial-train/0000.parquet"]);
        // A split whose name ends like a shard number is not mistaken for one.
        assert_eq!(split_of("train_r1-00000-of-00001.parquet"), "train_r1");
    }
}
