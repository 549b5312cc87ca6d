//! Enums stored as text on both backends: written with their stored name, read back through
//! their list of names. A stored name this version does not know is an error when the row is
//! read — never a silent fallback to some other value.

/// For an enum with `const ALL` (every variant) and `fn as_str(self) -> &'static str` (its
/// stored name), deriving `AsExpression` and `FromSqlRow` with
/// `#[diesel(sql_type = diesel::sql_types::Text)]`: implements `from_stored` (the variant a
/// stored name stands for) and diesel's `ToSql`/`FromSql` over `Text`. With `, display` it also
/// shows as its stored name.
#[macro_export]
macro_rules! stored_as_text {
    ($ty:ty, $what:literal, display) => {
        $crate::stored_as_text!($ty, $what);

        /// Its stored name.
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    ($ty:ty, $what:literal) => {
        impl $ty {
            /// The variant a stored name stands for; `None` for a name this version does
            /// not know.
            pub fn from_stored(name: &str) -> Option<$ty> {
                <$ty>::ALL.into_iter().find(|v| v.as_str() == name)
            }
        }

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

#[cfg(test)]
mod tests {
    use crate::domain::{AssessmentState, DeliveryStatus, JobState, Lane, WriteBackStep};

    /// What is written reads back as itself, for every enum stored as text.
    #[test]
    fn every_stored_name_reads_back_as_its_variant() {
        fn round_trip<T: Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            name: fn(T) -> &'static str,
            read: fn(&str) -> Option<T>,
        ) {
            for v in all {
                assert_eq!(read(name(*v)), Some(*v));
            }
        }
        round_trip(
            &AssessmentState::ALL,
            AssessmentState::as_str,
            AssessmentState::from_stored,
        );
        round_trip(&JobState::ALL, JobState::as_str, JobState::from_stored);
        round_trip(&Lane::ALL, Lane::as_str, Lane::from_stored);
        round_trip(
            &DeliveryStatus::ALL,
            DeliveryStatus::as_str,
            DeliveryStatus::from_stored,
        );
        round_trip(
            &WriteBackStep::ALL,
            WriteBackStep::as_str,
            WriteBackStep::from_stored,
        );
    }
}
