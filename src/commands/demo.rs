//! `leverbridge demo`: the service on a local SQLite file beside a built-in Lever simulator,
//! already connected: a seeded organization and users, the simulator's demo company, the
//! webhooks (stage change, archive, hire, deletion) pointed at leverbridge with their tokens
//! saved, and a configuration. Started again on its database, it keeps what it made before
//! (`restart`).
//! Moving a tagged candidate on the simulator's page shows the link and tag there at once.

mod question;
mod restart;

use anyhow::Context;
use serde_json::json;

use crate::config::{self, DatabaseUrl, LeverHosts, Settings};
use crate::connection::oauth::CALLBACK_PATH;
use crate::connection::{connect_key, Connected, NewKey, Replacement};
use crate::crypto::{last_four, SecretKey};
use crate::db::orgs::Organization;
use crate::db::questions::{Language, Question};
use crate::db::webhooks::token_context;
use crate::db::{self, Db};
use crate::domain::org_settings::{
    Value, EMAIL_ENABLED, SMTP_FROM, SMTP_HOST, SMTP_PORT, SMTP_TLS, START_REMINDER_HOURS,
};
use crate::lever_sim::{seed_company, seed_demo, spawn_sim, DemoSeed, SimConfig, SimHandle};
use crate::mailbox::Mailbox;
use crate::startup::Application;

/// The password of every demo user (printed at start).
pub const DEMO_PASSWORD: &str = "leverbridge-demo";
pub const DEMO_ADMIN: &str = "admin@acme.test";
pub const DEMO_REVIEWER: &str = "reviewer@acme.test";
pub const DEMO_SUPPORT: &str = "support@leverbridge.test";
/// The tag the demo configuration fires on; the simulator's backend posting carries it.
pub const DEMO_TAG: &str = "leverbridge-demo";
/// The demo configuration's trigger stage.
pub const DEMO_STAGE: &str = "Phone interview";
/// The second organization (slug `globex`), left unconnected so the demo shows Add to Lever.
pub const OAUTH_COMPANY: &str = "Globex Corporation";

/// leverbridge's OAuth app as the demo registers it with the simulator's Lever.
fn demo_oauth_app() -> crate::lever::oauth::OAuthApp {
    crate::lever::oauth::OAuthApp {
        client_id: "leverbridge-demo".to_owned(),
        client_secret: "leverbridge-demo-client-secret".to_owned().into(),
    }
}

/// Starts the demo: the simulated Lever and its mailbox, leverbridge over the demo database,
/// connected as an admin would connect it, then serves until Ctrl-C.
pub async fn run() -> anyhow::Result<()> {
    let bind = config::bind_from_env()?;
    let database_url = demo_database_url()?;
    let secret_key = demo_secret_key_from_env(&database_url)?;
    let (mailbox, sim) = start_simulated_lever().await?;
    let company = seed_demo(&sim, DEMO_TAG).await?;
    // A second company in Lever for the second organization, which connects with Add to Lever.
    let second = seed_company(&sim, OAUTH_COMPANY, DEMO_TAG).await?;
    let settings = demo_settings(bind, &database_url, secret_key, &sim)?;
    let db = open_demo_database(database_url.clone()).await?;
    let app = Application::build_with_db(settings, db.clone())?;
    let org = db
        .run(|conn| db::orgs::find_by_slug(conn, "acme").map_err(db::DbError::from))
        .await?
        .context("demo organization")?;
    register_oauth_app(&sim, &app).await?;
    let globex = reset_globex(&db, &second).await?;
    carry_acme(&db, &org.id, &company).await?;
    let connected = connect_acme(&db, &app, &org.id, &company).await?;
    let tokens = point_webhooks_at_leverbridge(&db, &app, &sim, &org.id, &company).await?;
    let stage_id = demo_trigger_stage(&company)?;
    save_demo_pipeline(&db, &org.id, tokens, stage_id, mailbox.port()).await?;
    let welcome = Welcome {
        database_url: &database_url,
        sim: &sim,
        connected: &connected,
        globex: &globex,
        second: &second,
        mailbox_port: mailbox.port(),
    };
    print_welcome(&app, &welcome);
    app.run_until_stopped()
        .await
        .context("the server stopped with an error")
}

/// `LEVERBRIDGE_DATABASE_URL` when set, else a SQLite file under `data/`.
fn demo_database_url() -> anyhow::Result<DatabaseUrl> {
    Ok(match std::env::var("LEVERBRIDGE_DATABASE_URL") {
        Ok(raw) if !raw.trim().is_empty() => DatabaseUrl::parse(&raw)?,
        _ => DatabaseUrl::Sqlite("data/demo.db".into()),
    })
}

/// `LEVERBRIDGE_SECRET_KEY` when set, else the key kept beside the demo's database.
fn demo_secret_key_from_env(database_url: &DatabaseUrl) -> anyhow::Result<SecretKey> {
    Ok(match std::env::var("LEVERBRIDGE_SECRET_KEY") {
        Ok(raw) if !raw.trim().is_empty() => SecretKey::from_base64(&raw)?,
        // The demo keeps its key beside its database so secrets stay readable across restarts.
        _ => demo_secret_key(database_url)?,
    })
}

/// The demo's candidates' emails go to a real SMTP listener beside the simulator, whose
/// page lists them.
async fn start_simulated_lever() -> anyhow::Result<(Mailbox, SimHandle)> {
    let mailbox = Mailbox::start_on_loopback()
        .await
        .context("the demo's mailbox did not start")?;
    let sim = spawn_sim(SimConfig {
        retry_base: std::time::Duration::from_secs(5),
        mailbox: Some(mailbox.clone()),
        ..Default::default()
    })
    .await
    .context("the Lever simulator did not start")?;
    Ok((mailbox, sim))
}

/// The service's settings with Lever (API and OAuth) on the simulator and the demo's OAuth app.
fn demo_settings(
    bind: std::net::SocketAddr,
    database_url: &DatabaseUrl,
    secret_key: SecretKey,
    sim: &SimHandle,
) -> anyhow::Result<Settings> {
    Ok(Settings {
        bind,
        public_url: config::public_url(
            std::env::var("LEVERBRIDGE_PUBLIC_URL").ok().as_deref(),
            bind,
        )?,
        database_url: database_url.clone(),
        secret_key,
        lever: LeverHosts {
            api_url: Some(format!("{}/v1", sim.base_url())),
            auth_url: Some(sim.base_url()),
        },
        lever_app: Some(demo_oauth_app()),
        workers: crate::config::LaneWorkers::default(),
        metrics_token: config::metrics_token_from_env()?,
        tuning: Default::default(),
    })
}

/// Connects, migrates and seeds the demo's organizations and people.
async fn open_demo_database(url: DatabaseUrl) -> anyhow::Result<Db> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
        let db = Db::connect(&url)?;
        db.migrate()?;
        seed_people(&db)?;
        Ok(db)
    })
    .await?
}

/// leverbridge is registered as an OAuth app with the simulated Lever, for Add to Lever.
async fn register_oauth_app(sim: &SimHandle, app: &Application) -> anyhow::Result<()> {
    let registered = reqwest::Client::new()
        .post(format!("{}/_sim/api/oauth/apps", sim.base_url()))
        .json(&json!({
            "name": "leverbridge (demo)",
            "clientId": demo_oauth_app().client_id,
            "clientSecret": secrecy::ExposeSecret::expose_secret(&demo_oauth_app().client_secret),
            "redirectUris": [app.settings().absolute_url(CALLBACK_PATH)],
        }))
        .send()
        .await?;
    anyhow::ensure!(
        registered.status().is_success(),
        "the simulator refused the demo's OAuth app: {}",
        registered.status()
    );
    Ok(())
}

/// The simulated Lever is new on every start: Globex starts unconnected, with the demo question,
/// its configurations (if an admin made some) following their stages into the new company
/// `second`.
async fn reset_globex(db: &Db, second: &DemoSeed) -> anyhow::Result<Organization> {
    let stages = second.stages.clone();
    let globex = db
        .run(move |conn| -> Result<_, db::DbError> {
            let org =
                db::orgs::find_by_slug(conn, "globex")?.ok_or(diesel::result::Error::NotFound)?;
            db::connection::write_transaction(conn, |conn| -> Result<(), db::DbError> {
                db::webhooks::forget_managed(conn, &org.id)?;
                db::lever::delete_connection(conn, &org.id)?;
                restart::carry_configurations(conn, &org.id, &stages)?;
                save_demo_question(conn, &org.id)?;
                Ok(())
            })?;
            Ok(org)
        })
        .await?;
    Ok(globex)
}

/// Acme's configurations from an earlier start follow their stages into the new simulated
/// company, before connecting reads its stages.
async fn carry_acme(db: &Db, org_id: &str, company: &DemoSeed) -> anyhow::Result<()> {
    let (org_id, stages) = (org_id.to_owned(), company.stages.clone());
    db.run(move |conn| {
        db::connection::write_transaction(conn, |conn| {
            restart::carry_configurations(conn, &org_id, &stages)
        })
    })
    .await?;
    Ok(())
}

/// Connects Acme with the simulated company's API key as an admin would on the Connection
/// page, then chooses the default Lever user as on the Settings page; every other setting
/// keeps its default.
async fn connect_acme(
    db: &Db,
    app: &Application,
    org_id: &str,
    company: &DemoSeed,
) -> anyhow::Result<Connected> {
    let new = NewKey {
        org_id,
        environment: "production",
        api_key: &company.api_key,
        connected_by: DEMO_ADMIN,
        replacement: Replacement::KeepWorkingKey,
    };
    let connected = connect_key(db, app.lever(), new, crate::queue::table::unpark).await?;
    let (org_id, user) = (org_id.to_owned(), company.default_user_id.clone());
    db.run(move |conn| -> Result<(), db::DbError> {
        let name = db::lever::active_user(conn, &org_id, &user)?
            .map(|u| u.name)
            .unwrap_or_default();
        db::lever::set_default_user(conn, &org_id, &user, &name)?;
        Ok(())
    })
    .await?;
    Ok(connected)
}

/// A webhook's signature token as leverbridge stores it: sealed, with its last four characters.
struct SignatureToken {
    event: &'static str,
    sealed: String,
    last4: String,
}

/// Points the simulator's webhooks at leverbridge, as a Super Admin would in Lever: the stage
/// change, and the archive, hire and deletion that withdraw an assessment. Returns the
/// signature token Lever gave each, sealed.
async fn point_webhooks_at_leverbridge(
    db: &Db,
    app: &Application,
    sim: &SimHandle,
    org_id: &str,
    company: &DemoSeed,
) -> anyhow::Result<Vec<SignatureToken>> {
    let owned_org_id = org_id.to_owned();
    let endpoint = db
        .run(move |conn| db::webhooks::endpoint_key(conn, &owned_org_id).map_err(db::DbError::from))
        .await?;
    let webhook_url = app
        .settings()
        .absolute_url(&format!("/webhooks/lever/{endpoint}"));
    let mut tokens = Vec::new();
    for kind in crate::domain::WEBHOOK_EVENTS {
        let control = format!(
            "{}/_sim/api/accounts/{}/webhooks/{}",
            sim.base_url(),
            company.account_id,
            kind.name
        );
        let answer: serde_json::Value = reqwest::Client::new()
            .put(&control)
            .json(&json!({ "url": webhook_url }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = answer["signatureToken"]
            .as_str()
            .context("the simulator returned no signature token")?
            .to_owned();
        let sealed = app
            .settings()
            .secret_key
            .seal(&token_context(org_id, kind.name), &token);
        tokens.push(SignatureToken {
            event: kind.name,
            sealed,
            last4: last_four(&token),
        });
    }
    Ok(tokens)
}

/// The id of the simulated company's stage the demo configuration triggers on.
fn demo_trigger_stage(company: &DemoSeed) -> anyhow::Result<String> {
    company
        .stages
        .iter()
        .find(|(_, text)| text == DEMO_STAGE)
        .map(|(id, _)| id.clone())
        .context("the demo company has no Phone interview stage")
}

/// Saves, in one transaction, the webhooks' signature tokens, the email settings, the demo
/// question and the demo configuration (the one made on an earlier start, when there is one).
async fn save_demo_pipeline(
    db: &Db,
    org_id: &str,
    tokens: Vec<SignatureToken>,
    stage_id: String,
    mailbox_port: u16,
) -> anyhow::Result<()> {
    let org_id = org_id.to_owned();
    db.run(move |conn| -> Result<(), db::DbError> {
        db::connection::write_transaction(conn, |conn| -> Result<(), db::DbError> {
            for token in &tokens {
                db::webhooks::set_token(conn, &org_id, token.event, &token.sealed, &token.last4)?;
            }
            send_email_to(conn, &org_id, mailbox_port)?;
            let question_id = save_demo_question(conn, &org_id)?;
            restart::keep_demo_configuration(conn, &org_id, DEMO_TAG, &stage_id, &question_id)?;
            Ok(())
        })
    })
    .await?;
    Ok(())
}

/// What the welcome text names besides the running application.
struct Welcome<'a> {
    database_url: &'a DatabaseUrl,
    sim: &'a SimHandle,
    connected: &'a Connected,
    globex: &'a Organization,
    second: &'a DemoSeed,
    mailbox_port: u16,
}

/// The welcome text: where to log in and as whom, the simulated Lever, Add to Lever and the
/// mailbox.
fn print_welcome(app: &Application, welcome: &Welcome) {
    let Welcome {
        database_url,
        sim,
        connected,
        globex,
        second,
        mailbox_port,
    } = welcome;
    let url = format!("http://{}:{}", app.settings().bind.ip(), app.port());
    println!();
    println!("  leverbridge demo is running");
    println!("  ---------------------------");
    println!("  Open          {url}/login");
    println!("  Admin         {DEMO_ADMIN}");
    println!("  Reviewer      {DEMO_REVIEWER}");
    println!("  Support       {DEMO_SUPPORT}");
    println!("  Password      {DEMO_PASSWORD}   (all three)");
    println!("  Database      {}", database_url.redacted());
    println!();
    println!("  Lever (simulated)   {}/_sim", sim.base_url());
    println!(
        "    connected with {} users and {} stages; default Lever user chosen",
        connected.users, connected.stages
    );
    println!(
        "    move a candidate tagged “{DEMO_TAG}” to “{DEMO_STAGE}” there: the assessment link,"
    );
    println!("    the progress tag and a note appear on the candidate within a second.");
    println!(
        "  Add to Lever        {url}/orgs/{}/connection   ({OAUTH_COMPANY}, not connected yet):",
        globex.slug
    );
    println!(
        "    click Add to Lever and accept as “{OAUTH_COMPANY}” on the simulator's consent page;"
    );
    println!(
        "    its {} candidates tagged “{DEMO_TAG}” are there to try it on.",
        second.tagged_candidate_ids.len()
    );
    println!(
        "  Mailbox             {}/_sim/mailbox   (the candidates' emails, received on SMTP port {})",
        sim.base_url(),
        mailbox_port
    );
    println!();
    println!("  Press Ctrl-C to stop.");
}

/// The demo's take-home question, in the library (kept, and brought up to date, across starts).
/// Switches candidate emails on, sent through the demo's mailbox (plain SMTP on loopback), with
/// a reminder a day before an unstarted invitation expires; the templates keep their defaults.
fn send_email_to(
    conn: &mut db::DbConn,
    org_id: &str,
    mailbox_port: u16,
) -> Result<(), db::DbError> {
    let mut values = db::settings::values(conn, org_id)?;
    values.set(&EMAIL_ENABLED, Value::Toggle(true));
    values.set(&START_REMINDER_HOURS, Value::Number(24));
    values.set(&SMTP_HOST, Value::Text("127.0.0.1".into()));
    values.set(&SMTP_PORT, Value::Number(mailbox_port.into()));
    values.set(&SMTP_TLS, Value::Text("none".into()));
    values.set(
        &SMTP_FROM,
        Value::Text("Acme Robotics Recruiting <recruiting@acme-robotics.example>".into()),
    );
    db::settings::save(conn, org_id, &values, DEMO_ADMIN)?;
    Ok(())
}

fn save_demo_question(conn: &mut db::DbConn, org_id: &str) -> Result<String, db::DbError> {
    let now = db::now();
    let existing = db::questions::with_title(conn, org_id, question::TITLE)?;
    let saved = Question {
        id: existing.as_ref().map_or_else(db::new_id, |q| q.id.clone()),
        org_id: org_id.to_owned(),
        title: question::TITLE.into(),
        prompt: question::PROMPT.into(),
        language: Language::Python.as_str().into(),
        starter_code: question::STARTER.into(),
        created_at: existing.as_ref().map_or(now, |q| q.created_at),
        updated_at: now,
        reference_solution: question::SOLUTION.into(),
    };
    if existing.is_some() {
        db::questions::update(conn, &saved)?;
    } else {
        db::questions::insert(conn, &saved)?;
    }
    db::cases::replace_for_question(conn, &saved.id, &question::cases())?;
    Ok(saved.id)
}

fn demo_secret_key(url: &DatabaseUrl) -> anyhow::Result<SecretKey> {
    let DatabaseUrl::Sqlite(path) = url else {
        return Ok(SecretKey::generate());
    };
    let key_path = path.with_extension("key");
    if let Ok(raw) = std::fs::read_to_string(&key_path) {
        return SecretKey::from_base64(&raw);
    }
    if let Some(dir) = key_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let raw = config::generate_secret_key_base64();
    // The key unseals the database's secrets: as private as the database (0600).
    db::connection::create_owner_only(&key_path)
        .and_then(|()| std::fs::write(&key_path, &raw))
        .with_context(|| format!("could not write {}", key_path.display()))?;
    SecretKey::from_base64(&raw)
}

/// The demo organization and its people; running it again changes nothing.
fn seed_people(db: &Db) -> anyhow::Result<()> {
    let hash = crate::crypto::hash_password(DEMO_PASSWORD)?;
    let mut conn = db.get()?;
    db::connection::write_transaction(&mut conn, |conn| -> anyhow::Result<()> {
        let org = db::orgs::find_or_create(conn, "acme", "Acme Robotics")?;
        let admin = db::users::upsert(conn, DEMO_ADMIN, &hash, false)?;
        db::orgs::set_membership(conn, &admin.id, &org.id, "admin")?;
        let reviewer = db::users::upsert(conn, DEMO_REVIEWER, &hash, false)?;
        db::orgs::set_membership(conn, &reviewer.id, &org.id, "reviewer")?;
        db::users::upsert(conn, DEMO_SUPPORT, &hash, true)?;
        let globex = db::orgs::find_or_create(conn, "globex", OAUTH_COMPANY)?;
        db::orgs::set_membership(conn, &admin.id, &globex.id, "admin")?;
        Ok(())
    })
}
