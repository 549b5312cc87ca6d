//! The bench's fixtures: the server's settings, and the organization that receives the
//! deliveries (a fresh database per backend comes from `tests/support/database.rs`).

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use leverbridge::config::{DatabaseUrl, LeverHosts, Settings, Tuning};
use leverbridge::crypto::{random_token, SecretKey};
use leverbridge::db::schema::{jobs, webhook_events};
use leverbridge::db::webhooks::token_context;
use leverbridge::db::{self, Db};

use crate::database::Backend;
use crate::EVENT;

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }
}

pub fn bench_settings(url: DatabaseUrl) -> Settings {
    Settings {
        bind: "127.0.0.1:0".parse().expect("a socket address"),
        database_url: url,
        public_url: url::Url::parse("http://127.0.0.1:0").expect("a URL"),
        secret_key: SecretKey::generate(),
        lever: LeverHosts::default(),
        lever_app: None,
        workers: leverbridge::config::LaneWorkers::default(),
        metrics_token: None,
        tuning: Tuning::default(),
    }
}

/// The organization deliveries go to: its endpoint key and its stage-change signature token.
pub struct Receiver {
    pub org_id: String,
    pub endpoint_key: String,
    pub signature_token: String,
}

pub fn set_up_receiver(db: &Db, secret: &SecretKey) -> anyhow::Result<Receiver> {
    let mut conn = db.get()?;
    let org = db::orgs::find_or_create(&mut conn, "bench", "Bench")?;
    let endpoint_key = db::webhooks::rotate_endpoint_key(&mut conn, &org.id)?;
    let signature_token = random_token(32);
    let sealed = secret.seal(&token_context(&org.id, EVENT), &signature_token);
    let last4 = &signature_token[signature_token.len() - 4..];
    db::webhooks::set_token(&mut conn, &org.id, EVENT, &sealed, last4)?;
    Ok(Receiver {
        org_id: org.id,
        endpoint_key,
        signature_token,
    })
}

/// (webhook events, jobs) stored for the organization.
pub fn stored_counts(db: &Db, org_id: &str) -> anyhow::Result<(i64, i64)> {
    let mut conn = db.get()?;
    let events = webhook_events::table
        .filter(webhook_events::org_id.eq(org_id))
        .count()
        .get_result::<i64>(&mut *conn)?;
    let jobs = jobs::table
        .filter(jobs::org_id.eq(org_id))
        .count()
        .get_result::<i64>(&mut *conn)?;
    Ok((events, jobs))
}
