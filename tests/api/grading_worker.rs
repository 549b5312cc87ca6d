//! Grading in its own process: `leverbridge worker --lanes grading` against PostgreSQL grades a
//! submission, and one killed (SIGKILL) in the middle of a grading run loses nothing and leaves
//! nothing behind: once its lease runs out the job runs again elsewhere, and the result is
//! stored once.

use leverbridge::assessments::AssessmentState;
use leverbridge::db::cases::TestCase;
use leverbridge::db::{self, DbError};

use crate::both_backends;
use crate::grading::{give_cases, sum_cases, SUM};
use crate::helpers::{skip_unless_ci, Backend, TestApp};
use crate::lanes::{worker_command, Worker};
use crate::lever_view::tags;
use crate::lever_world::{connected_with, LeverAccount};
use crate::scoring::{assessment, invite, take_the_test, PASSED};

both_backends!(a_grading_worker_process_grades_and_one_killed_mid_run_loses_nothing);

/// Right, and slow: a second per case, so a run can be caught in the middle.
const SLOW_SUM: &str =
    "import sys, time\ntime.sleep(1)\nprint(sum(int(x) for x in sys.stdin.read().split()))\n";

async fn stored(app: &TestApp, id: &str) -> (AssessmentState, usize, usize) {
    let id = id.to_owned();
    app.db
        .run(move |conn| -> Result<_, DbError> {
            use diesel::prelude::*;
            use leverbridge::db::schema::jobs;
            let (a, _) = db::assessments::by_id(conn, &id)?.expect("the assessment");
            let results = db::cases::results_for(conn, &id)?.len();
            let payloads: Vec<String> = jobs::table
                .filter(jobs::kind.eq("progress_write_back"))
                .select(jobs::payload)
                .load(conn)?;
            Ok((
                a.state,
                results,
                payloads.iter().filter(|p| p.contains(&id)).count(),
            ))
        })
        .await
        .unwrap()
}

async fn grade_job_state(app: &TestApp, id: &str) -> Option<String> {
    let id = id.to_owned();
    app.db
        .run(move |conn| -> Result<_, DbError> {
            use diesel::prelude::*;
            use leverbridge::db::schema::jobs;
            let rows: Vec<(String, String)> = jobs::table
                .filter(jobs::kind.eq("grade"))
                .select((jobs::payload, jobs::state))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .find(|(p, _)| p.contains(&id))
                .map(|(_, s)| s))
        })
        .await
        .unwrap()
}

/// The worker's first sandbox uid: its own, as two processes on one host need (README), apart
/// from this test process's slots (whose warm sandboxes stay between runs) and from the other
/// backend's worker.
fn worker_uid(backend: &Backend) -> u32 {
    match backend {
        Backend::Sqlite => 61100,
        Backend::Postgres(_) => 61200,
    }
}

/// The worker process, with its own sandbox uids.
fn grading_worker(app: &TestApp, key: &str, lever: &LeverAccount, uid: u32) -> Worker {
    let mut command = worker_command(app, key, lever, "grading");
    command.env("LEVERBRIDGE_SANDBOX_UID", uid.to_string());
    Worker::start(command)
}

/// Processes of the worker's sandbox slots still running (a zombie has ended: it only waits to
/// be reaped by its parent, here the test process, the subreaper of what its workers started).
fn slot_processes(first_uid: u32) -> Vec<String> {
    let tuning = leverbridge::config::SandboxTuning::default();
    let uids: Vec<String> = (0..tuning.slots as u32)
        .map(|n| (first_uid + n).to_string())
        .collect();
    let mut left = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !crate::processes::descends_from_us(&pid) {
            // Another test binary running at once uses the same uids for its own slots.
            continue;
        }
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        if status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'))
        {
            continue;
        }
        if let Some(line) = status.lines().find(|l| l.starts_with("Uid:")) {
            if line
                .split_whitespace()
                .nth(1)
                .is_some_and(|uid| uids.iter().any(|u| u == uid))
            {
                left.push(status.lines().next().unwrap_or_default().to_owned());
            }
        }
    }
    left
}

async fn a_grading_worker_process_grades_and_one_killed_mid_run_loses_nothing(backend: Backend) {
    let uid = worker_uid(&backend);
    let key = leverbridge::config::generate_secret_key_base64();
    let secret = leverbridge::crypto::SecretKey::from_base64(&key).unwrap();
    let (app, lever) = connected_with(backend, |s| {
        s.secret_key = secret;
        s.tuning.clock = leverbridge::clock::Clock::adjustable();
    })
    .await;
    if let leverbridge::config::DatabaseUrl::Sqlite(_) = &app.settings.database_url {
        // A SQLite database belongs to one process: `worker` refuses it (tests/api/lanes.rs).
        return;
    }
    if let Some(why) = app.jobs.sandbox.unavailable() {
        skip_unless_ci(&format!("grading in a worker process: {why}"));
        return;
    }
    give_cases(&app, sum_cases()).await;

    // A worker process running only the grading lane grades Grace's submission.
    let (_, grace) = invite(&app, &lever, "Grace Hopper").await;
    take_the_test(&app, &grace, &[SUM]).await;
    let (submitted, _) = assessment(&app, &grace).await;
    let mut worker = grading_worker(&app, &key, &lever, uid);
    let mut graded = false;
    for _ in 0..600 {
        if stored(&app, &submitted.id).await.0 == AssessmentState::Passed {
            graded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(graded, "the grading worker graded it: {}", worker.log());
    assert_eq!(
        stored(&app, &submitted.id).await,
        (AssessmentState::Passed, 3, 3)
    );
    worker.stop();
    // Grace's write-back, queued by the worker's grade, goes to Lever here.
    app.drain().await;

    // Alan's slow submission: the worker is killed in the middle of grading it.
    let slow: Vec<TestCase> = sum_cases();
    give_cases(&app, slow).await;
    let (opportunity, alan) = invite(&app, &lever, "Alan Turing").await;
    take_the_test(&app, &alan, &[SLOW_SUM]).await;
    let (slow_one, _) = assessment(&app, &alan).await;
    let mut worker = grading_worker(&app, &key, &lever, uid);
    let mut running = false;
    for _ in 0..600 {
        if grade_job_state(&app, &slow_one.id).await.as_deref() == Some("running") {
            running = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(running, "the worker took the job: {}", worker.log());
    // Inside the first case's second of sleep: a program of the slot is running now.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    worker.child.kill().unwrap();
    worker.child.wait().unwrap();
    assert_eq!(
        stored(&app, &slow_one.id).await,
        (AssessmentState::Submitted, 0, 2),
        "nothing of the interrupted run was stored"
    );
    // Its sandboxed program died with it.
    let mut left = slot_processes(uid);
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        left = slot_processes(uid);
    }
    assert!(left.is_empty(), "left behind: {left:?}");

    // Once its lease has run out, the job runs again here, and the result is stored once.
    app.settings
        .tuning
        .clock
        .advance(chrono::Duration::seconds(61));
    app.drain().await;
    assert_eq!(
        stored(&app, &slow_one.id).await,
        (AssessmentState::Passed, 3, 3)
    );
    assert!(tags(&lever.opportunity(&opportunity).await).contains(&PASSED.to_owned()));
}
