//! Enums stored as text on both backends: written with their stored name, read back through
//! their list of names. A stored name this version does not know is an error when the row is
//! read — never a silent fallback to some other value.

/// Implements diesel's `ToSql`/`FromSql` over `Text` for an enum with
/// `fn as_str(self) -> &'static str` and `fn from_stored(&str) -> Option<Self>`, plus
/// `Display` (its stored name). The enum derives `AsExpression` and `FromSqlRow` with
/// `#[diesel(sql_type = diesel::sql_types::Text)]`.
#[macro_export]
macro_rules! stored_as_text {
    ($ty:ty, $what:literal) => {
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let stored = String::from_sql(bytes)?;
                <$ty>::from_stored(&stored)
                    .ok_or_else(|| $crate::domain::UnknownStored::new($what, stored).into())
            }
        }
    };
}

/// A stored value that names no variant of its enum: the row cannot be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "the database holds an unknown {what} `{stored}`: this version of leverbridge does not know it"
)]
pub struct UnknownStored {
    pub what: &'static str,
    pub stored: String,
}

impl UnknownStored {
    pub fn new(what: &'static str, stored: String) -> UnknownStored {
        UnknownStored { what, stored }
    }
}
