//! `leverbridge demo`: the service on a local SQLite file with a seeded organization and users,
//! ready to click through.

use anyhow::Context;

use crate::config::{self, DatabaseUrl, Settings};
use crate::crypto::SecretKey;
use crate::db::{self, Db};
use crate::startup::Application;

/// The password of every demo user (printed at start).
pub const DEMO_PASSWORD: &str = "leverbridge-demo";
pub const DEMO_ADMIN: &str = "admin@acme.test";
pub const DEMO_REVIEWER: &str = "reviewer@acme.test";
pub const DEMO_SUPPORT: &str = "support@leverbridge.test";

pub async fn run() -> anyhow::Result<()> {
    let bind = config::bind_from_env()?;
    let database_url = match std::env::var("LEVERBRIDGE_DATABASE_URL") {
        Ok(raw) if !raw.trim().is_empty() => DatabaseUrl::parse(&raw)?,
        _ => DatabaseUrl::Sqlite("data/demo.db".into()),
    };
    let secret_key = match std::env::var("LEVERBRIDGE_SECRET_KEY") {
        Ok(raw) if !raw.trim().is_empty() => SecretKey::from_base64(&raw)?,
        // The demo keeps its key beside its database so secrets stay readable across restarts.
        _ => demo_secret_key(&database_url)?,
    };
    let settings = Settings {
        bind,
        public_url: config::public_url(
            std::env::var("LEVERBRIDGE_PUBLIC_URL").ok().as_deref(),
            bind,
        )?,
        database_url: database_url.clone(),
        secret_key,
        lever: Default::default(),
        workers: 2,
        tuning: Default::default(),
    };
    let db = {
        let url = database_url.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
            let db = Db::connect(&url)?;
            db.migrate()?;
            seed(&db)?;
            Ok(db)
        })
        .await??
    };
    let app = Application::build_with_db(settings.clone(), db)?;
    let url = format!("http://{}:{}", settings.bind.ip(), app.port());
    println!();
    println!("  leverbridge demo is running");
    println!("  ---------------------------");
    println!("  Open        {url}/login");
    println!("  Admin       {DEMO_ADMIN}");
    println!("  Reviewer    {DEMO_REVIEWER}");
    println!("  Support     {DEMO_SUPPORT}");
    println!("  Password    {DEMO_PASSWORD}   (all three)");
    println!("  Database    {}", database_url.redacted());
    println!();
    println!("  Press Ctrl-C to stop.");
    app.run_until_stopped()
        .await
        .context("the server stopped with an error")
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
    std::fs::write(&key_path, &raw)
        .with_context(|| format!("could not write {}", key_path.display()))?;
    SecretKey::from_base64(&raw)
}

/// The demo organization and its people; running it again changes nothing.
fn seed(db: &Db) -> anyhow::Result<()> {
    let hash = crate::crypto::hash_password(DEMO_PASSWORD)?;
    let mut conn = db.get()?;
    db::connection::write_transaction(&mut conn, |conn| -> anyhow::Result<()> {
        let org = db::orgs::find_or_create(conn, "acme", "Acme Robotics")?;
        let admin = db::users::upsert(conn, DEMO_ADMIN, &hash, false)?;
        db::orgs::set_membership(conn, &admin.id, &org.id, "admin")?;
        let reviewer = db::users::upsert(conn, DEMO_REVIEWER, &hash, false)?;
        db::orgs::set_membership(conn, &reviewer.id, &org.id, "reviewer")?;
        db::users::upsert(conn, DEMO_SUPPORT, &hash, true)?;
        Ok(())
    })
}
