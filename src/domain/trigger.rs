//! How a configuration fires and where its question comes from: the trigger styles of the
//! integrations leverbridge unifies, stored as their `as_str` text.

/// Which candidates, moved to which stages, a configuration fires for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerStyle {
    /// Candidates carrying the configuration's tag, moved into its trigger stage (CoderPad,
    /// CodeSubmit). Lever copies a posting's tags onto its applicants, so tagging a posting
    /// tags them; removing the tag from a candidate exempts them.
    Tag,
    /// Every candidate moved into its trigger stage (CodeSignal's trigger stages; with a live
    /// interview, its interview trigger stages).
    Stage,
    /// Every candidate moved into any stage whose name begins with a prefix, stages added in
    /// Lever later included (CodeScreen).
    StagePrefix,
}

impl TriggerStyle {
    pub const ALL: [TriggerStyle; 3] = [
        TriggerStyle::Tag,
        TriggerStyle::Stage,
        TriggerStyle::StagePrefix,
    ];

    pub fn parse(raw: &str) -> Result<TriggerStyle, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| "Choose when the configuration fires.".into())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TriggerStyle::Tag => "tag",
            TriggerStyle::Stage => "stage",
            TriggerStyle::StagePrefix => "stage_prefix",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TriggerStyle::Tag => "Tagged candidates at a trigger stage",
            TriggerStyle::Stage => "Every candidate at a trigger stage",
            TriggerStyle::StagePrefix => "Every stage whose name begins with a prefix",
        }
    }

    /// What the choice does, for the form.
    pub fn help(self) -> &'static str {
        match self {
            TriggerStyle::Tag => "Fires when a candidate carrying the tag is moved into the trigger stage. Tag a posting in Lever and its applicants carry the tag; remove it from a candidate to exempt them. (CoderPad, CodeSubmit)",
            TriggerStyle::Stage => "Fires for everyone moved into the trigger stage, no tag needed. With a live interview, the interviewer gets the pad's link in a note. (CodeSignal's trigger and interview trigger stages)",
            TriggerStyle::StagePrefix => "Fires for everyone moved into any stage whose name begins with the prefix, including stages added in Lever later. (CodeScreen)",
        }
    }
}

/// Where a configuration's question comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuestionSource {
    /// One question from the library, the same for every candidate.
    Library,
    /// A tag `{prefix} {question title}` on the candidate's posting names it, so each role
    /// gets its own (CodeScreen).
    PostingTag,
    /// The link written to Lever opens a page where a member of the organization picks it;
    /// only then is the candidate invited (CodeSignal).
    Recruiter,
}

impl QuestionSource {
    pub const ALL: [QuestionSource; 3] = [
        QuestionSource::Library,
        QuestionSource::PostingTag,
        QuestionSource::Recruiter,
    ];

    pub fn parse(raw: &str) -> Result<QuestionSource, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| "Choose where the question comes from.".into())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionSource::Library => "library",
            QuestionSource::PostingTag => "posting_tag",
            QuestionSource::Recruiter => "recruiter",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            QuestionSource::Library => "A question from the library",
            QuestionSource::PostingTag => "Named by a tag on the candidate's posting",
            QuestionSource::Recruiter => "Recruiter's choice",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            QuestionSource::Library => "Every candidate gets the question chosen below.",
            QuestionSource::PostingTag => "Tag each posting in Lever “{prefix} {question title}” (e.g. “CodeScreen Rate limiter”) to pick the question for that role. A candidate whose posting has no such tag gets nothing, and Events says so. (CodeScreen)",
            QuestionSource::Recruiter => "The link put on the candidate in Lever opens a page where a signed-in member of your organization picks the question; only then is the candidate invited and the link replaced by the candidate's. (CodeSignal)",
        }
    }
}

/// A prefix typed on the form (a stage-name prefix or a posting-tag prefix): trimmed, not
/// empty, one line, at most 100 characters. Case-sensitive, like Lever's names.
pub fn parse_prefix(raw: &str, what: &str) -> Result<String, String> {
    let prefix = raw.trim();
    if prefix.is_empty() {
        return Err(format!("Enter the {what}."));
    }
    if prefix.chars().count() > 100 {
        return Err(format!("The {what} can be at most 100 characters long."));
    }
    if prefix.chars().any(char::is_control) {
        return Err(format!(
            "The {what} cannot contain line breaks or control characters."
        ));
    }
    Ok(prefix.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_back() {
        for style in TriggerStyle::ALL {
            assert_eq!(TriggerStyle::parse(style.as_str()), Ok(style));
        }
        for source in QuestionSource::ALL {
            assert_eq!(QuestionSource::parse(source.as_str()), Ok(source));
        }
        assert!(TriggerStyle::parse("tags").is_err());
        assert!(QuestionSource::parse("").is_err());
    }

    #[test]
    fn prefixes_are_trimmed_one_line_names() {
        assert_eq!(
            parse_prefix("  CodeScreen ", "prefix").as_deref(),
            Ok("CodeScreen")
        );
        assert_eq!(
            parse_prefix(" ", "stage-name prefix"),
            Err("Enter the stage-name prefix.".into())
        );
        assert!(parse_prefix("a\nb", "prefix").is_err());
        assert!(parse_prefix(&"x".repeat(101), "prefix").is_err());
    }
}
