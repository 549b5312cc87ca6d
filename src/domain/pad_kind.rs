/// What a configuration creates: a live interview pad or a timed take-home test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadKind {
    Live,
    TakeHome,
}

impl PadKind {
    pub const ALL: [PadKind; 2] = [PadKind::Live, PadKind::TakeHome];

    pub fn parse(raw: &str) -> Result<PadKind, String> {
        match raw.trim() {
            "live" => Ok(PadKind::Live),
            "take_home" => Ok(PadKind::TakeHome),
            _ => Err("Choose Live interview or Take-home test.".into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PadKind::Live => "live",
            PadKind::TakeHome => "take_home",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PadKind::Live => "Live interview",
            PadKind::TakeHome => "Take-home test",
        }
    }

    /// Take-home tests need a question; for live interviews it is optional.
    pub fn needs_question(self) -> bool {
        self == PadKind::TakeHome
    }
}

/// The label for a stored `pad_kind` value.
pub fn pad_label(raw: &str) -> &'static str {
    PadKind::parse(raw)
        .map(PadKind::label)
        .unwrap_or("Assessment")
}
