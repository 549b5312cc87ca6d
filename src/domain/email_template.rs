//! The candidate email's subject and body templates: text with `{placeholder}`s, checked when
//! saved (an unknown placeholder is refused by name) and filled in for each candidate.

/// The placeholders a template may use, with what each becomes.
pub const PLACEHOLDERS: [(&str, &str); 5] = [
    ("candidate_name", "the candidate's name as Lever gives it"),
    ("assessment_link", "the candidate's link to the test"),
    (
        "time_limit",
        "the time they have once started, e.g. “2 hours”",
    ),
    ("start_by", "the date and time the link must be started by"),
    ("company", "the organization's name"),
];

/// What the placeholders stand for in one email.
pub struct Fill<'a> {
    pub candidate_name: &'a str,
    pub assessment_link: &'a str,
    pub time_limit: &'a str,
    pub start_by: &'a str,
    pub company: &'a str,
}

impl Fill<'_> {
    fn value(&self, name: &str) -> &str {
        match name {
            "candidate_name" => self.candidate_name,
            "assessment_link" => self.assessment_link,
            "time_limit" => self.time_limit,
            "start_by" => self.start_by,
            "company" => self.company,
            _ => unreachable!("a template's placeholders are checked when it is parsed"),
        }
    }
}

/// A template whose placeholders are all known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailTemplate(String);

/// One piece of a template: text, or a placeholder's name.
enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

fn pieces(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push(Piece::Text(&rest[..open]));
        let after = &rest[open + 1..];
        let close = after.find('}').filter(|c| !after[..*c].contains('{'));
        let Some(close) = close else {
            let context: String = after.chars().take(20).collect();
            return Err(format!(
                "A “{{” is not closed (at “{{{context}”): write placeholders as {}.",
                known_list()
            ));
        };
        let name = &after[..close];
        if !PLACEHOLDERS.iter().any(|(known, _)| *known == name) {
            return Err(format!(
                "Unknown placeholder {{{name}}}: use {}.",
                known_list()
            ));
        }
        out.push(Piece::Placeholder(name));
        rest = &after[close + 1..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// "{candidate_name}, {assessment_link}, … or {company}".
pub fn known_list() -> String {
    let names: Vec<String> = PLACEHOLDERS
        .iter()
        .map(|(name, _)| format!("{{{name}}}"))
        .collect();
    let (last, rest) = names.split_last().expect("there are placeholders");
    format!("{} or {last}", rest.join(", "))
}

impl EmailTemplate {
    /// Checks `text`: every `{…}` must be a known placeholder.
    pub fn parse(text: &str) -> Result<EmailTemplate, String> {
        pieces(text)?;
        Ok(EmailTemplate(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The template with every placeholder filled in.
    pub fn render(&self, fill: &Fill<'_>) -> String {
        pieces(&self.0)
            .expect("checked when parsed")
            .into_iter()
            .map(|piece| match piece {
                Piece::Text(text) => text,
                Piece::Placeholder(name) => fill.value(name),
            })
            .collect()
    }
}

/// A time limit in words: "2 hours", "90 minutes", "1 hour".
pub fn time_limit_words(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (1, 0) => "1 hour".into(),
        (hours, 0) => format!("{hours} hours"),
        _ => format!("{minutes} minutes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill() -> Fill<'static> {
        Fill {
            candidate_name: "Ada Lovelace",
            assessment_link: "https://x/a/t",
            time_limit: "2 hours",
            start_by: "8 Dec",
            company: "Acme",
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let t = EmailTemplate::parse(
            "Hi {candidate_name}: {assessment_link} ({time_limit}, by {start_by}) — {company}",
        )
        .unwrap();
        assert_eq!(
            t.render(&fill()),
            "Hi Ada Lovelace: https://x/a/t (2 hours, by 8 Dec) — Acme"
        );
    }

    #[test]
    fn an_unknown_placeholder_is_refused_by_name() {
        let e = EmailTemplate::parse("Hi {candidate}!").unwrap_err();
        assert!(
            e.starts_with("Unknown placeholder {candidate}: use {candidate_name}, "),
            "{e}"
        );
        let e = EmailTemplate::parse("Hi {candidate_name").unwrap_err();
        assert!(e.contains("is not closed"), "{e}");
        assert!(EmailTemplate::parse("{ {company}").is_err());
    }

    #[test]
    fn time_limits_read_in_hours_when_whole() {
        assert_eq!(time_limit_words(120), "2 hours");
        assert_eq!(time_limit_words(60), "1 hour");
        assert_eq!(time_limit_words(90), "90 minutes");
    }
}
