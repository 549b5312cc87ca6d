//! `leverbridge demo` as a newcomer runs it: it comes up connected to its simulated Lever, and
//! moving a tagged candidate there puts the assessment on the candidate. Started again on its
//! database, it keeps the configuration it made, so earlier assessments keep naming it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use leverbridge::config::DatabaseUrl;
use leverbridge::db::{self, Db, DbError};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{test_database, Backend};

struct KillOnDrop(std::process::Child);

async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `leverbridge demo`: the process (stopped when dropped), its welcome text and the
/// addresses of leverbridge and of the simulated Lever it names.
struct Demo {
    _process: KillOnDrop,
    banner: String,
    app: String,
    sim: String,
}

/// Starts `leverbridge demo` with `env` set, in the working directory `dir`, and waits for its
/// welcome text.
async fn start_demo(dir: &std::path::Path, env: &[(&str, String)]) -> Demo {
    let mut command = Command::new(env!("CARGO_BIN_EXE_leverbridge"));
    command
        .arg("demo")
        .current_dir(dir)
        .env("LEVERBRIDGE_BIND", "127.0.0.1:0")
        .env_remove("LEVERBRIDGE_DATABASE_URL")
        .env_remove("LEVERBRIDGE_SECRET_KEY")
        .env_remove("LEVERBRIDGE_PUBLIC_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let process = KillOnDrop(child);
    let banner = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            text.push_str(&line);
            text.push('\n');
            if line.contains("Press Ctrl-C") {
                break;
            }
        }
        text
    })
    .await
    .unwrap();
    let find = |label: &str| -> String {
        let line = banner
            .lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("{label} in {banner}"));
        let start = line.find("http://").unwrap();
        line[start..].split_whitespace().next().unwrap().to_owned()
    };
    Demo {
        app: find("Open").trim_end_matches("/login").to_owned(),
        sim: find("Lever (simulated)")
            .trim_end_matches("/_sim")
            .to_owned(),
        banner,
        _process: process,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_comes_up_connected_and_reacts_to_a_stage_change() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/demo.db", dir.path().display());
    let demo = start_demo(dir.path(), &[("LEVERBRIDGE_DATABASE_URL", database)]).await;
    let banner = &demo.banner;
    assert!(
        banner.contains("admin@acme.test") && banner.contains("leverbridge-demo"),
        "{banner}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["demo.db", "demo.key"] {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file} is readable by its owner only");
        }
    }
    let (app, sim) = (&demo.app, &demo.sim);
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{app}/login"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(format!("{sim}/_sim"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    invite_a_tagged_candidate(&demo).await;
}

/// Moves the first candidate tagged for the demo who is not yet at the trigger stage there, as
/// a recruiter would on the simulator, and waits for the assessment's link, tag and note.
async fn invite_a_tagged_candidate(demo: &Demo) {
    let (app, sim) = (&demo.app, &demo.sim);
    let http = reqwest::Client::new();
    let accounts: Value = get_json(&http, format!("{sim}/_sim/api/accounts")).await;
    let account_id = accounts[0]["id"].as_str().unwrap().to_owned();
    let account: Value = get_json(&http, format!("{sim}/_sim/api/accounts/{account_id}")).await;
    let stage = account["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["text"] == "Phone interview")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let opportunity_url =
        |id: &str| format!("{sim}/_sim/api/accounts/{account_id}/opportunities/{id}");
    let mut candidate = None;
    for id in account["opportunities"].as_array().unwrap() {
        let held: Value = get_json(&http, opportunity_url(id.as_str().unwrap())).await;
        if held["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("leverbridge-demo"))
            && held["stage"] != stage.as_str()
        {
            candidate = Some(id.as_str().unwrap().to_owned());
            break;
        }
    }
    let candidate = candidate.expect("the demo company has a tagged candidate to move");
    let moved: Value = http
        .post(format!("{}/stage", opportunity_url(&candidate)))
        .json(&json!({"stageId": stage}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moved["deliveries"][0]["responseStatus"], 200, "{moved}");

    // The demo's own workers pick it up; wait for Lever to show it (bounded, not a timing claim).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let held: Value = get_json(&http, opportunity_url(&candidate)).await;
        let links = held["links"].as_array().unwrap();
        if links
            .iter()
            .any(|l| l.as_str().unwrap().starts_with(&format!("{app}/a/")))
            && !held["notes"].as_array().unwrap().is_empty()
        {
            assert!(held["tags"]
                .as_array()
                .unwrap()
                .contains(&json!("leverbridge: Candidate Invited")));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no assessment appeared in Lever: {held}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

both_backends!(a_restart_on_its_database_keeps_the_demo_configuration);

/// Started twice on one database (on SQLite, the `data/` directory of where it runs), the demo
/// keeps its organization, question and configuration: the same ids, no second copy, the
/// first start's assessment still naming its configuration, and the configuration firing at
/// the new simulated Lever's trigger stage.
async fn a_restart_on_its_database_keeps_the_demo_configuration(backend: Backend) {
    let fresh = test_database(&backend);
    let dir = tempfile::tempdir().unwrap();
    let (env, url) = match &backend {
        Backend::Sqlite => (
            Vec::new(),
            DatabaseUrl::Sqlite(dir.path().join("data/demo.db")),
        ),
        Backend::Postgres(_) => {
            let DatabaseUrl::Postgres(raw) = &fresh.url else {
                unreachable!("a PostgreSQL backend has a PostgreSQL URL")
            };
            let key = leverbridge::config::generate_secret_key_base64();
            (
                vec![
                    ("LEVERBRIDGE_DATABASE_URL", raw.clone()),
                    ("LEVERBRIDGE_SECRET_KEY", key),
                ],
                fresh.url.clone(),
            )
        }
    };
    let first = start_demo(dir.path(), &env).await;
    invite_a_tagged_candidate(&first).await;
    drop(first);
    let db = Db::connect(&url).unwrap();
    let (org, configurations, assessments) = kept(&db).await;
    assert_eq!(configurations.len(), 1, "{configurations:?}");
    assert_eq!(assessments.len(), 1);
    assert_eq!(assessments[0].1, configurations[0].0);

    let second = start_demo(dir.path(), &env).await;
    let (org_again, configurations_again, assessments_again) = kept(&db).await;
    assert_eq!(org_again, org, "the same organization");
    assert_eq!(
        configurations_again, configurations,
        "the same configuration and question, not a copy"
    );
    assert_eq!(assessments_again, assessments);
    // It fires at the trigger stage of the new simulated Lever.
    invite_a_tagged_candidate(&second).await;
    let (_, configurations_last, assessments_last) = kept(&db).await;
    assert_eq!(configurations_last, configurations);
    assert_eq!(assessments_last.len(), 2);
    assert!(assessments_last
        .iter()
        .all(|(_, configuration)| *configuration == configurations[0].0));
}

/// Acme's id, its configurations' `(id, question id)` and its assessments' `(id, configuration
/// id)`, as the demo's database holds them.
async fn kept(database: &Db) -> (String, Vec<(String, Option<String>)>, Vec<(String, String)>) {
    database
        .run(|conn| -> Result<_, DbError> {
            let org = db::orgs::find_by_slug(conn, "acme")?.expect("the demo organization");
            let configurations = db::configurations::list(conn, &org.id)?
                .into_iter()
                .map(|c| (c.id, c.question_id))
                .collect();
            let mut assessments: Vec<(String, String)> =
                db::assessments::page(conn, &org.id, None, None, 100)?
                    .into_iter()
                    .map(|a| (a.id, a.configuration_id))
                    .collect();
            assessments.sort();
            Ok((org.id, configurations, assessments))
        })
        .await
        .unwrap()
}
