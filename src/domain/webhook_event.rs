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

pub const STAGE_CHANGE: &str = "candidateStageChange";

pub const WEBHOOK_EVENTS: &[WebhookEventKind] = &[
    WebhookEventKind {
        name: STAGE_CHANGE,
        label: "Candidate Stage Change",
        purpose: "Creates assessments when a tagged candidate reaches a trigger stage.",
        required: true,
    },
    WebhookEventKind {
        name: "candidateArchiveChange",
        label: "Candidate Archive State Change",
        purpose: "Recorded on the Events page.",
        required: false,
    },
    WebhookEventKind {
        name: "candidateHired",
        label: "Candidate Hired",
        purpose: "Recorded on the Events page.",
        required: false,
    },
    WebhookEventKind {
        name: "candidateDeleted",
        label: "Candidate Deleted",
        purpose: "Recorded on the Events page.",
        required: false,
    },
];

pub fn webhook_event(name: &str) -> Option<&'static WebhookEventKind> {
    WEBHOOK_EVENTS.iter().find(|e| e.name == name)
}
