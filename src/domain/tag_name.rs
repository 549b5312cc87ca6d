/// A Lever tag as a configuration names it: trimmed, case-sensitive as in Lever, not empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagName(String);

impl TagName {
    pub fn parse(raw: &str) -> Result<TagName, String> {
        let tag = raw.trim();
        if tag.is_empty() {
            return Err("Enter the tag candidates must carry.".into());
        }
        if tag.chars().count() > 100 {
            return Err("A tag can be at most 100 characters long.".into());
        }
        if tag.chars().any(char::is_control) {
            return Err("A tag cannot contain line breaks or control characters.".into());
        }
        Ok(TagName(tag.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::TagName;

    #[test]
    fn tags_are_trimmed_and_keep_their_case() {
        assert_eq!(
            TagName::parse("  CoderPad Live ").unwrap().as_str(),
            "CoderPad Live"
        );
        assert!(TagName::parse("   ").is_err());
        assert!(TagName::parse("a\nb").is_err());
        assert!(TagName::parse(&"x".repeat(101)).is_err());
    }
}
