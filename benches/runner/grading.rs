//! Grading end to end: a candidate submits a solution to a 10-case Python question, and the
//! time runs until its grade is stored. The submission (which queues the grade job in the same
//! transaction), the grading lane's claim of the job, the compile-and-run of every case in the
//! sandbox, and the transaction that stores the results and queues the write-back: everything
//! but Lever, on a fresh SQLite database in a temporary directory.

use std::time::{Duration, Instant};

use anyhow::Context;
use leverbridge::assessments::{attempt, create};
use leverbridge::config::{DatabaseUrl, LeverHosts, SaveLimits, Settings, Tuning};
use leverbridge::connection::LeverAccess;
use leverbridge::crypto::SecretKey;
use leverbridge::db::cases::TestCase;
use leverbridge::db::configurations::Configuration;
use leverbridge::db::questions::{Language, Question};
use leverbridge::db::{self, Db};
use leverbridge::domain::{AssessmentState, Lane, QuestionSource, TriggerStyle};
use leverbridge::queue::{Jobs, Next};

const CASES: usize = 10;
/// The target: submit to stored result.
pub const TARGET: Duration = Duration::from_secs(2);

const SOLUTION: &str = "import sys\nnumbers = [int(x) for x in sys.stdin.read().split()]\nprint(sum(numbers), max(numbers))\n";

/// Each round's time from *Submit* to the stored grade.
pub async fn measure(rounds: usize) -> anyhow::Result<Vec<Duration>> {
    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl::Sqlite(dir.path().join("bench.db"));
    let db = Db::connect(&url)?;
    db.migrate()?;
    let settings = settings(url);
    let lever = LeverAccess::new(
        LeverHosts::default(),
        settings.tuning.clone(),
        settings.secret_key.clone(),
    );
    let jobs = Jobs::new(db.clone(), settings, lever, leverbridge::jobs::registry());
    let configuration = db.run(seed).await?;
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let token = db
            .run({
                let configuration = configuration.clone();
                move |conn| started(conn, &configuration, round)
            })
            .await?;
        let began = Instant::now();
        let id = db
            .run(move |conn| -> anyhow::Result<String> {
                let now = db::now();
                let submitted =
                    attempt::submit(conn, &token, SOLUTION, now, &SaveLimits::default())?;
                Ok(submitted.id)
            })
            .await?;
        match jobs.run_next_in(&[Lane::Grading], "bench", false).await? {
            Next::Ran => {}
            other => anyhow::bail!("the grade job did not run: {other:?}"),
        }
        times.push(began.elapsed());
        let state = db
            .run(move |conn| -> anyhow::Result<AssessmentState> {
                Ok(db::assessments::by_id(conn, &id)?.context("kept")?.0.state)
            })
            .await?;
        anyhow::ensure!(
            state == AssessmentState::Passed,
            "round {round}: graded {state}, not passed"
        );
    }
    Ok(times)
}

fn settings(url: DatabaseUrl) -> Settings {
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

/// An organization whose take-home configuration asks a question with [`CASES`] cases.
fn seed(conn: &mut db::DbConn) -> anyhow::Result<Configuration> {
    let org = db::orgs::find_or_create(conn, "bench", "Bench")?;
    let now = db::now();
    let question = Question {
        id: db::new_id(),
        org_id: org.id.clone(),
        title: "Sum and maximum".into(),
        prompt: "Print the sum and the largest of the numbers on stdin.".into(),
        language: Language::Python.as_str().into(),
        starter_code: String::new(),
        created_at: now,
        updated_at: now,
        reference_solution: SOLUTION.into(),
    };
    db::questions::insert(conn, &question)?;
    let cases: Vec<TestCase> = (1..=CASES as i32)
        .map(|n| {
            let numbers: Vec<i32> = (1..=n * 10).collect();
            let input = numbers
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            TestCase {
                position: n,
                input,
                expected: format!("{} {}\n", numbers.iter().sum::<i32>(), n * 10),
                weight: 1,
                hidden: n > 3,
                time_limit_ms: None,
            }
        })
        .collect();
    db::cases::replace_for_question(conn, &question.id, &cases)?;
    let configuration = Configuration {
        id: db::new_id(),
        org_id: org.id,
        trigger_stage_id: Some("stage".into()),
        pad_kind: "take_home".into(),
        question_id: Some(question.id),
        tag_name: Some("bench".into()),
        created_at: now,
        updated_at: now,
        trigger_style: TriggerStyle::Tag.as_str().into(),
        stage_prefix: None,
        question_source: QuestionSource::Library.as_str().into(),
        question_tag_prefix: None,
    };
    db::configurations::insert(conn, &configuration)?;
    Ok(configuration)
}

/// A new candidate's assessment, started; its link's token.
fn started(
    conn: &mut db::DbConn,
    configuration: &Configuration,
    round: usize,
) -> anyhow::Result<String> {
    let settings = db::settings::for_org(conn, &configuration.org_id)?;
    let opportunity = format!("opportunity-{round}");
    let who = create::For {
        opportunity_id: &opportunity,
        candidate_name: "Bench Candidate",
        event_id: "bench",
        question_id: configuration.question_id.as_deref(),
    };
    let (assessment, _) = create::create_once(conn, configuration, who, &settings, db::now())?;
    attempt::start(conn, &assessment.token, db::now())?;
    Ok(assessment.token)
}
