//! `leverbridge demo` as a newcomer runs it: it comes up connected to its simulated Lever, and
//! moving a tagged candidate there puts the assessment on the candidate.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_comes_up_connected_and_reacts_to_a_stage_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_leverbridge"))
        .arg("demo")
        .env("LEVERBRIDGE_BIND", "127.0.0.1:0")
        .env(
            "LEVERBRIDGE_DATABASE_URL",
            format!("sqlite://{}/demo.db", dir.path().display()),
        )
        .env_remove("LEVERBRIDGE_SECRET_KEY")
        .env_remove("LEVERBRIDGE_PUBLIC_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = KillOnDrop(child);
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
    assert!(
        banner.contains("admin@acme.test") && banner.contains("leverbridge-demo"),
        "{banner}"
    );
    let find = |label: &str| -> String {
        let line = banner
            .lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("{label} in {banner}"));
        let start = line.find("http://").unwrap();
        line[start..].split_whitespace().next().unwrap().to_owned()
    };
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
    let app = find("Open").trim_end_matches("/login").to_owned();
    let sim = find("Lever (simulated)")
        .trim_end_matches("/_sim")
        .to_owned();
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

    // Move the first tagged candidate who is not yet at the trigger stage.
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
