//! A task's data as canonical JSON lines, and its fingerprint: the sha256 of
//! the family, the labels and those lines. Two imports with the same
//! fingerprint hold the same examples under the same label indices, so a
//! stored task (or a tokenized cache) can be checked against its source.

use muppet_core::TaskSpec;
use sha2::{Digest, Sha256};

use crate::{DataError, Example, LabeledTask};

/// Version of the line format; part of every fingerprint.
const FORMAT: &str = "muppet-task-v1";

/// The examples as canonical JSON lines, in order.
pub fn example_lines(examples: &[Example]) -> Vec<String> {
    examples.iter().map(Example::canonical_json).collect()
}

/// sha256 (hex) of the family, the labels and the canonical lines.
pub fn fingerprint(spec: &TaskSpec, lines: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(FORMAT.as_bytes());
    h.update(b"\n");
    h.update(spec.family.as_str().as_bytes());
    h.update(b"\n");
    h.update(serde_json::to_string(&spec.labels).unwrap_or_default().as_bytes());
    h.update(b"\n");
    for line in lines {
        h.update(line.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The fingerprint of a task in memory.
pub fn task_fingerprint(task: &LabeledTask) -> String {
    fingerprint(&task.spec, &example_lines(&task.examples))
}

/// Rebuild a task from stored lines, checking each example against the spec
/// and, when given, the whole against the fingerprint recorded at import.
pub fn from_lines(spec: TaskSpec, lines: &[String], expected: Option<&str>) -> Result<LabeledTask, DataError> {
    let stored = |message: String| DataError::Stored { task: spec.name.clone(), message };
    if let Some(expected) = expected {
        let got = fingerprint(&spec, lines);
        if got != expected {
            return Err(stored(format!("its data has fingerprint {got}, but {expected} was recorded at import: import it again")));
        }
    }
    let mut examples = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let ex: Example = serde_json::from_str(line).map_err(|e| stored(format!("example {i} is not a stored example: {e}")))?;
        ex.check(&spec).map_err(|m| stored(format!("example {i}: {m}")))?;
        examples.push(ex);
    }
    Ok(LabeledTask { spec, examples })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Answer;
    use muppet_core::TaskFamily;

    #[test]
    fn lines_round_trip_and_the_fingerprint_sees_every_change() {
        let spec = TaskSpec::new("t", TaskFamily::Span, vec![], "s", "l");
        let examples = vec![Example::span("q?", "Zoë in Paris", vec![Answer { start: 7, text: "Paris".into() }])];
        let lines = example_lines(&examples);
        let fp = fingerprint(&spec, &lines);
        assert_eq!(fp.len(), 64);
        let back = from_lines(spec.clone(), &lines, Some(&fp)).expect("round trip");
        assert_eq!(back.examples, examples);
        let moved = vec![lines[0].replace("\"start\":7", "\"start\":6")];
        assert_ne!(fingerprint(&spec, &moved), fp);
        assert!(from_lines(spec.clone(), &moved, Some(&fp)).expect_err("changed").to_string().contains("import it again"));
        // Without a fingerprint the example check still catches a bad offset.
        assert!(from_lines(spec.clone(), &moved, None).expect_err("bad span").to_string().contains("not at character 6"));
        let other = TaskSpec::new("t", TaskFamily::Single, vec!["a".into()], "s", "l");
        assert_ne!(fingerprint(&other, &lines), fp);
    }
}
