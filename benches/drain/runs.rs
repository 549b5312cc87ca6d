//! The two ways the drain runs: the app in this process on SQLite, as `serve` runs it; and two
//! `leverbridge serve` processes sharing one PostgreSQL database. Each run has its own
//! simulator, database and organizations.

use std::time::Duration;

use anyhow::Context;
use leverbridge::config::{self, DatabaseUrl, LeverHosts, Settings, Tuning};
use leverbridge::connection::LeverAccess;
use leverbridge::crypto::SecretKey;
use leverbridge::db::Db;
use leverbridge::startup::Application;

use crate::database::{Backend, FreshDatabase};
use crate::lever::{Account, Lever};
use crate::measure::{self, Drain};
use crate::replica::{free_port, Replica};
use crate::{org, Plan};

/// Job workers per process: `serve`'s default (`LEVERBRIDGE_WORKERS` unset).
const SERVE_WORKERS: usize = 2;
/// After setting up, long enough for every bucket (Lever's per key, leverbridge's per
/// organization) to be full again after the connection tests.
const REFILL: Duration = Duration::from_millis(2500);

/// Creates `orgs` accounts of `candidates` tagged candidates each and connects an organization
/// to each; webhooks go to `public_base`.
async fn set_up(
    lever: &Lever,
    database: &Db,
    access: &LeverAccess,
    secret: &SecretKey,
    public_base: &str,
    orgs: usize,
    candidates: usize,
) -> anyhow::Result<Vec<Account>> {
    let mut accounts = Vec::with_capacity(orgs);
    for i in 1..=orgs {
        let account = lever
            .account(&format!("Bench Company {i}"), candidates)
            .await?;
        let slug = format!("bench-{i}");
        org::connect(
            database,
            access,
            secret,
            lever,
            &account,
            &slug,
            public_base,
        )
        .await?;
        accounts.push(account);
    }
    Ok(accounts)
}

/// Warns when the opportunities themselves disagree with the request log about the links.
async fn check_links(lever: &Lever, accounts: &[Account], drain: &Drain) -> anyhow::Result<()> {
    let unlinked = measure::unlinked(lever, accounts).await?;
    let held = drain.invitations - unlinked;
    if held != drain.linked {
        eprintln!(
            "warning: {held} opportunities hold a link but the request log shows {} added",
            drain.linked
        );
    }
    Ok(())
}

/// The app in this process on a fresh SQLite file, with `serve`'s job workers and production's
/// tuning (Lever's pace included).
pub async fn sqlite(orgs: usize, plan: &Plan) -> anyhow::Result<Drain> {
    let lever = Lever::start().await?;
    let database = FreshDatabase::new(&Backend::Sqlite, "lb_drain")?;
    let settings = Settings {
        bind: "127.0.0.1:0".parse().expect("a socket address"),
        database_url: database.url.clone(),
        public_url: url::Url::parse("http://127.0.0.1:0").expect("a URL"),
        secret_key: SecretKey::generate(),
        lever: LeverHosts {
            api_url: Some(format!("{}/v1", lever.sim.base_url())),
            auth_url: None,
        },
        lever_app: None,
        metrics_token: None,
        workers: leverbridge::config::LaneWorkers {
            lever: SERVE_WORKERS,
            ..Default::default()
        },
        tuning: Tuning::default(),
    };
    let app = Application::build(settings)
        .await
        .context("Failed to build the application")?;
    let (db, access) = (app.db().clone(), app.lever().clone());
    let secret = app.settings().secret_key.clone();
    let public_base = app.settings().public_url.to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let accounts = set_up(
        &lever,
        &db,
        &access,
        &secret,
        &public_base,
        orgs,
        plan.candidates,
    )
    .await?;
    tokio::time::sleep(REFILL).await;
    let drain = measure::drain(&lever, &accounts, plan.deadline).await?;
    check_links(&lever, &accounts, &drain).await?;

    let _ = stop.send(());
    running.await??;
    lever.sim.stop().await;
    drop(db);
    drop(database);
    Ok(drain)
}

/// Two `serve` processes on one fresh PostgreSQL database with the same secret key; Lever's
/// webhooks reach the first, and both run jobs.
pub async fn postgres(admin_url: &str, orgs: usize, plan: &Plan) -> anyhow::Result<Drain> {
    let lever = Lever::start().await?;
    let database = FreshDatabase::new(&Backend::Postgres(admin_url.to_owned()), "lb_drain")?;
    let DatabaseUrl::Postgres(database_url) = database.url.clone() else {
        unreachable!("a PostgreSQL database")
    };
    let key = config::generate_secret_key_base64();
    let secret = SecretKey::from_base64(&key)?;
    let db = org::migrated(&database.url).await?;
    let api_url = format!("{}/v1", lever.sim.base_url());
    let access = org::access(&api_url, &secret);
    let first = free_port()?;
    let second = loop {
        let port = free_port()?;
        if port != first {
            break port;
        }
    };
    let public_base = format!("http://127.0.0.1:{first}");
    let accounts = set_up(
        &lever,
        &db,
        &access,
        &secret,
        &public_base,
        orgs,
        plan.candidates,
    )
    .await?;

    let http = reqwest::Client::new();
    let mut replicas = Vec::new();
    for port in [first, second] {
        let mut replica = Replica::start(port, &database_url, &key, &api_url)?;
        replica.wait_ready(&http).await?;
        replicas.push(replica);
    }
    tokio::time::sleep(REFILL).await;
    let drain = measure::drain(&lever, &accounts, plan.deadline).await;
    if drain.as_ref().map_or(true, |d| d.links.is_none()) {
        for (i, replica) in replicas.iter().enumerate() {
            eprintln!(
                "serve #{} log, last lines:\n{}",
                i + 1,
                replica.log_tail(15)
            );
        }
    }
    let drain = drain?;
    check_links(&lever, &accounts, &drain).await?;

    for replica in replicas {
        replica.stop().await;
    }
    lever.sim.stop().await;
    drop(db);
    drop(database);
    Ok(drain)
}
