//! Every demo task of DATA.md loaded from the real assets, its size checked
//! against DATA.md's table, and what the loader left out (exact duplicates,
//! invalid records, dropped rows) counted exactly. The assets are fetched by
//! `make test` into `MUPPET_ASSETS` (default `<workspace>/.muppet/assets`).

use std::path::PathBuf;

use muppet_core::TaskFamily;
use muppet_data::catalog::{demo_names, load_task_report, recipe};
use muppet_data::{Answer, Example, Target};

fn assets() -> PathBuf {
    let dir = std::env::var_os("MUPPET_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.muppet/assets"));
    assert!(
        dir.join("raw/bigbench/.muppet-asset").is_file(),
        "no task assets in {}: run `muppet assets fetch --tasks` with MUPPET_ASSETS pointing there (make test does)",
        dir.display()
    );
    dir
}

/// One row per demo task.
struct Expected {
    name: &'static str,
    family: TaskFamily,
    /// The size DATA.md gives.
    data_md: usize,
    /// Records in the source minus rows dropped on purpose (plot summaries):
    /// equals `data_md` except where the note on the row says why not.
    in_source: usize,
    /// Invalid records left out (the recipe says why).
    skipped: usize,
    /// Exact duplicates left out (same texts, choices and target).
    duplicates: usize,
    /// Examples per class, in label order (classification only).
    label_counts: &'static [usize],
}

const fn row(
    name: &'static str,
    family: TaskFamily,
    data_md: usize,
    in_source: usize,
    skipped: usize,
    duplicates: usize,
    label_counts: &'static [usize],
) -> Expected {
    Expected { name, family, data_md, in_source, skipped, duplicates, label_counts }
}

use TaskFamily::{MultipleChoice as Mc, Pair, Regression, Single, Span};

const EXPECTED: &[Expected] = &[
    row("rt_fresh_rotten", Single, 12_808, 12_808, 0, 56, &[7_368, 5_384]),
    row("crowdflower_tweets", Single, 38_158, 38_158, 0, 868, &[15_978, 14_471, 6_841]),
    // 8 examples have an empty input.
    row("multiemo_en_sent", Single, 57_466, 57_466, 8, 176, &[21_087, 14_079, 15_235, 6_881]),
    row("sarcasm_headlines", Single, 28_614, 28_614, 0, 116, &[14_950, 13_548]),
    row("fever_claims", Single, 6_612, 6_612, 0, 85, &[3_260, 3_267]),
    row("vitaminc", Pair, 54_668, 54_668, 0, 0, &[27_242, 20_169, 7_257]),
    row("movie_dialog_same_speaker", Pair, 50_000, 50_000, 0, 0, &[23_585, 26_415]),
    row("wikihow_goal_step", Mc, 7_053, 7_053, 0, 0, &[]),
    // One example has a single choice.
    row("ctx_knowledge_conflicts", Mc, 17_528, 17_528, 1, 0, &[]),
    row("strategyqa", Mc, 2_290, 2_290, 0, 1, &[]),
    // The file holds 10,565 questions (all ids distinct); DATA.md says 10,562.
    row("squad_dev", Span, 10_562, 10_565, 0, 21, &[]),
    // The file holds 7,936 questions; DATA.md says 7,935.
    row("squad_new_wiki", Span, 7_935, 7_936, 0, 157, &[]),
    row("quoref", Span, 6_500, 6_500, 0, 0, &[]),
    // DATA.md: "4,200 - 10,605" for the four VADER sets.
    row("vader_tweets", Regression, 4_200, 4_200, 0, 0, &[]),
    row("vader_movies", Regression, 10_605, 10_605, 0, 0, &[]),
    row("vader_amazon", Regression, 3_708, 3_708, 0, 0, &[]),
    row("vader_nyt", Regression, 5_190, 5_190, 0, 4, &[]),
    row("social_iqa", Mc, 1_954, 1_954, 0, 19, &[]),
    row("winowhy", Single, 2_865, 2_865, 0, 3, &[1_268, 1_594]),
    // DATA.md: "~10k".
    row("squad_nyt", Span, 10_056, 10_056, 0, 259, &[]),
    row("bbc_news", Single, 2_225, 2_225, 0, 98, &[503, 369, 403, 505, 347]),
    row("spamassassin", Single, 6_046, 6_046, 0, 0, &[4_150, 1_896]),
];

#[test]
fn every_demo_task_loads_with_data_md_counts_less_duplicates() {
    let assets = assets();
    let names = demo_names();
    assert_eq!(names, EXPECTED.iter().map(|e| e.name).collect::<Vec<_>>(), "the test table and the catalog list the same tasks");
    let mut failures = Vec::new();
    for e in EXPECTED {
        let got = load_task_report(&assets, e.name).unwrap_or_else(|err| panic!("{}: {err}", e.name));
        let task = &got.task;
        let in_source = got.records - got.dropped;
        let line = format!(
            "{}: in source {} (DATA.md {}), skipped {}, duplicates {}, examples {}, labels {:?}",
            e.name,
            in_source,
            e.data_md,
            got.skipped,
            got.duplicates,
            task.examples.len(),
            task.label_counts()
        );
        println!("{line}");
        let ok = task.spec.family == e.family
            && in_source == e.in_source
            && got.skipped == e.skipped
            && got.duplicates == e.duplicates
            && task.examples.len() == e.in_source - e.skipped - e.duplicates
            && task.label_counts() == e.label_counts
            && (e.in_source == e.data_md || matches!(e.name, "squad_dev" | "squad_new_wiki" | "squad_nyt"));
        if !ok {
            failures.push(line);
        }
        for (i, ex) in task.examples.iter().enumerate() {
            if let Err(m) = ex.check(&task.spec) {
                failures.push(format!("{} example {i}: {m}", e.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn load(name: &str) -> muppet_data::LabeledTask {
    load_task_report(&assets(), name).unwrap_or_else(|e| panic!("{name}: {e}")).task
}

#[test]
fn multiple_choice_tasks_take_their_choices_from_target_scores_in_file_order() {
    let strategy = load("strategyqa");
    assert_eq!(
        strategy.examples[0],
        Example::choice("Is it common to see frost during some college commencements?", vec!["Yes".into(), "No".into()], 0)
    );
    // goal_step_wikihow/step_inference comes first; its first example's answer is the third choice.
    let wikihow = load("wikihow_goal_step");
    let first = &wikihow.examples[0];
    assert_eq!(first.text_a, "The most reasonable step of 'Solve an Algebraic Expression' is");
    assert_eq!(first.choices[2], "Know the order of operations");
    assert_eq!(first.target, Target::Choice(2));
    let sizes = |name: &str| {
        let t = load(name);
        let n: Vec<usize> = t.examples.iter().map(|e| e.choices.len()).collect();
        (*n.iter().min().unwrap_or(&0), *n.iter().max().unwrap_or(&0))
    };
    // DATA.md says 2-4 for wikihow; two goal_inference examples have 5 choices.
    assert_eq!(sizes("wikihow_goal_step"), (2, 5));
    assert_eq!(sizes("ctx_knowledge_conflicts"), (2, 2));
    assert_eq!(sizes("strategyqa"), (2, 2));
    assert_eq!(sizes("social_iqa"), (2, 3));
    let ctx = load("ctx_knowledge_conflicts");
    assert!(ctx.examples[0].text_a.starts_with("Question: who does candace like in phineas and ferb?\nContext: Candace Flynn"));
    assert_eq!(ctx.examples[0].choices, ["Griselda Blanco", "Jeremy Johnson"]);
    assert_eq!(ctx.examples[0].target, Target::Choice(0));
}

fn answers(ex: &Example) -> &[Answer] {
    match &ex.target {
        Target::Span(a) => a,
        other => panic!("not a span: {other:?}"),
    }
}

#[test]
fn span_answers_sit_at_their_character_offsets() {
    let quoref = load("quoref");
    let first = &quoref.examples[0];
    assert!(first.text_a.starts_with("What is the first name of the person who doubted"), "{}", first.text_a);
    let context = first.text_b.as_deref().expect("context");
    assert!(context.starts_with("The earthquake swarm was noted on October 12, 2007"));
    // Natural Instructions' trailing period is not part of the passage's span.
    assert_eq!(answers(first)[0].text, "Catherine");
    // Multi-span questions keep every span.
    assert!(quoref.examples.iter().any(|e| answers(e).len() == 3));

    // Offsets count Unicode characters: an answer after an en dash or an accent
    // is still at its offset (Example::check compares characters).
    let squad = load("squad_dev");
    let mut non_ascii = 0;
    for ex in &squad.examples {
        let context = ex.text_b.as_deref().expect("context");
        for a in answers(ex) {
            let found: String = context.chars().skip(a.start).take(a.text.chars().count()).collect();
            assert_eq!(found, a.text);
            non_ascii += usize::from(!context.is_ascii() && context.chars().take(a.start).any(|c| !c.is_ascii()));
        }
    }
    assert!(non_ascii > 100, "{non_ascii}");
    // Question 56bf36b93aeaaa14008c9562 has answers "23–16" at 70 twice and
    // " 23–16" at 68 (two characters early): all three end up at 70.
    let q = squad.examples.iter().find(|e| answers(e).iter().any(|a| a.text == "23–16")).expect("the 23–16 question");
    assert_eq!(answers(q).iter().map(|a| (a.start, a.text.as_str())).collect::<Vec<_>>(), [(70, "23–16"); 3]);
}

#[test]
fn pair_tasks_split_their_inputs() {
    let vitaminc = load("vitaminc");
    let first = &vitaminc.examples[0];
    assert!(first.text_a.starts_with("Westlife: According to the British Phonographic Industry"));
    assert_eq!(first.text_b.as_deref(), Some("Westlife made under 23.5 million sales in the UK ."));
    assert_eq!(vitaminc.spec.labels[first.label().expect("class")], "Neither");
    let dialog = load("movie_dialog_same_speaker");
    let first = &dialog.examples[0];
    assert!(first.text_a.ends_with("Saturday? Night?"), "{}", first.text_a);
    assert!(first.text_b.as_deref().is_some_and(|b| b.starts_with("\"Well, I thought")), "{:?}", first.text_b);
    let recipe = recipe("vader_tweets").expect("recipe");
    assert!(recipe.options.source.contains("tweets_GroundTruth.txt"));
    let vader = load("vader_tweets");
    assert_eq!(vader.examples[0].target, Target::Value(2.726_315_8));
}
