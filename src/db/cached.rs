//! `Fixed`: a SQLite statement whose text never changes, known to the statement cache by a type.
//!
//! Diesel writes an insert's SQL again for every row, and walks it to ask whether it may be
//! cached, because it never treats insert values as static. For the few single-row inserts run
//! for every webhook delivery (the intake's hot path) that costs more than running the statement
//! itself, so they are wrapped: the text is fixed (every column bound, `None` written as NULL,
//! never as the column's default; any appended SQL fixed per statement), so the type `Id` alone
//! names it and only the row's binds are collected. Each `Id` must name exactly one text.

use std::marker::PhantomData;

use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sqlite::Sqlite;

pub struct Fixed<Id, Query> {
    query: Query,
    id: PhantomData<Id>,
}

impl<Id, Query> Fixed<Id, Query> {
    pub fn new(query: Query) -> Self {
        Fixed {
            query,
            id: PhantomData,
        }
    }
}

impl<Id: 'static, Query> QueryId for Fixed<Id, Query> {
    type QueryId = Id;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Id, Query> RunQueryDsl<SqliteConnection> for Fixed<Id, Query> {}

impl<Id, Query: QueryFragment<Sqlite>> QueryFragment<Sqlite> for Fixed<Id, Query> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.query.walk_ast(out)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Sqlite) -> QueryResult<bool> {
        Ok(true)
    }
}
