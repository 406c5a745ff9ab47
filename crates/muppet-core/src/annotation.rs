//! What a researcher adds to a run (tags, notes), checked the same way wherever it comes
//! from (the app, `muppet prefinetune --tag`, `muppet runs tag`). The error says what to do.

/// Longest tag accepted: tags are short labels shown as chips in the runs table.
pub const MAX_TAG_CHARS: usize = 40;
/// Longest note accepted.
pub const MAX_NOTE_CHARS: usize = 10_000;

/// A tag as stored: trimmed, inner runs of spaces made one, non-empty, short, no commas.
pub fn clean_tag(text: &str) -> Result<String, String> {
    let tag = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if tag.is_empty() {
        return Err("type a tag first".into());
    }
    if tag.chars().count() > MAX_TAG_CHARS {
        return Err(format!("the tag `{tag}` is longer than {MAX_TAG_CHARS} characters: shorten it, and keep the details for a note"));
    }
    if tag.contains(',') {
        return Err(format!("the tag `{tag}` holds a comma: add one tag at a time"));
    }
    Ok(tag)
}

/// Each of `tags` as stored ([`clean_tag`]), or what is wrong with the first bad one.
pub fn clean_tags(tags: &[String]) -> Result<Vec<String>, String> {
    tags.iter().map(|t| clean_tag(t)).collect()
}

/// A note as stored: trimmed, non-empty.
pub fn clean_note(text: &str) -> Result<String, String> {
    let note = text.trim();
    if note.is_empty() {
        return Err("write the note first".into());
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(format!("the note is longer than {MAX_NOTE_CHARS} characters: split it into several notes"));
    }
    Ok(note.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_short_single_labels() {
        assert_eq!(clean_tag("  paper  fig 3 ").expect("tag"), "paper fig 3");
        for (bad, why) in [("   ", "type a tag"), ("a,b", "comma"), (&"x".repeat(41) as &str, "longer than 40")] {
            let error = clean_tag(bad).expect_err(why);
            assert!(error.contains(why), "{error}");
        }
        assert_eq!(clean_tag(&"é".repeat(40)).expect("40 characters").chars().count(), 40);
    }

    #[test]
    fn notes_are_trimmed_and_not_empty() {
        assert_eq!(clean_note("\n diverged at 3k \n").expect("note"), "diverged at 3k");
        assert!(clean_note(" \n ").is_err());
        assert!(clean_note(&"x".repeat(MAX_NOTE_CHARS + 1)).is_err());
    }
}
