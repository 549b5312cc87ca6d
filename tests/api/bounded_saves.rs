//! What one candidate link can make the server store and read: saves paced per link (429 with
//! `Retry-After`), a quota per attempt, one snapshot per slot with a cap, code made plain before
//! its size is checked, NUL refused from candidates and replaced in text from Lever, and the
//! reviewer's page reading the list of saves and one save.

use chrono::Duration;
use leverbridge::assessments::AssessmentState;
use leverbridge::config::{SaveLimits, Settings, Throttle};
use leverbridge::db::{self, DbError};
use serde_json::json;

use crate::both_backends;
use crate::candidate::{assessment, invite, page, post_json, snapshots, world_with};
use crate::helpers::{location, Backend, Browser, TestApp};
use crate::lever_world::{post, LeverAccount, TAG, TRIGGER};

both_backends!(
    a_flood_of_saves_on_one_link_is_paced_and_stays_under_the_quota,
    past_the_quota_saves_are_refused_and_the_last_accepted_save_is_handed_in,
    saves_in_one_slot_are_coalesced_and_the_snapshots_are_capped,
    line_breaks_are_made_plain_before_the_size_is_checked_on_every_path,
    code_holding_nul_is_refused_on_every_path_without_a_database_error,
    a_lever_candidate_whose_name_holds_nul_is_invited,
    the_reviewers_page_lists_the_saves_with_their_sizes_and_shows_one,
);

/// The candidate's world with save limits `limits`, and one started link.
async fn started(
    backend: Backend,
    limits: SaveLimits,
) -> (
    TestApp,
    LeverAccount,
    leverbridge::clock::Clock,
    Browser,
    String,
) {
    let (app, lever, clock) = world_with(backend, move |s: &mut Settings| {
        s.tuning.saves = limits;
    })
    .await;
    let path = invite(&app, &lever, "Ada Lovelace", &[TAG]).await;
    let candidate = app.as_new_session().await;
    let response = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(response.status(), 303);
    (app, lever, clock, candidate, path)
}

/// Bytes the attempt's snapshots hold, as the quota counts them.
async fn stored_bytes(app: &TestApp, assessment_id: &str) -> i64 {
    let id = assessment_id.to_owned();
    app.db
        .run(move |conn| db::snapshots::stored_bytes(conn, &id).map_err(DbError::from))
        .await
        .unwrap()
}

fn every_save_kept() -> SaveLimits {
    SaveLimits {
        snapshot_slot: std::time::Duration::ZERO,
        ..SaveLimits::default()
    }
}

async fn a_flood_of_saves_on_one_link_is_paced_and_stays_under_the_quota(backend: Backend) {
    // The default burst; a period long enough that the flood's own seconds earn nothing.
    let limits = SaveLimits {
        pace: Throttle {
            period: std::time::Duration::from_secs(60),
            ..SaveLimits::default().pace
        },
        ..every_save_kept()
    };
    let (burst, quota) = (limits.pace.burst as usize, limits.quota_bytes);
    let (app, _lever, clock, candidate, path) = started(backend, limits).await;
    let autosave = format!("{path}/autosave");

    // 200 saves of 100 KB at once, as a script would send them.
    let code = "x".repeat(100 * 1024);
    let sends = (0..200).map(|n| {
        let (client, url) = (candidate.client.clone(), candidate.url(&autosave));
        let body = json!({ "code": format!("{n} {code}") });
        tokio::spawn(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            let status = response.status().as_u16();
            let answer: serde_json::Value = response.json().await.unwrap();
            (status, retry_after, answer)
        })
    });
    let mut answers = Vec::new();
    for send in sends.collect::<Vec<_>>() {
        answers.push(send.await.unwrap());
    }
    let taken = answers.iter().filter(|(s, ..)| *s == 200).count();
    let paced: Vec<_> = answers.iter().filter(|(s, ..)| *s == 429).collect();
    assert_eq!(taken, burst, "the burst is taken, the rest waits");
    assert_eq!(paced.len(), 200 - burst, "every other save answered 429");
    for (_, retry_after, answer) in &paced {
        assert!(
            retry_after.is_some_and(|s| s >= 1),
            "Retry-After: {retry_after:?}"
        );
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .contains("coming too fast"),
            "{answer}"
        );
    }
    let a = assessment(&app, &path).await;
    assert_eq!(snapshots(&app, &a.id).await.len(), burst);
    let stored = stored_bytes(&app, &a.id).await;
    assert!(stored <= quota as i64, "{stored} bytes stored");

    // A period later the link may save once more, and no more.
    clock.advance(Duration::seconds(60));
    let (status, _) = post_json(&candidate, &autosave, json!({"code": "later"})).await;
    assert_eq!(status, 200);
    let (status, _) = post_json(&candidate, &autosave, json!({"code": "too soon"})).await;
    assert_eq!(status, 429);
    // The plain form's Save is paced too, with a page that says why.
    let response = candidate
        .post_raw(&format!("{path}/save"), &[("code", "form")])
        .await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert!(response.text().await.unwrap().contains("coming too fast"));
    assert_eq!(snapshots(&app, &a.id).await.len(), burst + 1);
}

async fn past_the_quota_saves_are_refused_and_the_last_accepted_save_is_handed_in(
    backend: Backend,
) {
    let limits = SaveLimits {
        quota_bytes: 50 * 1024,
        ..every_save_kept()
    };
    let (app, _lever, clock, candidate, path) = started(backend, limits).await;
    let autosave = format!("{path}/autosave");
    let twenty_kb = |c: char| c.to_string().repeat(20 * 1024);

    for c in ['a', 'b'] {
        let (status, answer) =
            post_json(&candidate, &autosave, json!({"code": twenty_kb(c)})).await;
        assert_eq!(status, 200, "{answer}");
    }
    // A third 20 KB would make 60 KB of the attempt's 50 KB: refused, on every path.
    let (status, refused) = post_json(&candidate, &autosave, json!({"code": twenty_kb('c')})).await;
    assert_eq!(status, 507, "{refused}");
    let message = refused["error"].as_str().unwrap();
    assert!(
        message.contains("limit of 50 KB of saved code")
            && message.contains("last save that was accepted stays your submission"),
        "{message}"
    );
    for action in ["save", "submit"] {
        let response = candidate
            .post_raw(&format!("{path}/{action}"), &[("code", &twenty_kb('c'))])
            .await;
        assert_eq!(response.status(), 507, "{action}");
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("limit of 50 KB of saved code"));
    }
    let a = assessment(&app, &path).await;
    assert_eq!(
        state(&a),
        AssessmentState::Started,
        "the refused submit changed nothing"
    );
    assert!(stored_bytes(&app, &a.id).await <= 50 * 1024);

    // The time runs out: the last accepted save is the submission.
    clock.advance(Duration::minutes(121));
    let (status, _) = page(&candidate, &path).await;
    assert_eq!(status, 200);
    let handed_in = assessment(&app, &path).await;
    assert_eq!(state(&handed_in), AssessmentState::Submitted);
    assert!(handed_in.time_ran_out);
    let kept = snapshots(&app, &a.id).await;
    assert_eq!(kept.len(), 2);
    assert_eq!(kept.last().unwrap().code, twenty_kb('b'));
}

fn state(a: &leverbridge::db::assessments::Assessment) -> AssessmentState {
    a.state
}

async fn saves_in_one_slot_are_coalesced_and_the_snapshots_are_capped(backend: Backend) {
    let limits = SaveLimits {
        snapshot_slot: std::time::Duration::from_secs(30),
        max_snapshots: 3,
        ..SaveLimits::default()
    };
    let (app, _lever, clock, candidate, path) = started(backend, limits).await;
    let autosave = format!("{path}/autosave");
    let a = assessment(&app, &path).await;
    let started_at = a.started_at.unwrap();

    // Three saves in the first 30 s are one snapshot: the last of them, at its time.
    for (code, after) in [("one", 0), ("two", 10), ("three", 15)] {
        clock.advance(Duration::seconds(after));
        let (status, answer) = post_json(&candidate, &autosave, json!({ "code": code })).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["snapshot"], 1, "{code}");
    }
    let kept = snapshots(&app, &a.id).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].code, "three");
    assert!(kept[0].saved_at - started_at >= Duration::seconds(25));

    // The next slots add one each, up to the cap; past it the newest is replaced.
    for (code, seq) in [("four", 2), ("five", 3), ("six", 3), ("seven", 3)] {
        clock.advance(Duration::seconds(30));
        let (status, answer) = post_json(&candidate, &autosave, json!({ "code": code })).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["snapshot"], seq, "{code}");
    }
    let kept = snapshots(&app, &a.id).await;
    let codes: Vec<&str> = kept.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["three", "four", "seven"]);
    assert_eq!(kept.iter().map(|s| s.seq).collect::<Vec<_>>(), [1, 2, 3]);
}

async fn line_breaks_are_made_plain_before_the_size_is_checked_on_every_path(backend: Backend) {
    let (app, _lever, _clock, candidate, path) = started(backend, every_save_kept()).await;
    // 22,000 short lines: 198,000 bytes with "\n" (under 200 KB), 220,000 with "\r\n".
    let plain = "xxxxxxxx\n".repeat(22_000);
    let from_a_form = plain.replace('\n', "\r\n");
    assert!(plain.len() <= 200 * 1024 && from_a_form.len() > 200 * 1024);

    let (status, answer) = post_json(
        &candidate,
        &format!("{path}/autosave"),
        json!({ "code": plain }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let response = candidate
        .post_raw(&format!("{path}/save"), &[("code", &from_a_form)])
        .await;
    assert_eq!(response.status(), 303, "Save takes what autosave took");
    assert_eq!(location(&response), path);
    let response = candidate
        .post_raw(
            &format!("{path}/submit"),
            &[("code", &from_a_form), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303, "Submit takes it too");
    let a = assessment(&app, &path).await;
    assert_eq!(state(&a), AssessmentState::Submitted);
    let kept = snapshots(&app, &a.id).await;
    assert!(
        kept.iter().all(|s| s.code == plain),
        "stored with plain breaks"
    );
}

async fn code_holding_nul_is_refused_on_every_path_without_a_database_error(backend: Backend) {
    let (app, _lever, _clock, candidate, path) = started(backend, every_save_kept()).await;
    let with_nul = "print('a')\u{0}print('b')";
    let raw_error = |body: &str| {
        [
            "0x00",
            "invalid byte sequence",
            "encoding \"UTF8\"",
            "DatabaseError",
        ]
        .iter()
        .any(|words| body.contains(words))
    };

    let (status, refused) = post_json(
        &candidate,
        &format!("{path}/autosave"),
        json!({ "code": with_nul }),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    let message = refused["error"].as_str().unwrap();
    assert!(message.contains("NUL character"), "{message}");
    assert!(!raw_error(&refused.to_string()), "{refused}");
    for action in ["save", "submit"] {
        let response = candidate
            .post_raw(&format!("{path}/{action}"), &[("code", with_nul)])
            .await;
        assert_eq!(response.status(), 422, "{action}");
        let body = response.text().await.unwrap();
        assert!(body.contains("NUL character"), "{body}");
        assert!(!raw_error(&body), "{body}");
    }
    let a = assessment(&app, &path).await;
    assert_eq!(state(&a), AssessmentState::Started);
    assert!(snapshots(&app, &a.id).await.is_empty(), "nothing stored");
}

async fn a_lever_candidate_whose_name_holds_nul_is_invited(backend: Backend) {
    let (app, lever, _clock) = world_with(backend, |_: &mut Settings| {}).await;
    // Lever holds arbitrary text; its simulator takes a name with NUL as Lever would.
    let created = post(
        &lever.http,
        &lever.control("/candidates"),
        json!({"name": "Ada\u{0}Lovelace", "email": "ada@example.com", "tags": [TAG],
               "stageId": lever.stage("New lead")}),
    )
    .await;
    let opportunity = created["id"].as_str().unwrap().to_owned();
    lever.move_to(&opportunity, TRIGGER).await;
    app.drain().await;
    let held = lever.opportunity(&opportunity).await;
    let link = held["links"][0]
        .as_str()
        .unwrap_or_else(|| panic!("the stage change went through: {held}"));
    let path = link.strip_prefix(&app.address).unwrap();
    let a = assessment(&app, path).await;
    assert_eq!(a.candidate_name, "Ada\u{FFFD}Lovelace");
    let (status, start) = page(&app.as_new_session().await, path).await;
    assert_eq!(status, 200);
    assert!(start.contains("Ada\u{FFFD}Lovelace"), "{start}");
}

async fn the_reviewers_page_lists_the_saves_with_their_sizes_and_shows_one(backend: Backend) {
    let (app, _lever, _clock, candidate, path) = started(backend, every_save_kept()).await;
    let autosave = format!("{path}/autosave");
    let big = format!("big_save_marker = '{}'\n", "x".repeat(150 * 1024));
    for code in [
        "first_save_marker()",
        big.as_str(),
        "third_save_marker()\nagain()",
    ] {
        let (status, _) = post_json(&candidate, &autosave, json!({ "code": code })).await;
        assert_eq!(status, 200);
    }
    let a = assessment(&app, &path).await;
    let detail = format!("/orgs/acme/assessments/{}", a.id);

    let second = app.get_html(&format!("{detail}?snapshot=2")).await;
    for shown in [
        "Saved snapshot 1 (1 lines), 19 bytes",
        "Saved snapshot 2 (1 lines), 150.0 KB",
        "Saved snapshot 3 (2 lines), 27 bytes",
        "Snapshot 2 of 3",
        "big_save_marker",
    ] {
        assert!(second.contains(shown), "{shown}");
    }
    assert!(!second.contains("first_save_marker") && !second.contains("third_save_marker"));
    let last = app.get_html(&detail).await;
    assert!(last.contains("Snapshot 3 of 3") && last.contains("third_save_marker"));
    assert!(!last.contains("big_save_marker"));
    let response = app.get(&format!("{detail}?snapshot=4")).await;
    assert_eq!(response.status(), 400);
}
