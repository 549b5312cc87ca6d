//! An organization connected to its simulated Lever account the way `leverbridge demo` connects
//! its own (`src/commands/demo.rs`): the key tested and saved with `connect_key`, the default
//! Lever user chosen, the webhooks pointed at leverbridge with their tokens stored sealed, and a
//! take-home configuration on the trigger stage asking a library question. The demo's question
//! helper is private to it, so the question is saved here.

use anyhow::Context;
use leverbridge::connection::{connect_key, LeverAccess, NewKey, Replacement};
use leverbridge::crypto::{last_four, SecretKey};
use leverbridge::db::configurations::Configuration;
use leverbridge::db::questions::{Language, Question};
use leverbridge::db::webhooks::token_context;
use leverbridge::db::{self, Db};
use leverbridge::domain::{QuestionSource, TriggerStyle, WEBHOOK_EVENTS};

use crate::lever::{Account, Lever, TAG};

const ADMIN: &str = "bench-admin@leverbridge.test";

/// A pool on `url`, migrated, as `serve` opens it.
#[allow(dead_code)]
pub async fn migrated(url: &leverbridge::config::DatabaseUrl) -> anyhow::Result<Db> {
    let url = url.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
        let db = Db::connect(&url)?;
        db.migrate()?;
        Ok(db)
    })
    .await?
}

/// Lever access as a replica reaching `api_url` with production's tuning has it.
#[allow(dead_code)]
pub fn access(api_url: &str, secret: &SecretKey) -> LeverAccess {
    LeverAccess::new(
        leverbridge::config::LeverHosts {
            api_url: Some(api_url.to_owned()),
            auth_url: None,
        },
        leverbridge::config::Tuning::default(),
        secret.clone(),
    )
}

/// Connects organization `slug` to `account`; Lever's webhooks go to `public_base` (the
/// leverbridge process that receives them).
pub async fn connect(
    database: &Db,
    access: &LeverAccess,
    secret: &SecretKey,
    lever: &Lever,
    account: &Account,
    slug: &str,
    public_base: &str,
) -> anyhow::Result<()> {
    let slug_owned = slug.to_owned();
    let org = database
        .run(move |conn| -> anyhow::Result<_> {
            Ok(db::orgs::find_or_create(conn, &slug_owned, &slug_owned)?)
        })
        .await?;
    let new = NewKey {
        org_id: &org.id,
        environment: "production",
        api_key: &account.api_key,
        connected_by: ADMIN,
        replacement: Replacement::KeepWorkingKey,
    };
    connect_key(database, access, new, leverbridge::queue::table::unpark)
        .await
        .with_context(|| format!("{slug}: the connection test failed"))?;

    let (org_id, user) = (org.id.clone(), account.default_user_id.clone());
    let endpoint = database
        .run(move |conn| -> anyhow::Result<String> {
            let name = db::lever::active_user(conn, &org_id, &user)?
                .map(|u| u.name)
                .unwrap_or_default();
            db::lever::set_default_user(conn, &org_id, &user, &name)?;
            Ok(db::webhooks::endpoint_key(conn, &org_id)?)
        })
        .await?;

    let webhook_url = format!(
        "{}/webhooks/lever/{endpoint}",
        public_base.trim_end_matches('/')
    );
    let mut tokens = Vec::new();
    for kind in WEBHOOK_EVENTS {
        let token = lever
            .set_webhook(&account.id, kind.name, &webhook_url)
            .await?;
        let sealed = secret.seal(&token_context(&org.id, kind.name), &token);
        tokens.push((kind.name, sealed, last_four(&token)));
    }

    let (org_id, stage_id) = (org.id.clone(), account.trigger_stage_id.clone());
    database
        .run(move |conn| -> anyhow::Result<()> {
            db::connection::write_transaction(conn, |conn| -> anyhow::Result<()> {
                for (event, sealed, last4) in &tokens {
                    db::webhooks::set_token(conn, &org_id, event, sealed, last4)?;
                }
                let now = db::now();
                let question = Question {
                    id: db::new_id(),
                    org_id: org_id.clone(),
                    title: "Rate limiter".into(),
                    prompt: "Implement a token bucket: 10 requests per second, bursts of 20."
                        .into(),
                    language: Language::Python.as_str().into(),
                    starter_code: String::new(),
                    created_at: now,
                    updated_at: now,
                    reference_solution: String::new(),
                };
                db::questions::insert(conn, &question)?;
                db::configurations::insert(
                    conn,
                    &Configuration {
                        id: db::new_id(),
                        org_id: org_id.clone(),
                        trigger_stage_id: Some(stage_id),
                        pad_kind: "take_home".into(),
                        question_id: Some(question.id),
                        tag_name: Some(TAG.into()),
                        created_at: now,
                        updated_at: now,
                        trigger_style: TriggerStyle::Tag.as_str().into(),
                        stage_prefix: None,
                        question_source: QuestionSource::Library.as_str().into(),
                        question_tag_prefix: None,
                    },
                )?;
                Ok(())
            })
        })
        .await
}
