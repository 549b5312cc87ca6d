//! The demo company: one account shaped like a real Lever customer.

use serde_json::json;

use super::actions::{self, NewCandidate};
use super::rate_limit::TokenBucket;
use super::state::{new_id, now_ms, random_alphanumeric, Account, ApiKey, FeedbackTemplate};
use super::SimHandle;

/// What `seed_demo` created, for the caller to wire leverbridge to it.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    pub account_id: String,
    /// An API key with every permission.
    pub api_key: String,
    /// An active Super Admin, the natural `perform_as` user.
    pub default_user_id: String,
    /// `(id, text)` in pipeline order.
    pub stages: Vec<(String, String)>,
    /// The candidates of the posting that carries the demo tag.
    pub tagged_candidate_ids: Vec<String>,
}

const USERS: &[(&str, &str, &str, bool)] = &[
    ("Avery Chen", "avery.chen", "super admin", false),
    ("Jordan Patel", "jordan.patel", "admin", false),
    ("Morgan Lee", "morgan.lee", "admin", false),
    ("Sam Rivera", "sam.rivera", "team member", false),
    ("Priya Nair", "priya.nair", "team member", false),
    ("Diego Alvarez", "diego.alvarez", "team member", false),
    (
        "Hannah Schmidt",
        "hannah.schmidt",
        "limited team member",
        false,
    ),
    (
        "Kenji Watanabe",
        "kenji.watanabe",
        "limited team member",
        false,
    ),
    ("Fatima Bello", "fatima.bello", "interviewer", false),
    ("Lucas Martin", "lucas.martin", "interviewer", false),
    ("Olivia Brown", "olivia.brown", "interviewer", false),
    ("Ethan Walker", "ethan.walker", "team member", true),
];

/// Lever's default pipeline; the first four keep Lever's readable ids.
const STAGES: &[(Option<&str>, &str)] = &[
    (Some("lead-new"), "New lead"),
    (Some("lead-reached-out"), "Reached out"),
    (Some("lead-responded"), "Responded"),
    (Some("applicant-new"), "New applicant"),
    (None, "Recruiter screen"),
    (None, "Phone interview"),
    (None, "On-site interview"),
    (None, "Offer"),
];

/// (name, posting: 0 = backend, 1 = designer, None = sourced lead, stage index)
const CANDIDATES: &[(&str, Option<usize>, usize)] = &[
    ("Grace Hopper", Some(0), 3),
    ("Alan Turing", Some(0), 4),
    ("Ada Lovelace", Some(0), 5),
    ("Edsger Dijkstra", Some(0), 3),
    ("Barbara Liskov", Some(0), 6),
    ("Ken Thompson", Some(0), 4),
    ("Dieter Rams", Some(1), 3),
    ("Susan Kare", Some(1), 5),
    ("Jony Ive", Some(1), 7),
    ("Margaret Hamilton", None, 0),
];

/// Creates the demo account "Acme Robotics" (webhook URLs are left for the caller to set).
pub async fn seed_demo(sim: &SimHandle, demo_tag: &str) -> anyhow::Result<DemoSeed> {
    seed_company(sim, "Acme Robotics", demo_tag).await
}

/// Creates an account named `company` with the demo's people, pipeline, postings and
/// candidates (the backend posting carries `demo_tag`).
pub async fn seed_company(
    sim: &SimHandle,
    company: &str,
    demo_tag: &str,
) -> anyhow::Result<DemoSeed> {
    let mut acct = Account::new(company);
    let domain = company.to_lowercase().replace(' ', "-");
    let mut user_ids = Vec::new();
    for (name, login, role, deactivated) in USERS {
        let email = format!("{login}@{domain}.example");
        user_ids.push(
            actions::create_user(&mut acct, name, &email, role, *deactivated)
                .map_err(anyhow::Error::msg)?,
        );
    }
    let mut stages = Vec::new();
    for (id, text) in STAGES {
        let id = actions::create_stage(&mut acct, text, *id, false).map_err(anyhow::Error::msg)?;
        stages.push((id, text.to_string()));
    }
    let postings = [
        actions::create_posting(
            &mut acct,
            "Senior Backend Engineer",
            vec![demo_tag.to_string(), "Engineering".into()],
        )
        .map_err(anyhow::Error::msg)?,
        actions::create_posting(&mut acct, "Product Designer", vec!["Design".into()])
            .map_err(anyhow::Error::msg)?,
    ];
    let mut tagged = Vec::new();
    for (i, (name, posting, stage)) in CANDIDATES.iter().enumerate() {
        let login = name.to_lowercase().replace(' ', ".");
        let new = NewCandidate {
            name: name.to_string(),
            email: format!("{login}@example.com"),
            posting_id: posting.map(|p| postings[p].clone()),
            tags: Vec::new(),
            stage_id: Some(stages[*stage].0.clone()),
            owner_id: Some(user_ids[1 + i % 5].clone()),
            links: vec![format!(
                "https://www.linkedin.com/in/{}",
                login.replace('.', "-")
            )],
            sources: vec![if posting.is_some() {
                "Job site"
            } else {
                "LinkedIn"
            }
            .to_string()],
            confidential: false,
        };
        let (id, _, _) = actions::create_candidate(&mut acct, new).map_err(anyhow::Error::msg)?;
        if *posting == Some(0) {
            tagged.push(id);
        }
    }
    acct.templates.push(interview_template());
    let api_key = random_alphanumeric(40);
    acct.keys.push(ApiKey {
        key: api_key.clone(),
        label: Some("Demo (all permissions)".into()),
        permissions: None,
        revoked: false,
        confidential_access: true,
        bucket: TokenBucket::default(),
    });
    let seed = DemoSeed {
        account_id: acct.id.clone(),
        api_key,
        default_user_id: user_ids[0].clone(),
        stages,
        tagged_candidate_ids: tagged,
    };
    sim.state.lock().accounts.push(acct);
    Ok(seed)
}

/// The feedback form every Lever account starts with.
fn interview_template() -> FeedbackTemplate {
    FeedbackTemplate {
        id: new_id(),
        text: "Interview feedback".into(),
        instructions: "Share your impression of the candidate.".into(),
        group: None,
        fields: vec![
            json!({ "id": new_id(), "type": "score-system", "text": "Rating", "description": "", "required": true,
                    "options": super::api_feedback::SCORE_SYSTEM.iter().map(|t| json!({ "text": t })).collect::<Vec<_>>() }),
            json!({ "id": new_id(), "type": "textarea", "text": "Notes", "description": "", "required": false }),
        ],
        created_at: now_ms(),
    }
}
