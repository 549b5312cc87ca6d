//! `NewPassword`: a password someone chose, long enough and not easy to guess. Every place that
//! sets a password (`create-user`, any password form) takes one.

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// A password that passed the policy: at least [`MIN_PASSWORD_LEN`] characters and a zxcvbn
/// score of 3 or more (no common password, keyboard walk, or the e-mail address with a digit).
pub struct NewPassword(String);

impl NewPassword {
    /// Checks `raw`; `related` are words an attacker would try first (the e-mail address).
    /// The error says what is wrong and how to do better.
    pub fn parse(raw: &str, related: &[&str]) -> Result<NewPassword, String> {
        if raw.chars().count() < MIN_PASSWORD_LEN {
            return Err(format!(
                "the password must be at least {MIN_PASSWORD_LEN} characters long"
            ));
        }
        let entropy = zxcvbn::zxcvbn(raw, related);
        if u8::from(entropy.score()) < 3 {
            let mut message = "the password is too easy to guess".to_owned();
            if let Some(feedback) = entropy.feedback() {
                if let Some(warning) = feedback.warning() {
                    message.push_str(&format!(" ({warning})"));
                }
                for suggestion in feedback.suggestions() {
                    message.push_str(&format!("; {suggestion}"));
                }
            }
            message.push_str("; a few unrelated words together make a good one");
            return Err(message);
        }
        Ok(NewPassword(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::NewPassword;

    #[test]
    fn short_or_common_passwords_are_refused() {
        let short = NewPassword::parse("Tr0ub4dor&3", &[]).err().unwrap();
        assert!(short.contains("at least 12 characters"), "{short}");
        for weak in ["password1234", "qwertyuiopasdf", "111111111111"] {
            let err = NewPassword::parse(weak, &[]).err().unwrap();
            assert!(err.contains("too easy to guess"), "{weak}: {err}");
        }
        let err = NewPassword::parse("jane.doe@acme.test1", &["jane.doe@acme.test"])
            .err()
            .unwrap();
        assert!(err.contains("too easy to guess"), "{err}");
    }

    #[test]
    fn long_unrelated_passwords_pass() {
        for good in [
            "correct horse battery",
            "violet-anchor-meadow-42",
            "leverbridge-demo",
        ] {
            assert!(NewPassword::parse(good, &[]).is_ok(), "{good}");
        }
    }
}
