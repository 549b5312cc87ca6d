//! Which configuration fires for a candidate moved to a stage, in every trigger style, and
//! exactly why one does not. Pure decisions on what Lever showed; the stage-change job reads
//! Lever and acts on them.

use crate::db::configurations::Configuration;
use crate::db::questions::Question;
use crate::domain::event_outcome::Blocked;
use crate::domain::{QuestionSource, TriggerStyle};
use crate::lever::{Opportunity, Posting};

/// The configurations watching the stage `stage_id` (named `stage_name`, when known), oldest
/// first: its own configurations, and the prefix configurations its name begins with.
pub fn watching<'c>(
    configurations: &'c [Configuration],
    stage_id: &str,
    stage_name: Option<&str>,
) -> Vec<&'c Configuration> {
    configurations
        .iter()
        .filter(|c| c.watches(stage_id, stage_name))
        .collect()
}

/// Whether the stage name is unknown while a prefix configuration could match it: the stage
/// may have been added in Lever since its stages were read, so they are read again.
pub fn needs_stage_refresh(configurations: &[Configuration], stage_name: Option<&str>) -> bool {
    stage_name.is_none()
        && configurations
            .iter()
            .any(|c| c.style() == TriggerStyle::StagePrefix)
}

/// Why the candidate as a whole gets nothing at this stage, in words; `None` when the
/// configurations may fire. Lever decides where a candidate is (a webhook's data is not
/// signed); a *Send now* skips the stage check, as the tag was what was missing at the move.
pub fn candidate_blocked(
    opportunity: &Opportunity,
    to_stage_id: &str,
    stage_name: &dyn Fn(&str) -> String,
    send_now: bool,
) -> Option<Blocked> {
    if opportunity.archived {
        return Some(Blocked::Archived);
    }
    if !send_now && opportunity.stage_id.as_deref() != Some(to_stage_id) {
        let now_at = opportunity
            .stage_id
            .as_deref()
            .map(stage_name)
            .unwrap_or_else(|| "no stage".into());
        return Some(Blocked::ElsewhereInLever {
            now_at,
            moved_to: stage_name(to_stage_id),
        });
    }
    None
}

/// Where a configuration that fires takes its question from, for this candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pick {
    /// This library question (or none, for a live interview without one).
    Question(Option<String>),
    /// A member of the organization picks it on the page the link in Lever opens.
    Recruiter,
}

/// Why one configuration did not fire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// The candidate lacks the configuration's tag (an admin may *Send now*).
    MissingTag(String),
    /// The candidate applied to no posting, so no posting tag can name the question.
    NoPosting,
    /// The posting has no tag `{prefix} {title}` naming a library question.
    NoPostingTag { posting: String, prefix: String },
}

/// The tag check alone: a tag-style configuration needs its tag on the candidate, unless an
/// admin sends it anyway.
pub fn tag_check(
    configuration: &Configuration,
    opportunity: &Opportunity,
    send_now: bool,
) -> Result<(), Skip> {
    match (configuration.style(), &configuration.tag_name) {
        (TriggerStyle::Tag, Some(tag)) if !send_now && !opportunity.tags.contains(tag) => {
            Err(Skip::MissingTag(tag.clone()))
        }
        _ => Ok(()),
    }
}

/// The question for this candidate; `posting` is the candidate's posting as Lever showed it
/// (read only for a posting-tag configuration).
pub fn pick(
    configuration: &Configuration,
    posting: Option<&Posting>,
    questions: &[Question],
) -> Result<Pick, Skip> {
    match configuration.question_source() {
        QuestionSource::Library => Ok(Pick::Question(configuration.question_id.clone())),
        QuestionSource::Recruiter => Ok(Pick::Recruiter),
        QuestionSource::PostingTag => {
            let prefix = configuration
                .question_tag_prefix
                .clone()
                .unwrap_or_default();
            let posting = posting.ok_or(Skip::NoPosting)?;
            named_by_tags(&prefix, &posting.tags, questions)
                .map(|q| Pick::Question(Some(q.id.clone())))
                .ok_or(Skip::NoPostingTag {
                    posting: posting.text.clone(),
                    prefix,
                })
        }
    }
}

/// The library question the first tag `{prefix} {title}` names (case-sensitive, as Lever's
/// tags are).
pub fn named_by_tags<'q>(
    prefix: &str,
    tags: &[String],
    questions: &'q [Question],
) -> Option<&'q Question> {
    tags.iter().find_map(|tag| {
        let title = tag.strip_prefix(prefix)?.strip_prefix(' ')?;
        questions.iter().find(|q| q.title == title)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::configurations::Configuration;

    fn configuration(style: TriggerStyle, source: QuestionSource) -> Configuration {
        let now = chrono::NaiveDateTime::default();
        Configuration {
            id: "c1".into(),
            org_id: "o".into(),
            trigger_stage_id: (style != TriggerStyle::StagePrefix).then(|| "s1".into()),
            pad_kind: "take_home".into(),
            tag_name: (style == TriggerStyle::Tag).then(|| "coding-test".into()),
            created_at: now,
            updated_at: now,
            question_id: (source == QuestionSource::Library).then(|| "q1".into()),
            trigger_style: style.as_str().into(),
            stage_prefix: (style == TriggerStyle::StagePrefix).then(|| "CodeScreen".into()),
            question_source: source.as_str().into(),
            question_tag_prefix: (source == QuestionSource::PostingTag)
                .then(|| "CodeScreen".into()),
        }
    }

    fn question(id: &str, title: &str) -> Question {
        let now = chrono::NaiveDateTime::default();
        Question {
            id: id.into(),
            org_id: "o".into(),
            title: title.into(),
            prompt: String::new(),
            language: "python".into(),
            starter_code: String::new(),
            created_at: now,
            updated_at: now,
            reference_solution: String::new(),
        }
    }

    #[test]
    fn a_prefix_configuration_watches_every_stage_its_prefix_begins() {
        let configs = [
            configuration(TriggerStyle::StagePrefix, QuestionSource::Library),
            configuration(TriggerStyle::Tag, QuestionSource::Library),
        ];
        assert_eq!(
            watching(&configs, "new", Some("CodeScreen Assessment")).len(),
            1
        );
        assert_eq!(watching(&configs, "s1", Some("Phone")).len(), 1);
        assert!(watching(&configs, "x", Some("Codescreen lower")).is_empty());
        assert!(needs_stage_refresh(&configs, None));
        assert!(!needs_stage_refresh(&configs[1..], None));
        assert!(!needs_stage_refresh(&configs, Some("Phone")));
    }

    #[test]
    fn the_posting_tag_names_the_question_by_its_exact_title() {
        let questions = [question("q1", "Rate limiter"), question("q2", "LRU cache")];
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let found = named_by_tags(
            "CodeScreen",
            &tags(&["Engineering", "CodeScreen LRU cache"]),
            &questions,
        );
        assert_eq!(found.map(|q| q.id.as_str()), Some("q2"));
        assert!(
            named_by_tags("CodeScreen", &tags(&["CodeScreen lru cache"]), &questions).is_none()
        );
        assert!(named_by_tags("CodeScreen", &tags(&["CodeScreenLRU cache"]), &questions).is_none());
        let config = configuration(TriggerStyle::Stage, QuestionSource::PostingTag);
        assert_eq!(pick(&config, None, &questions), Err(Skip::NoPosting));
        let posting = Posting {
            id: "p".into(),
            text: "Backend".into(),
            tags: tags(&["Engineering"]),
        };
        assert_eq!(
            pick(&config, Some(&posting), &questions),
            Err(Skip::NoPostingTag {
                posting: "Backend".into(),
                prefix: "CodeScreen".into()
            })
        );
    }

    #[test]
    fn only_the_tag_style_needs_the_tag_and_send_now_waives_it() {
        let opportunity = Opportunity {
            tags: vec!["other".into()],
            ..Opportunity::from(serde_json::json!({}))
        };
        let tagged = configuration(TriggerStyle::Tag, QuestionSource::Library);
        assert_eq!(
            tag_check(&tagged, &opportunity, false),
            Err(Skip::MissingTag("coding-test".into()))
        );
        assert_eq!(tag_check(&tagged, &opportunity, true), Ok(()));
        let everyone = configuration(TriggerStyle::Stage, QuestionSource::Recruiter);
        assert_eq!(tag_check(&everyone, &opportunity, false), Ok(()));
        assert_eq!(pick(&everyone, None, &[]), Ok(Pick::Recruiter));
    }
}
