/// The short name of an organization used in URLs: lowercase letters, digits and dashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgSlug(String);

impl OrgSlug {
    pub fn parse(raw: &str) -> Result<OrgSlug, String> {
        let slug = raw.trim();
        let ok = (2..=40).contains(&slug.len())
            && slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !slug.starts_with('-')
            && !slug.ends_with('-');
        if ok {
            Ok(OrgSlug(slug.to_owned()))
        } else {
            Err(format!(
                "`{slug}` is not a valid organization short name: use 2–40 lowercase letters, digits and dashes"
            ))
        }
    }

    /// A slug made from a display name ("Acme Robotics" → "acme-robotics").
    pub fn from_name(name: &str) -> Result<OrgSlug, String> {
        let mut slug = String::new();
        for c in name.trim().to_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        OrgSlug::parse(slug.trim_end_matches('-'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::OrgSlug;

    #[test]
    fn slugs() {
        assert_eq!(
            OrgSlug::from_name("Acme Robotics, Inc.").unwrap().as_str(),
            "acme-robotics-inc"
        );
        assert!(OrgSlug::parse("Acme").is_err());
        assert!(OrgSlug::parse("-x").is_err());
        assert!(OrgSlug::parse("a").is_err());
    }
}
