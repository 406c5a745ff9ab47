//! The public datasets of the Muppet paper's pre-finetuning mixture (Aghajanyan
//! et al. 2021, Table 1) that an encoder can learn, as they are on the Hugging
//! Face hub: id, config, splits, the hub's column names, and how the importer's
//! [`FieldMap`] and transforms read them. A dataset whose shape the importer cannot
//! express carries the reason in `unpickable` and is never imported half right.
//! The paper's summarization sets (CNN/DailyMail, XSum, Gigaword, Reddit TIFU) are
//! listed as generation tasks: they import, preview and enter the overlap check, but
//! training refuses them (they need a decoder).
//!
//! Column names are those of the hub's Parquet files; integer class columns
//! (the hub's `ClassLabel`) are mapped to their names in index order.

use muppet_core::{Metric, TaskFamily};
use serde::Serialize;

use crate::hub::HubDataset;
use crate::import::{FieldMap, Format, ImportOptions, Transform};

/// One dataset of the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct PaperDataset {
    /// The task name it is imported under (`muppet tasks add NAME`).
    pub name: &'static str,
    /// As the paper and the benchmark name it.
    pub title: &'static str,
    pub family: TaskFamily,
    pub metric: Metric,
    /// Class names in index order (classification; empty otherwise).
    pub labels: Vec<String>,
    /// Hub id (`org/name`).
    pub hub: &'static str,
    /// Config (a top-level folder of the repository); `None`: its only one.
    pub config: Option<&'static str>,
    /// Labeled splits on the hub.
    pub splits: &'static [&'static str],
    /// The split(s) `tasks add` imports unless told otherwise; several are
    /// separated by commas and concatenated.
    pub train_split: &'static str,
    /// The columns of the hub's Parquet files (what the field map may read).
    pub columns: &'static [&'static str],
    pub fields: FieldMap,
    pub transforms: Vec<Transform>,
    /// Span tasks: move answers whose offset is off by a few characters (see
    /// [`ImportOptions::repair_spans`]).
    pub repair_spans: bool,
    pub license: &'static str,
    /// How the dataset is read, and anything a user should know.
    pub note: &'static str,
    /// Why it cannot be imported here, if it cannot.
    pub unpickable: Option<&'static str>,
}

impl PaperDataset {
    /// The split the paper's dev figures come from: the first validation split on the hub
    /// (`validation`, or MNLI's `validation_matched`), if the dataset has one.
    pub fn dev_split(&self) -> Option<&'static str> {
        self.splits.iter().copied().find(|s| s.starts_with("validation"))
    }

    /// The hub splits `split` names (`None`: the default training split(s)).
    pub fn hub_dataset(&self, split: Option<&str>) -> HubDataset {
        let splits = split.unwrap_or(self.train_split).split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        HubDataset { id: self.hub.to_string(), config: self.config.map(str::to_string), splits }
    }

    /// Import options for a task named `name` (Parquet, this entry's mapping,
    /// labels, transforms and license; the source is filled by the hub import).
    pub fn import_options(&self, name: &str) -> ImportOptions {
        let mut o = ImportOptions::new(name, self.family, Format::Parquet);
        o.fields = self.fields.clone();
        o.labels = (!self.labels.is_empty()).then(|| self.labels.clone());
        o.transforms = self.transforms.clone();
        o.repair_spans = self.repair_spans;
        o.license = self.license.to_string();
        o
    }
}

/// A catalog dataset imported from the hub, ready to store.
#[derive(Debug)]
pub struct AddedDataset {
    pub imported: crate::import::Imported,
    pub fetched: crate::hub::FetchedSplit,
    pub hub: HubDataset,
    /// How it was imported, as stored with the task.
    pub description: serde_json::Value,
}

/// The task name `muppet tasks add NAME [--split S]` gives: the dataset's name, or
/// `<name>_<split>` for other splits.
pub fn task_name(dataset: &str, split: Option<&str>) -> String {
    match split {
        None => dataset.to_string(),
        Some(s) => format!("{dataset}_{}", s.replace(',', "_").replace(' ', "")),
    }
}

/// Import catalog dataset `dataset` (its `split`, default its training split) from the
/// hub through `access`, as a task named `name`, with its metric; `skip_invalid` leaves
/// unusable records out instead of failing; `shown` gets its progress. An unknown or
/// unimportable dataset is an error that says which datasets exist, or why it cannot be
/// imported.
pub fn add(
    access: &crate::hub::HubAccess,
    dataset: &str,
    split: Option<&str>,
    name: &str,
    skip_invalid: bool,
    shown: &mut crate::hub::Shown<'_>,
) -> Result<AddedDataset, crate::DataError> {
    let Some(entry) = self::dataset(dataset) else {
        let names: Vec<&str> = datasets().iter().map(|d| d.name).collect();
        return Err(crate::DataError::Options(format!("`{dataset}` is not in the Muppet catalog; its datasets are: {}", names.join(", "))));
    };
    if let Some(why) = entry.unpickable {
        return Err(crate::DataError::Options(format!(
            "`{}` ({}, hub {}) cannot be imported as a task here: {why}. To use it, convert it to one of the task shapes yourself and import the file with `muppet tasks import`",
            entry.name, entry.title, entry.hub
        )));
    }
    let hub = entry.hub_dataset(split);
    if hub.splits.is_empty() {
        return Err(crate::DataError::Options(format!("--split is empty: name a split such as `{}`", entry.train_split)));
    }
    let mut opts = entry.import_options(name);
    if skip_invalid {
        opts.on_invalid = crate::import::OnInvalid::Skip;
    }
    let (mut imported, fetched) = crate::hub::import_hub(access, &hub, &opts, shown)?;
    imported.task.spec.metric = entry.metric;
    let description = crate::hub::hub_description(&hub, &fetched, &opts, &imported);
    Ok(AddedDataset { imported, fetched, hub, description })
}

/// [`add`] with the split the task is scored on: `dev_split` imported first as the task
/// `<name>_<split>`, then the task itself, whose split policy names it
/// ([`muppet_core::SplitPolicy::dev_task`]). Store them together (the dev task first).
pub fn add_scored(
    access: &crate::hub::HubAccess,
    dataset: &str,
    split: Option<&str>,
    name: &str,
    dev_split: Option<&str>,
    skip_invalid: bool,
    shown: &mut crate::hub::Shown<'_>,
) -> Result<(AddedDataset, Option<AddedDataset>), crate::DataError> {
    let dev = match dev_split {
        Some(s) => Some(add(access, dataset, Some(s), &task_name(name, Some(s)), skip_invalid, shown)?),
        None => None,
    };
    let mut added = add(access, dataset, split, name, skip_invalid, shown)?;
    added.imported.task.spec.split.dev_task = dev.as_ref().map(|d| d.imported.task.spec.name.clone());
    Ok((added, dev))
}

fn f(name: &str) -> Option<String> {
    Some(name.to_string())
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The hub's integer class column `field` to the class names, in index order.
fn class_names(field: &str, names: &[&str]) -> Transform {
    Transform::Map { field: field.into(), map: names.iter().enumerate().map(|(i, n)| (i.to_string(), n.to_string())).collect() }
}

/// A classification entry whose `label` column is the hub's integer `ClassLabel`.
#[allow(clippy::too_many_arguments)]
fn classes(
    name: &'static str,
    title: &'static str,
    hub: &'static str,
    config: Option<&'static str>,
    columns: &'static [&'static str],
    text: &str,
    text_b: Option<&str>,
    labels: &[&str],
) -> PaperDataset {
    PaperDataset {
        name,
        title,
        family: if text_b.is_some() { TaskFamily::Pair } else { TaskFamily::Single },
        metric: Metric::Accuracy,
        labels: strings(labels),
        hub,
        config,
        splits: &["train", "validation"],
        train_split: "train",
        columns,
        fields: FieldMap { text: f(text), text_b: text_b.and_then(f), label: f("label"), ..FieldMap::default() },
        transforms: vec![class_names("label", labels)],
        repair_spans: false,
        license: "",
        note: "",
        unpickable: None,
    }
}

/// A multiple-choice entry: `question` (with `context` before it), the choices
/// and the answer field, turned into an index by `answer` where it is not one.
#[allow(clippy::too_many_arguments)]
fn choice(
    name: &'static str,
    title: &'static str,
    hub: &'static str,
    config: Option<&'static str>,
    columns: &'static [&'static str],
    context: Option<&str>,
    question: &str,
    choices: &str,
    label: &str,
    answer: Option<Transform>,
) -> PaperDataset {
    PaperDataset {
        name,
        title,
        family: TaskFamily::MultipleChoice,
        metric: Metric::Accuracy,
        labels: Vec::new(),
        hub,
        config,
        splits: &["train", "validation"],
        train_split: "train",
        columns,
        fields: FieldMap { question: f(question), context: context.and_then(f), choices: f(choices), label: f(label), ..FieldMap::default() },
        transforms: answer.into_iter().collect(),
        repair_spans: false,
        license: "",
        note: "",
        unpickable: None,
    }
}

/// An answer key (`B`) among the record's own choice keys (`choices.label`).
fn key_in_choices(field: &str) -> Option<Transform> {
    Some(Transform::IndexIn { field: field.into(), list: "choices.label".into() })
}

fn key_index(field: &str, keys: &[&str]) -> Option<Transform> {
    Some(Transform::Index { field: field.into(), values: strings(keys) })
}

fn unpickable(
    name: &'static str,
    title: &'static str,
    family: TaskFamily,
    hub: &'static str,
    config: Option<&'static str>,
    columns: &'static [&'static str],
    why: &'static str,
) -> PaperDataset {
    PaperDataset {
        name,
        title,
        family,
        metric: family.default_metric(),
        labels: Vec::new(),
        hub,
        config,
        splits: &["train", "validation"],
        train_split: "train",
        columns,
        fields: FieldMap::default(),
        transforms: Vec::new(),
        repair_spans: false,
        license: "",
        note: "",
        unpickable: Some(why),
    }
}

/// A summarization entry (generation): the document field and the summary field.
#[allow(clippy::too_many_arguments)]
fn summaries(
    name: &'static str,
    title: &'static str,
    hub: &'static str,
    config: Option<&'static str>,
    splits: &'static [&'static str],
    columns: &'static [&'static str],
    text: &str,
    target: &str,
) -> PaperDataset {
    PaperDataset {
        name,
        title,
        family: TaskFamily::Generation,
        metric: Metric::RougeL,
        labels: Vec::new(),
        hub,
        config,
        splits,
        train_split: "train",
        columns,
        fields: FieldMap { text: f(text), target: f(target), ..FieldMap::default() },
        transforms: Vec::new(),
        repair_spans: false,
        license: "",
        note: "",
        unpickable: None,
    }
}

const GLUE: &str = "nyu-mll/glue";
const SUPERGLUE: &str = "aps/super_glue";
const ARC: &[&str] = &["id", "question", "choices", "answerKey"];
const NLI3: &[&str] = &["entailment", "neutral", "contradiction"];

/// Every dataset of the catalog, in the paper's order of families.
pub fn datasets() -> Vec<PaperDataset> {
    let glue_pair = |name, title, columns: &'static [&'static str], a, b, labels: &[&str], license| PaperDataset {
        license,
        ..classes(name, title, GLUE, Some(name), columns, a, Some(b), labels)
    };
    let mut out = vec![
        // GLUE (test splits are unlabeled on the hub: label -1).
        PaperDataset {
            metric: Metric::Mcc,
            license: "CoLA: research use (nyu-mll.github.io/CoLA)",
            ..classes("cola", "GLUE CoLA", GLUE, Some("cola"), &["sentence", "label", "idx"], "sentence", None, &["unacceptable", "acceptable"])
        },
        PaperDataset {
            license: "SST: no license stated (nlp.stanford.edu/sentiment)",
            ..classes("sst2", "GLUE SST-2", GLUE, Some("sst2"), &["sentence", "label", "idx"], "sentence", None, &["negative", "positive"])
        },
        PaperDataset {
            note: "GLUE also reports F1 for MRPC",
            ..glue_pair(
                "mrpc",
                "GLUE MRPC",
                &["sentence1", "sentence2", "label", "idx"],
                "sentence1",
                "sentence2",
                &["not_equivalent", "equivalent"],
                "MRPC: Microsoft Research license (see the dataset card)",
            )
        },
        PaperDataset {
            note: "GLUE also reports F1 for QQP",
            ..glue_pair(
                "qqp",
                "GLUE QQP",
                &["question1", "question2", "label", "idx"],
                "question1",
                "question2",
                &["not_duplicate", "duplicate"],
                "Quora question pairs: Quora's terms (non-commercial)",
            )
        },
        PaperDataset {
            splits: &["train", "validation_matched", "validation_mismatched"],
            ..glue_pair(
                "mnli",
                "GLUE MNLI",
                &["premise", "hypothesis", "label", "idx"],
                "premise",
                "hypothesis",
                NLI3,
                "MultiNLI: OANC and CC BY-SA 3.0 sources (see the MultiNLI paper)",
            )
        },
        glue_pair(
            "qnli",
            "GLUE QNLI",
            &["question", "sentence", "label", "idx"],
            "question",
            "sentence",
            &["entailment", "not_entailment"],
            "CC BY-SA 4.0 (from SQuAD)",
        ),
        glue_pair(
            "rte",
            "GLUE RTE",
            &["sentence1", "sentence2", "label", "idx"],
            "sentence1",
            "sentence2",
            &["entailment", "not_entailment"],
            "RTE challenges: research use (see the dataset card)",
        ),
        glue_pair(
            "wnli",
            "GLUE WNLI",
            &["sentence1", "sentence2", "label", "idx"],
            "sentence1",
            "sentence2",
            &["not_entailment", "entailment"],
            "CC BY 4.0",
        ),
        PaperDataset {
            name: "stsb",
            title: "GLUE STS-B",
            family: TaskFamily::Regression,
            metric: Metric::Pearson,
            labels: Vec::new(),
            hub: GLUE,
            config: Some("stsb"),
            splits: &["train", "validation"],
            train_split: "train",
            columns: &["sentence1", "sentence2", "label", "idx"],
            fields: FieldMap { text: f("sentence1"), text_b: f("sentence2"), label: f("label"), ..FieldMap::default() },
            transforms: Vec::new(),
            repair_spans: false,
            license: "STS Benchmark: mixed sources (see its page)",
            note: "similarity 0 to 5; GLUE also reports Spearman",
            unpickable: None,
        },
        // SuperGLUE.
        PaperDataset {
            license: "CC BY-SA 3.0",
            ..classes(
                "boolq",
                "SuperGLUE BoolQ",
                SUPERGLUE,
                Some("boolq"),
                &["question", "passage", "idx", "label"],
                "question",
                Some("passage"),
                &["False", "True"],
            )
        },
        PaperDataset {
            metric: Metric::MacroF1,
            license: "CommitmentBank: research use (see the dataset card)",
            note: "SuperGLUE reports accuracy and macro-F1; 250 training examples",
            ..classes(
                "cb",
                "SuperGLUE CB",
                SUPERGLUE,
                Some("cb"),
                &["premise", "hypothesis", "idx", "label"],
                "premise",
                Some("hypothesis"),
                &["entailment", "contradiction", "neutral"],
            )
        },
        PaperDataset {
            license: "BSD-2-Clause",
            note: "the question column (`cause` or `effect`) follows the premise in the text the choices answer",
            ..choice(
                "copa",
                "SuperGLUE COPA",
                SUPERGLUE,
                Some("copa"),
                &["premise", "choice1", "choice2", "question", "idx", "label"],
                Some("premise"),
                "question",
                "choice1,choice2",
                "label",
                None,
            )
        },
        PaperDataset {
            metric: Metric::MacroF1,
            transforms: vec![
                Transform::Join { fields: strings(&["question", "answer"]), sep: " ".into(), into: "question_answer".into() },
                class_names("label", &["False", "True"]),
            ],
            license: "MultiRC: research use (see the dataset card)",
            note: "each (paragraph, question + candidate answer) is one pair; SuperGLUE scores F1 over answers and exact match per question, macro-F1 here",
            ..classes(
                "multirc",
                "SuperGLUE MultiRC",
                SUPERGLUE,
                Some("multirc"),
                &["paragraph", "question", "answer", "idx", "label"],
                "paragraph",
                Some("question_answer"),
                &["False", "True"],
            )
        },
        PaperDataset {
            transforms: vec![
                Transform::Join { fields: strings(&["word", "sentence1"]), sep: ": ".into(), into: "word_sentence1".into() },
                class_names("label", &["False", "True"]),
            ],
            license: "CC BY-NC 4.0",
            note: "the target word is put before the first sentence (`word: sentence1`)",
            ..classes(
                "wic",
                "SuperGLUE WiC",
                SUPERGLUE,
                Some("wic"),
                &["word", "sentence1", "sentence2", "start1", "start2", "end1", "end2", "idx", "label"],
                "word_sentence1",
                Some("sentence2"),
                &["False", "True"],
            )
        },
        PaperDataset {
            transforms: vec![
                Transform::Join { fields: strings(&["span2_text", "span1_text"]), sep: " refers to ".into(), into: "claim".into() },
                class_names("label", &["False", "True"]),
            ],
            license: "CC BY 4.0",
            note: "the second text states the coreference to judge: `<pronoun> refers to <candidate>`",
            ..classes(
                "wsc",
                "SuperGLUE WSC",
                SUPERGLUE,
                Some("wsc.fixed"),
                &["text", "span1_index", "span2_index", "span1_text", "span2_text", "idx", "label"],
                "text",
                Some("claim"),
                &["False", "True"],
            )
        },
        PaperDataset {
            license: "ReCoRD: research use (see the dataset card)",
            ..unpickable(
                "record",
                "SuperGLUE ReCoRD",
                TaskFamily::Span,
                SUPERGLUE,
                Some("record"),
                &["passage", "query", "entities", "entity_spans", "answers", "idx"],
                "ReCoRD fills the `@placeholder` of the query with one of the passage's entities: the answer is not a span of the text the model reads, and the importer cannot substitute it",
            )
        },
        // Extractive reading comprehension.
        PaperDataset {
            name: "squad",
            title: "SQuAD v1.1",
            family: TaskFamily::Span,
            metric: Metric::SpanF1,
            labels: Vec::new(),
            hub: "rajpurkar/squad",
            config: Some("plain_text"),
            splits: &["train", "validation"],
            train_split: "train",
            columns: &["id", "title", "context", "question", "answers"],
            fields: FieldMap {
                question: f("question"),
                context: f("context"),
                answer_text: f("answers.text"),
                answer_start: f("answers.answer_start"),
                ..FieldMap::default()
            },
            transforms: Vec::new(),
            repair_spans: true,
            license: "CC BY-SA 4.0",
            note: "validation questions have up to three accepted answers",
            unpickable: None,
        },
        PaperDataset {
            license: "CC BY-SA 4.0",
            ..unpickable(
                "squad_v2",
                "SQuAD v2.0",
                TaskFamily::Span,
                "rajpurkar/squad_v2",
                Some("squad_v2"),
                &["id", "title", "context", "question", "answers"],
                "a third of its questions have no answer in the passage, and the span head here always predicts a span",
            )
        },
        // Commonsense and multiple choice (one shared head, Muppet §3.1).
        PaperDataset {
            config: Some("all"),
            splits: &["train", "validation", "test"],
            license: "RACE: non-commercial research use only",
            note: "passages are long: use a max length of 512 or they are cut",
            ..choice(
                "race",
                "RACE",
                "ehovy/race",
                Some("all"),
                &["example_id", "article", "answer", "question", "options"],
                Some("article"),
                "question",
                "options",
                "answer",
                key_index("answer", &["A", "B", "C", "D"]),
            )
        },
        PaperDataset {
            fields: FieldMap { text: f("ctx"), choices: f("endings"), label: f("label"), ..FieldMap::default() },
            license: "MIT",
            note: "the label is a string `0`..`3`; test labels are empty. Unverified: whether the hub serves Parquet on `main` or only on refs/convert/parquet",
            ..choice(
                "hellaswag",
                "HellaSwag",
                "Rowan/hellaswag",
                None,
                &["ind", "activity_label", "ctx_a", "ctx_b", "ctx", "endings", "source_id", "split", "split_type", "label"],
                None,
                "ctx",
                "endings",
                "label",
                key_index("label", &["0", "1", "2", "3"]),
            )
        },
        PaperDataset {
            license: "MIT",
            note: "test answers are withheld",
            ..choice(
                "commonsense_qa",
                "CommonsenseQA",
                "tau/commonsense_qa",
                None,
                &["id", "question", "question_concept", "choices", "answerKey"],
                None,
                "question",
                "choices.text",
                "answerKey",
                key_in_choices("answerKey"),
            )
        },
        PaperDataset {
            splits: &["train", "validation", "test"],
            license: "Apache-2.0",
            ..choice(
                "openbookqa",
                "OpenBookQA",
                "allenai/openbookqa",
                Some("main"),
                &["id", "question_stem", "choices", "answerKey"],
                None,
                "question_stem",
                "choices.text",
                "answerKey",
                key_in_choices("answerKey"),
            )
        },
        PaperDataset {
            license: "AFL-3.0 per the dataset card (unverified)",
            note: "test labels are withheld. Unverified: the hub repository has been script-based; its Parquet may exist only on refs/convert/parquet",
            ..choice("piqa", "PIQA", "ybisk/piqa", None, &["goal", "sol1", "sol2", "label"], None, "goal", "sol1,sol2", "label", None)
        },
        PaperDataset {
            fields: FieldMap { text: f("startphrase"), choices: f("ending0,ending1,ending2,ending3"), label: f("label"), ..FieldMap::default() },
            license: "see the dataset card (unverified)",
            note: "the start phrase (first sentence and the start of the second) is the text each ending continues; test labels are withheld",
            ..choice(
                "swag",
                "SWAG",
                "allenai/swag",
                Some("regular"),
                &["video-id", "fold-ind", "startphrase", "sent1", "sent2", "gold-source", "ending0", "ending1", "ending2", "ending3", "label"],
                None,
                "startphrase",
                "ending0,ending1,ending2,ending3",
                "label",
                None,
            )
        },
        PaperDataset {
            splits: &["train", "validation", "test"],
            license: "CC BY-SA 4.0",
            ..choice(
                "arc_easy",
                "ARC-Easy",
                "allenai/ai2_arc",
                Some("ARC-Easy"),
                ARC,
                None,
                "question",
                "choices.text",
                "answerKey",
                key_in_choices("answerKey"),
            )
        },
        PaperDataset {
            splits: &["train", "validation", "test"],
            license: "CC BY-SA 4.0",
            note: "some questions have 3 or 5 choices and keys 1..4 instead of A..D; the key is looked up among each question's own keys",
            ..choice(
                "arc_challenge",
                "ARC-Challenge",
                "allenai/ai2_arc",
                Some("ARC-Challenge"),
                ARC,
                None,
                "question",
                "choices.text",
                "answerKey",
                key_in_choices("answerKey"),
            )
        },
        PaperDataset {
            splits: &["train", "validation", "test"],
            license: "CC BY-NC 3.0",
            note: "the correct answer is always the first choice; the shared head scores each choice on its own, so its position carries no signal. The support paragraph (sometimes empty) is not used",
            ..choice(
                "sciq",
                "SciQ",
                "allenai/sciq",
                None,
                &["question", "distractor3", "distractor1", "distractor2", "correct_answer", "support"],
                None,
                "question",
                "correct_answer,distractor1,distractor2,distractor3",
                "correct_answer",
                None,
            )
        },
        PaperDataset {
            splits: &["train", "validation", "test"],
            license: "CC BY 4.0",
            note: "the paragraph is put before the question",
            ..choice(
                "quartz",
                "QuaRTz",
                "allenai/quartz",
                None,
                &["id", "question", "choices", "answerKey", "para", "para_id", "para_anno", "question_anno"],
                Some("para"),
                "question",
                "choices.text",
                "answerKey",
                key_in_choices("answerKey"),
            )
        },
        PaperDataset {
            license: "CC BY 4.0",
            note: "eight choices; the question alone is read (the facts are not given); test answers are withheld",
            ..choice(
                "qasc",
                "QASC",
                "allenai/qasc",
                None,
                &["id", "question", "choices", "answerKey", "fact1", "fact2", "combinedfact", "formatted_question"],
                None,
                "question",
                "choices.text",
                "answerKey",
                key_in_choices("answerKey"),
            )
        },
        PaperDataset {
            license: "CC BY 4.0",
            note: "test labels are withheld. Unverified: the hub repository has been script-based; its Parquet may exist only on refs/convert/parquet",
            ..choice(
                "cosmos_qa",
                "Cosmos QA",
                "allenai/cosmos_qa",
                None,
                &["id", "context", "question", "answer0", "answer1", "answer2", "answer3", "label"],
                Some("context"),
                "question",
                "answer0,answer1,answer2,answer3",
                "label",
                None,
            )
        },
        PaperDataset {
            license: "CC BY 4.0 (unverified)",
            note: "the label is 1-based (`1`..`3`). Unverified: the hub repository has been script-based; its Parquet may exist only on refs/convert/parquet. The demo task social_iqa (BIG-bench) holds some of the same questions",
            ..choice(
                "social_i_qa",
                "Social IQa",
                "allenai/social_i_qa",
                None,
                &["context", "question", "answerA", "answerB", "answerC", "label"],
                Some("context"),
                "question",
                "answerA,answerB,answerC",
                "label",
                key_index("label", &["1", "2", "3"]),
            )
        },
        PaperDataset {
            license: "CC BY 4.0",
            ..unpickable(
                "winogrande",
                "WinoGrande",
                TaskFamily::MultipleChoice,
                "allenai/winogrande",
                Some("winogrande_xl"),
                &["sentence", "option1", "option2", "answer"],
                "each option fills the blank `_` of the sentence; the importer cannot substitute it into the text",
            )
        },
        // Sentence and sentence-pair classification.
        PaperDataset {
            splits: &["train", "test"],
            license: "AG's corpus: academic, non-commercial use",
            ..classes("ag_news", "AG News", "fancyzhx/ag_news", None, &["text", "label"], "text", None, &["World", "Sports", "Business", "Sci/Tech"])
        },
        PaperDataset {
            splits: &["train", "test"],
            license: "IMDB reviews: no license stated (see the dataset card)",
            note: "the `unsupervised` split is unlabeled; reviews are long (use a max length of 512 or they are cut)",
            ..classes("imdb", "IMDB", "stanfordnlp/imdb", Some("plain_text"), &["text", "label"], "text", None, &["neg", "pos"])
        },
        PaperDataset {
            splits: &["train", "validation", "test"],
            license: "no license stated (see the dataset card)",
            note: "the same sentences as the demo task rt_fresh_rotten and VADER's movie snippets: keep them apart",
            ..classes(
                "rotten_tomatoes",
                "Rotten Tomatoes (MR)",
                "cornell-movie-review-data/rotten_tomatoes",
                None,
                &["text", "label"],
                "text",
                None,
                &["neg", "pos"],
            )
        },
        PaperDataset {
            splits: &["train", "test"],
            license: "Yelp Dataset terms (non-commercial)",
            note: "the hub names the classes `1` and `2` (negative, positive)",
            ..classes(
                "yelp_polarity",
                "Yelp Polarity",
                "fancyzhx/yelp_polarity",
                Some("plain_text"),
                &["text", "label"],
                "text",
                None,
                &["negative", "positive"],
            )
        },
        PaperDataset {
            fields: FieldMap { text: f("text"), label: f("coarse_label"), ..FieldMap::default() },
            transforms: vec![class_names("coarse_label", &["ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM"])],
            splits: &["train", "test"],
            license: "no license stated (see the dataset card)",
            note: "the six coarse classes. Unverified: the column names (older copies used `label-coarse`) and whether the hub serves Parquet on `main`",
            ..classes(
                "trec",
                "TREC",
                "CogComp/trec",
                None,
                &["text", "coarse_label", "fine_label"],
                "text",
                None,
                &["ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM"],
            )
        },
        PaperDataset {
            transforms: Vec::new(),
            splits: &["train", "validation", "test"],
            license: "Apache-2.0",
            note: "the tsv_format config, whose labels are the strings `entails` and `neutral`. Unverified: the column names of this config on the hub",
            ..classes(
                "scitail",
                "SciTail",
                "allenai/scitail",
                Some("tsv_format"),
                &["premise", "hypothesis", "label"],
                "premise",
                Some("hypothesis"),
                &["entails", "neutral"],
            )
        },
        PaperDataset {
            splits: &["train", "validation", "test"],
            metric: Metric::MacroF1,
            license: "Microsoft Research Data License (see the dataset card)",
            note: "one (question, candidate sentence) pair per row; the usual scores are MAP and MRR over each question's candidates, macro-F1 here",
            ..classes(
                "wikiqa",
                "WikiQA",
                "microsoft/wiki_qa",
                None,
                &["question_id", "question", "document_title", "answer", "label"],
                "question",
                Some("answer"),
                &["incorrect", "correct"],
            )
        },
        PaperDataset {
            license: "MIT (unverified)",
            note: "an adversarial NLI evaluation set; keep it out of mixtures you evaluate with it. Unverified: whether the hub serves Parquet on `main`",
            ..classes(
                "hans",
                "HANS",
                "jhu-cogsci/hans",
                None,
                &[
                    "premise",
                    "hypothesis",
                    "label",
                    "parse_premise",
                    "parse_hypothesis",
                    "binary_parse_premise",
                    "binary_parse_hypothesis",
                    "heuristic",
                    "subcase",
                    "template",
                ],
                "premise",
                Some("hypothesis"),
                &["entailment", "non-entailment"],
            )
        },
        PaperDataset {
            transforms: vec![Transform::Drop { field: "label".into(), values: strings(&["-1"]) }, class_names("label", NLI3)],
            splits: &["train", "validation", "test"],
            license: "CC BY-SA 4.0",
            note: "pairs without a gold label (label -1) are left out",
            ..classes(
                "snli",
                "SNLI",
                "stanfordnlp/snli",
                Some("plain_text"),
                &["premise", "hypothesis", "label"],
                "premise",
                Some("hypothesis"),
                NLI3,
            )
        },
        PaperDataset {
            splits: &["train_r1", "dev_r1", "test_r1", "train_r2", "dev_r2", "test_r2", "train_r3", "dev_r3", "test_r3"],
            train_split: "train_r1,train_r2,train_r3",
            license: "CC BY-NC 4.0",
            note: "three rounds; `tasks add anli` reads the three training splits together",
            ..classes(
                "anli",
                "ANLI",
                "facebook/anli",
                Some("plain_text"),
                &["uid", "premise", "hypothesis", "label", "reason"],
                "premise",
                Some("hypothesis"),
                NLI3,
            )
        },
        PaperDataset {
            license: "Apache-2.0",
            note: "summarization (generation): imported and checked for overlaps, not trained",
            ..summaries(
                "cnn_dailymail",
                "CNN/DailyMail",
                "abisee/cnn_dailymail",
                Some("3.0.0"),
                &["train", "validation", "test"],
                &["article", "highlights", "id"],
                "article",
                "highlights",
            )
        },
        PaperDataset {
            license: "unknown (unverified)",
            note: "summarization (generation): imported and checked for overlaps, not trained. Unverified: whether the hub serves Parquet for it",
            ..summaries(
                "xsum",
                "XSum",
                "EdinburghNLP/xsum",
                None,
                &["train", "validation", "test"],
                &["document", "summary", "id"],
                "document",
                "summary",
            )
        },
        PaperDataset {
            license: "derived from LDC's English Gigaword: check its license (unverified)",
            note: "headline generation: imported and checked for overlaps, not trained. Unverified: whether the hub serves Parquet for it",
            ..summaries(
                "gigaword",
                "Gigaword",
                "Harvard/gigaword",
                None,
                &["train", "validation", "test"],
                &["document", "summary"],
                "document",
                "summary",
            )
        },
        PaperDataset {
            license: "MIT",
            note: "the `long` config (TL;DR summaries); summarization (generation): imported and checked for overlaps, not trained",
            ..summaries(
                "reddit_tifu",
                "Reddit TIFU",
                "ctr4si/reddit_tifu",
                Some("long"),
                &["train"],
                &["ups", "num_comments", "upvote_ratio", "score", "documents", "tldr", "title"],
                "documents",
                "tldr",
            )
        },
    ];
    out.sort_by_key(|d| family_order(d.family));
    out
}

fn family_order(f: TaskFamily) -> usize {
    TaskFamily::ALL.iter().position(|x| *x == f).unwrap_or(usize::MAX)
}

/// The catalog dataset named `name`.
pub fn dataset(name: &str) -> Option<PaperDataset> {
    datasets().into_iter().find(|d| d.name == name)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::hub::is_hub_id;

    /// Fields a transform reads, and the fields it makes.
    fn transform_fields(t: &Transform) -> (Vec<&str>, Vec<&str>) {
        match t {
            Transform::Split { field, before, after, .. } => (vec![field.as_str()], vec![before.as_str(), after.as_str()]),
            Transform::StripPrefix { field, .. }
            | Transform::StripSuffix { field, .. }
            | Transform::Map { field, .. }
            | Transform::Drop { field, .. }
            | Transform::Index { field, .. } => (vec![field.as_str()], Vec::new()),
            Transform::Join { fields, into, .. } => (fields.iter().map(String::as_str).collect(), vec![into.as_str()]),
            Transform::IndexIn { field, list } => (vec![field.as_str(), list.as_str()], Vec::new()),
        }
    }

    /// The mapped fields the family needs, each of which must be set explicitly.
    fn required(d: &PaperDataset) -> Vec<(&'static str, Option<&String>)> {
        let m = &d.fields;
        match d.family {
            TaskFamily::Single | TaskFamily::Regression => vec![("text", m.text.as_ref()), ("label", m.label.as_ref())],
            TaskFamily::Pair => vec![("text", m.text.as_ref()), ("text_b", m.text_b.as_ref()), ("label", m.label.as_ref())],
            TaskFamily::MultipleChoice => {
                vec![("text or question", m.text.as_ref().or(m.question.as_ref())), ("choices", m.choices.as_ref()), ("label", m.label.as_ref())]
            }
            TaskFamily::Span => vec![("question", m.question.as_ref()), ("context", m.context.as_ref()), ("answer_text", m.answer_text.as_ref())],
            TaskFamily::Generation => vec![("text", m.text.as_ref()), ("target", m.target.as_ref())],
        }
    }

    fn problems(d: &PaperDataset) -> Vec<String> {
        let mut p = Vec::new();
        if !d.metric.fits(d.family) {
            p.push(format!("metric {} does not fit family {}", d.metric.as_str(), d.family.as_str()));
        }
        if !is_hub_id(d.hub) {
            p.push(format!("hub id {:?} is not org/name", d.hub));
        }
        if d.license.trim().is_empty() {
            p.push("no license note".into());
        }
        if d.columns.is_empty() || d.splits.is_empty() {
            p.push("no columns or no splits".into());
        }
        let train: Vec<&str> = d.train_split.split(',').collect();
        if let Some(s) = train.iter().find(|s| !d.splits.contains(s)) {
            p.push(format!("default split {s} is not among its splits"));
        }
        if d.family.is_classification() {
            let distinct: HashSet<&String> = d.labels.iter().collect();
            if d.labels.len() < 2 || distinct.len() != d.labels.len() {
                p.push(format!("labels {:?}: a classification task needs two or more distinct labels", d.labels));
            }
        } else if !d.labels.is_empty() {
            p.push("labels on a task that is not classification".into());
        }
        if let Some(why) = d.unpickable {
            if why.trim().len() < 20 {
                p.push("unpickable without a reason".into());
            }
            return p;
        }
        // Every field read exists: a hub column (the part before the first dot of a
        // path) or a field an earlier transform made.
        let mut known: HashSet<&str> = d.columns.iter().copied().collect();
        for t in &d.transforms {
            let (reads, makes) = transform_fields(t);
            for r in reads {
                let root = r.split('.').next().unwrap_or(r);
                if !known.contains(root) {
                    p.push(format!("transform reads `{r}`, which is not a column"));
                }
            }
            known.extend(makes);
        }
        for (what, field) in required(d) {
            let Some(field) = field else {
                p.push(format!("{what} is not mapped"));
                continue;
            };
            for part in field.split(',') {
                let root = part.split('.').next().unwrap_or(part);
                if !known.contains(root) {
                    p.push(format!("{what} reads `{part}`, which is not a column"));
                }
            }
        }
        let m = &d.fields;
        for optional in [&m.text_b, &m.context, &m.answer_start].into_iter().flatten() {
            let root = optional.split('.').next().unwrap_or(optional);
            if !known.contains(root) {
                p.push(format!("`{optional}` is not a column"));
            }
        }
        // A class column mapped from the hub's integers reaches every label, and only labels.
        if d.family.is_classification() {
            let label = m.label.as_deref().unwrap_or_default();
            let maps: Vec<&Vec<(String, String)>> = d
                .transforms
                .iter()
                .filter_map(|t| match t {
                    Transform::Map { field, map } if field == label => Some(map),
                    _ => None,
                })
                .collect();
            for map in maps {
                let targets: Vec<&String> = map.iter().map(|(_, to)| to).collect();
                if targets != d.labels.iter().collect::<Vec<_>>() {
                    p.push(format!("the class map {targets:?} is not the labels {:?}", d.labels));
                }
            }
        }
        if d.family == TaskFamily::MultipleChoice {
            let label = m.label.as_deref().unwrap_or_default();
            let choices: Vec<&str> = m.choices.as_deref().unwrap_or_default().split(',').collect();
            let indexed =
                d.transforms.iter().any(|t| matches!(t, Transform::Index { field, .. } | Transform::IndexIn { field, .. } if field == label));
            // Without a transform the answer is an integer column or one of the choice columns.
            if !indexed && label != "label" && !choices.contains(&label) {
                p.push(format!("the answer `{label}` is neither an index column nor a choice"));
            }
        }
        p
    }

    #[test]
    fn every_entry_is_well_formed() {
        let all = datasets();
        assert!(all.len() >= 40, "{} entries", all.len());
        let mut names = HashSet::new();
        let demo: HashSet<&str> = crate::catalog::recipes().iter().map(|r| r.name).collect();
        let mut bad = Vec::new();
        for d in &all {
            let mut p = problems(d);
            if !names.insert(d.name) {
                p.push("name used twice".into());
            }
            if demo.contains(d.name) {
                p.push("name of a demo catalog task".into());
            }
            if !d.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                p.push("name is not lower_snake_case".into());
            }
            if !p.is_empty() {
                bad.push(format!("{}: {}", d.name, p.join("; ")));
            }
        }
        assert!(bad.is_empty(), "malformed catalog entries:\n{}", bad.join("\n"));
        for name in ["sst2", "mnli", "stsb", "boolq", "squad", "race", "hellaswag", "commonsense_qa", "arc_challenge", "anli", "snli", "imdb"] {
            assert!(dataset(name).is_some_and(|d| d.unpickable.is_none()), "{name} should be pickable");
        }
        assert!(dataset("record").is_some_and(|d| d.unpickable.is_some()));
    }

    #[test]
    fn the_checks_catch_broken_entries() {
        let good = dataset("sst2").expect("sst2");
        assert!(problems(&good).is_empty());
        let typo = PaperDataset { fields: FieldMap { text: f("sentnce"), ..good.fields.clone() }, ..good.clone() };
        assert!(problems(&typo).iter().any(|p| p.contains("`sentnce`")), "{:?}", problems(&typo));
        let wrong_metric = PaperDataset { metric: Metric::Pearson, ..good.clone() };
        assert!(!problems(&wrong_metric).is_empty());
        let short_map = PaperDataset { labels: strings(&["negative", "positive", "neutral"]), ..good.clone() };
        assert!(problems(&short_map).iter().any(|p| p.contains("class map")));
        let mc = dataset("openbookqa").expect("openbookqa");
        assert!(problems(&mc).is_empty());
        let no_key = PaperDataset { transforms: Vec::new(), ..mc };
        assert!(problems(&no_key).iter().any(|p| p.contains("answerKey")), "{:?}", problems(&no_key));
    }

    #[test]
    fn options_and_splits_come_from_the_entry() {
        let anli = dataset("anli").expect("anli");
        let ds = anli.hub_dataset(None);
        assert_eq!(ds.splits, ["train_r1", "train_r2", "train_r3"]);
        assert_eq!(ds.config.as_deref(), Some("plain_text"));
        assert_eq!(anli.hub_dataset(Some("dev_r1")).splits, ["dev_r1"]);
        let o = anli.import_options("anli");
        assert_eq!(o.format, Format::Parquet);
        assert_eq!(o.labels.as_deref(), Some(&strings(NLI3)[..]));
        assert_eq!(o.fields.text_b.as_deref(), Some("hypothesis"));
    }
}
