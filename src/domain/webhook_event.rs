/// The Lever webhook events leverbridge accepts, each with its own signature token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookEventKind {
    /// Lever's name, as in the delivery's `event` field.
    pub name: &'static str,
    /// As Lever's settings page labels it.
    pub label: &'static str,
    /// What leverbridge does with it.
    pub purpose: &'static str,
    pub required: bool,
}

/// How long before its arrival a signed delivery may have been triggered: Lever retries a failed
/// delivery for days and an admin can re-run an old one by hand, so the window is wide. Older
/// ones are refused as possible replays, so a delivery's token must be remembered (to refuse a
/// second copy as a duplicate) until its `triggeredAt` is this far in the past, and no longer.
pub const REPLAY_WINDOW_DAYS: i64 = 365;

pub const STAGE_CHANGE: &str = "candidateStageChange";
pub const ARCHIVE_CHANGE: &str = "candidateArchiveChange";
pub const HIRED: &str = "candidateHired";
pub const DELETED: &str = "candidateDeleted";

pub const WEBHOOK_EVENTS: &[WebhookEventKind] = &[
    WebhookEventKind {
        name: STAGE_CHANGE,
        label: "Candidate Stage Change",
        purpose: "Creates assessments when a tagged candidate reaches a trigger stage.",
        required: true,
    },
    WebhookEventKind {
        name: ARCHIVE_CHANGE,
        label: "Candidate Archive State Change",
        purpose: "Withdraws a candidate's unfinished assessment when they are archived: its link is removed and its progress tag becomes Cancelled.",
        required: false,
    },
    WebhookEventKind {
        name: HIRED,
        label: "Candidate Hired",
        purpose: "Withdraws a hired candidate's unfinished assessment, as archiving does.",
        required: false,
    },
    WebhookEventKind {
        name: DELETED,
        label: "Candidate Deleted",
        purpose: "Withdraws a deleted candidate's assessments and erases their name, code and score from leverbridge.",
        required: false,
    },
];

pub fn webhook_event(name: &str) -> Option<&'static WebhookEventKind> {
    WEBHOOK_EVENTS.iter().find(|e| e.name == name)
}
