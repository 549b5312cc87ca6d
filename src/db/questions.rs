//! The organization's question library: what a configuration asks, copied into each assessment
//! when it is created.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::configurations::Configuration;
use super::schema::{configurations, questions};
use super::DbConn;
use crate::domain::IndentUnit;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = questions)]
pub struct Question {
    pub id: String,
    pub org_id: String,
    pub title: String,
    /// Markdown, rendered (sanitised) on the dashboard.
    pub prompt: String,
    /// A [`Language`] value.
    pub language: String,
    /// What the candidate's editor starts with; may be empty.
    pub starter_code: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// A model answer that *Check solution* runs against the cases; never shown to candidates.
    pub reference_solution: String,
}

/// The languages a question may be written for: those the candidate's editor ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Python,
    JavaScript,
    TypeScript,
    Java,
    Cpp,
    Go,
    Rust,
    PlainText,
}

impl Language {
    pub const ALL: [Language; 8] = [
        Language::Python,
        Language::JavaScript,
        Language::TypeScript,
        Language::Java,
        Language::Cpp,
        Language::Go,
        Language::Rust,
        Language::PlainText,
    ];

    pub fn parse(raw: &str) -> Result<Language, String> {
        Language::ALL
            .into_iter()
            .find(|l| l.as_str() == raw.trim())
            .ok_or_else(|| "Choose one of the languages listed.".to_owned())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Java => "java",
            Language::Cpp => "cpp",
            Language::Go => "go",
            Language::Rust => "rust",
            Language::PlainText => "plaintext",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Language::Python => "Python",
            Language::JavaScript => "JavaScript",
            Language::TypeScript => "TypeScript",
            Language::Java => "Java",
            Language::Cpp => "C++",
            Language::Go => "Go",
            Language::Rust => "Rust",
            Language::PlainText => "Plain text",
        }
    }

    /// The indentation the language's own style uses (PEP 8's four spaces, two for JavaScript
    /// and TypeScript, gofmt's tab, four elsewhere): the editor's when the starter code shows
    /// none.
    pub fn indent_unit(self) -> IndentUnit {
        match self {
            Language::JavaScript | Language::TypeScript => IndentUnit::Spaces(2),
            Language::Go => IndentUnit::Tab,
            _ => IndentUnit::Spaces(4),
        }
    }
}

/// The label for a stored `language` value.
pub fn language_label(raw: &str) -> &'static str {
    Language::parse(raw)
        .map(Language::label)
        .unwrap_or("Plain text")
}

/// The candidate's editor's indentation for a question in the stored `language` starting
/// from `starter_code`: the starter code's own, else the language's.
pub fn editor_indent(language: &str, starter_code: &str) -> IndentUnit {
    IndentUnit::shown_by(starter_code).unwrap_or_else(|| {
        Language::parse(language).map_or(IndentUnit::Spaces(4), Language::indent_unit)
    })
}

/// The organization's questions, by title.
pub fn list(conn: &mut DbConn, org_id: &str) -> QueryResult<Vec<Question>> {
    questions::table
        .filter(questions::org_id.eq(org_id))
        .order((questions::title.asc(), questions::id.asc()))
        .select(Question::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<Option<Question>> {
    questions::table
        .filter(questions::org_id.eq(org_id))
        .filter(questions::id.eq(id))
        .select(Question::as_select())
        .first(conn)
        .optional()
}

/// The question with this title, if any (titles are unique in an organization).
pub fn with_title(conn: &mut DbConn, org_id: &str, title: &str) -> QueryResult<Option<Question>> {
    questions::table
        .filter(questions::org_id.eq(org_id))
        .filter(questions::title.eq(title))
        .select(Question::as_select())
        .first(conn)
        .optional()
}

/// The configurations that ask this question.
pub fn used_by(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<Vec<Configuration>> {
    configurations::table
        .filter(configurations::org_id.eq(org_id))
        .filter(configurations::question_id.eq(id))
        .order((configurations::created_at.asc(), configurations::id.asc()))
        .select(Configuration::as_select())
        .load(conn)
}

pub fn insert(conn: &mut DbConn, question: &Question) -> QueryResult<()> {
    diesel::insert_into(questions::table)
        .values(question)
        .execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConn, question: &Question) -> QueryResult<usize> {
    diesel::update(
        questions::table
            .filter(questions::org_id.eq(&question.org_id))
            .filter(questions::id.eq(&question.id)),
    )
    .set((
        questions::title.eq(&question.title),
        questions::prompt.eq(&question.prompt),
        questions::language.eq(&question.language),
        questions::starter_code.eq(&question.starter_code),
        questions::reference_solution.eq(&question.reference_solution),
        questions::updated_at.eq(super::now()),
    ))
    .execute(conn)
}

/// Deletes the question; the database refuses (foreign key) while a configuration uses it.
pub fn delete(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<usize> {
    diesel::delete(
        questions::table
            .filter(questions::org_id.eq(org_id))
            .filter(questions::id.eq(id)),
    )
    .execute(conn)
}
