//! Where a page of a newest-first list starts (keyset pagination): the time and id of the row
//! next to it. A page read from a cursor costs the same however far back it is, and a link to
//! it keeps showing the same rows while newer ones arrive.

use std::fmt;

use chrono::NaiveDateTime;

/// A row's place in a list ordered by (time, id), written into page links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: NaiveDateTime,
    pub id: String,
}

/// The time as written in a link: compact, to the microsecond the database keeps.
const TIME: &str = "%Y%m%dT%H%M%S%.6f";

impl Cursor {
    /// A cursor from a page link; `None` for anything [`Cursor`]'s `Display` did not write.
    pub fn parse(raw: &str) -> Option<Cursor> {
        let (at, id) = raw.split_once('_')?;
        let at = NaiveDateTime::parse_from_str(at, TIME).ok()?;
        let plain = |c: char| c.is_ascii_alphanumeric() || c == '-';
        (!id.is_empty() && id.len() <= 64 && id.chars().all(plain)).then(|| Cursor {
            at,
            id: id.to_owned(),
        })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.at.format(TIME), self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_link() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .unwrap()
            .and_hms_micro_opt(9, 30, 1, 123_456)
            .unwrap();
        let cursor = Cursor {
            at,
            id: "0193a6f2-7c1e-7b4a-9d3e-2f1a0b9c8d7e".into(),
        };
        assert_eq!(Cursor::parse(&cursor.to_string()), Some(cursor));
        for bad in [
            "",
            "x",
            "20261207T093001.123456",
            "nonsense_id",
            "20261207T093001_a b",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
