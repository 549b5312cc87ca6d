//! Configurations: which candidates, at which stages, get which kind of assessment, and where
//! its question comes from.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::configurations;
use super::DbConn;
use crate::domain::{QuestionSource, TriggerStyle};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = configurations)]
pub struct Configuration {
    pub id: String,
    pub org_id: String,
    /// The stage it fires at; `None` for a stage-name prefix.
    pub trigger_stage_id: Option<String>,
    /// `live` or `take_home`.
    pub pad_kind: String,
    /// The tag a candidate must carry; only for the tag trigger style.
    pub tag_name: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The library question it asks (question source `library`): required for a take-home
    /// test, optional for a live one.
    pub question_id: Option<String>,
    /// A [`TriggerStyle`] as stored.
    pub trigger_style: String,
    /// The stage-name prefix of the `stage_prefix` style.
    pub stage_prefix: Option<String>,
    /// A [`QuestionSource`] as stored.
    pub question_source: String,
    /// The posting-tag prefix of the `posting_tag` source: a posting tag `{prefix} {title}`.
    pub question_tag_prefix: Option<String>,
}

impl Configuration {
    /// Its trigger style; a value this version does not know reads as the tag style, which
    /// fires for the fewest candidates.
    pub fn style(&self) -> TriggerStyle {
        TriggerStyle::parse(&self.trigger_style).unwrap_or(TriggerStyle::Tag)
    }

    pub fn question_source(&self) -> QuestionSource {
        QuestionSource::parse(&self.question_source).unwrap_or(QuestionSource::Library)
    }

    /// Whether it fires at the stage `stage_id` named `stage_name` (its name as Lever's stages
    /// were last read; `None` when unknown), whoever the candidate is.
    pub fn watches(&self, stage_id: &str, stage_name: Option<&str>) -> bool {
        match self.style() {
            TriggerStyle::Tag | TriggerStyle::Stage => {
                self.trigger_stage_id.as_deref() == Some(stage_id)
            }
            TriggerStyle::StagePrefix => match (&self.stage_prefix, stage_name) {
                (Some(prefix), Some(name)) => name.starts_with(prefix.as_str()),
                _ => false,
            },
        }
    }

    /// How pages and Events name it: its tag, or where it fires when it needs none.
    pub fn name(&self, stage_name: &dyn Fn(&str) -> Option<String>) -> String {
        match (self.style(), &self.tag_name) {
            (TriggerStyle::Tag, Some(tag)) => format!("“{tag}”"),
            (TriggerStyle::StagePrefix, _) => format!(
                "for stages “{}…”",
                self.stage_prefix.as_deref().unwrap_or_default()
            ),
            _ => format!("for everyone at “{}”", self.stage_label(stage_name)),
        }
    }

    /// Where it fires: the trigger stage's name, or the prefix.
    pub fn stage_label(&self, stage_name: &dyn Fn(&str) -> Option<String>) -> String {
        match (&self.trigger_stage_id, &self.stage_prefix) {
            (Some(id), _) => stage_name(id).unwrap_or_else(|| "a stage no longer in Lever".into()),
            (None, Some(prefix)) => format!("Stages named “{prefix}…”"),
            (None, None) => "no stage".into(),
        }
    }

    /// Who it fires for: its tag, or "every candidate".
    pub fn who(&self) -> String {
        match (self.style(), &self.tag_name) {
            (TriggerStyle::Tag, Some(tag)) => tag.clone(),
            _ => "every candidate".into(),
        }
    }

    /// Whether `other` fires like this one (the same trigger style, stage or prefix, and tag) and
    /// sends the same kind of assessment: two such would send each candidate it fires for the
    /// same assessment twice. The question does not matter.
    pub fn same_trigger_and_kind(&self, other: &Configuration) -> bool {
        self.trigger_style == other.trigger_style
            && self.trigger_stage_id == other.trigger_stage_id
            && self.stage_prefix == other.stage_prefix
            && self.tag_name == other.tag_name
            && self.pad_kind == other.pad_kind
    }

    /// "{where} · {who}", as the Assessments page and the assessment's detail show it.
    pub fn summary(&self, stage_name: &dyn Fn(&str) -> Option<String>) -> String {
        format!("{} · {}", self.stage_label(stage_name), self.who())
    }
}

/// How an assessment names its configuration once that is deleted: by the tag it carried.
pub fn deleted_name(tag: &str) -> String {
    if tag.is_empty() {
        "a deleted configuration".into()
    } else {
        format!("a deleted configuration · {tag}")
    }
}

pub fn list(conn: &mut DbConn, org_id: &str) -> QueryResult<Vec<Configuration>> {
    configurations::table
        .filter(configurations::org_id.eq(org_id))
        .order((configurations::created_at.asc(), configurations::id.asc()))
        .select(Configuration::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<Option<Configuration>> {
    configurations::table
        .filter(configurations::org_id.eq(org_id))
        .filter(configurations::id.eq(id))
        .select(Configuration::as_select())
        .first(conn)
        .optional()
}

/// The configuration using this tag, if any (tags are unique in an organization).
pub fn with_tag(conn: &mut DbConn, org_id: &str, tag: &str) -> QueryResult<Option<Configuration>> {
    configurations::table
        .filter(configurations::org_id.eq(org_id))
        .filter(configurations::tag_name.eq(tag))
        .select(Configuration::as_select())
        .first(conn)
        .optional()
}

/// Holds the organization's row until the transaction ends on PostgreSQL, so that two saves
/// checking its configurations against each other (no two identical) take turns, and the
/// second sees what the first saved. SQLite runs write transactions one at a time already.
pub fn lock_organization(conn: &mut DbConn, org_id: &str) -> QueryResult<()> {
    use super::schema::organizations;
    if let DbConn::Pg(pg) = conn {
        organizations::table
            .find(org_id)
            .select(organizations::id)
            .for_update()
            .first::<String>(pg)
            .optional()?;
    }
    Ok(())
}

pub fn insert(conn: &mut DbConn, configuration: &Configuration) -> QueryResult<()> {
    diesel::insert_into(configurations::table)
        .values(configuration)
        .execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConn, configuration: &Configuration) -> QueryResult<usize> {
    diesel::update(
        configurations::table
            .filter(configurations::org_id.eq(&configuration.org_id))
            .filter(configurations::id.eq(&configuration.id)),
    )
    .set((
        configurations::trigger_stage_id.eq(&configuration.trigger_stage_id),
        configurations::pad_kind.eq(&configuration.pad_kind),
        configurations::question_id.eq(&configuration.question_id),
        configurations::tag_name.eq(&configuration.tag_name),
        configurations::trigger_style.eq(&configuration.trigger_style),
        configurations::stage_prefix.eq(&configuration.stage_prefix),
        configurations::question_source.eq(&configuration.question_source),
        configurations::question_tag_prefix.eq(&configuration.question_tag_prefix),
        configurations::updated_at.eq(super::now()),
    ))
    .execute(conn)
}

pub fn delete(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<usize> {
    diesel::delete(
        configurations::table
            .filter(configurations::org_id.eq(org_id))
            .filter(configurations::id.eq(id)),
    )
    .execute(conn)
}
