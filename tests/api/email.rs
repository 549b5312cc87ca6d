//! Candidate emails: the invitation and both reminders, sent over real SMTP to the mailbox
//! (`leverbridge::mailbox`, a real server on loopback), and what Lever (the simulator) and
//! leverbridge's pages say about them. Time moves on an adjustable clock. The mail server may
//! require TLS (STARTTLS, or from the first byte, with a certificate made for the test) and a
//! sign-in, as a provider's relay does.

use chrono::Duration;
use leverbridge::clock::Clock;
use leverbridge::mailbox::{
    Account, Mailbox, Mechanism, ReceivedMail, Security, SignIn, Tls, TlsMode,
};
use leverbridge::smtp::ExtraRoots;
use leverbridge::startup::Application;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{location, Backend, TestApp};
use crate::lever_view::tags;
use crate::lever_world::{connected_with, post, save_settings, LeverAccount, TAG, TRIGGER};
use crate::triggers::{add_recruiters_choice, choose_first_question, waiting_for_a_choice};

both_backends!(
    an_invitation_is_emailed_and_recorded,
    a_candidate_without_an_email_address_gets_none_and_lever_says_so,
    an_unknown_placeholder_is_refused_by_name_and_changes_nothing,
    both_reminders_are_sent_once_and_not_again_after_a_restart,
    a_mail_server_that_cannot_be_reached_is_retried_and_a_refused_address_is_not,
    a_candidate_moved_back_before_starting_is_emailed_again_once,
    an_invitation_goes_over_starttls_signed_in_with_plain,
    an_invitation_goes_over_implicit_tls_signed_in_with_login,
    a_mail_server_whose_certificate_is_not_trusted_gets_nothing,
    wrong_credentials_fail_the_email_clearly_and_nothing_is_marked_sent,
    choosing_the_question_emails_the_candidate_their_link,
    a_test_email_goes_to_the_admin_through_the_saved_server_or_says_why_not,
);

struct World {
    app: TestApp,
    lever: LeverAccount,
    clock: Clock,
    mailbox: Mailbox,
}

/// leverbridge connected to Lever, sending candidate emails through a plain mailbox on
/// loopback, with the Settings form's defaults changed by `changes`.
async fn world(backend: Backend, changes: &[(&str, &str)]) -> World {
    world_behind(backend, Security::default(), changes).await
}

/// `world`, its mailbox requiring what `security` says. leverbridge trusts the mailbox's
/// certificate (the tests' own root, `Tuning::smtp_extra_roots`) and Settings names its TLS.
async fn world_behind(backend: Backend, security: Security, changes: &[(&str, &str)]) -> World {
    let roots = match &security.tls {
        Some(tls) => ExtraRoots::default().with(tls.certificate.clone()),
        None => ExtraRoots::default(),
    };
    world_trusting(backend, security, roots, changes).await
}

/// `world_behind`, leverbridge trusting `roots` besides the public ones.
async fn world_trusting(
    backend: Backend,
    security: Security,
    roots: ExtraRoots,
    changes: &[(&str, &str)],
) -> World {
    let clock = Clock::adjustable();
    let for_app = clock.clone();
    let smtp_tls = match security.tls.as_ref().map(|t| t.mode) {
        None => "none",
        Some(TlsMode::StartTls) => "starttls",
        Some(TlsMode::Implicit) => "tls",
    };
    let (app, lever) = connected_with(backend, move |s| {
        s.tuning.clock = for_app;
        s.tuning.smtp_extra_roots = roots;
    })
    .await;
    let mailbox = Mailbox::start_on_loopback_with(security).await.unwrap();
    let port = mailbox.port().to_string();
    let mut fields = vec![("smtp_tls", smtp_tls)];
    fields.extend_from_slice(changes);
    let response = save_settings(&app, &email_through(&lever, &port, &fields)).await;
    assert_eq!(response.status(), 303, "email settings saved");
    World {
        app,
        lever,
        clock,
        mailbox,
    }
}

/// The Settings fields that turn candidate emails on, sent in plain SMTP through 127.0.0.1:`port`
/// from Acme Hiring, with `changes` on top.
pub(crate) fn email_through<'a>(
    lever: &'a LeverAccount,
    port: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("default_user_id", lever.default_user.as_str()),
        ("email_enabled", "on"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_port", port),
        ("smtp_tls", "none"),
        ("smtp_from", "Acme Hiring <jobs@acme.test>"),
    ];
    fields.extend_from_slice(changes);
    fields
}

/// A mail server's TLS, with a self-signed certificate for 127.0.0.1 made for this test.
fn tls(mode: TlsMode) -> Tls {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    Tls {
        mode,
        certificate: made.cert.der().to_vec(),
        private_key: made.signing_key.serialize_der(),
    }
}

const SMTP_USER: &str = "hiring@acme.test";
const SMTP_PASSWORD: &str = "correct-smtp-password";

/// A mail server as a provider's relay is: TLS in `mode`, and a sign-in to `SMTP_USER`.
fn relay(mode: TlsMode) -> Security {
    Security {
        tls: Some(tls(mode)),
        account: Some(Account::new(SMTP_USER, SMTP_PASSWORD)),
    }
}

/// The Settings fields that sign in to the mailbox's account with `password`.
fn sign_in_with(password: &str) -> [(&str, &str); 2] {
    [("smtp_username", SMTP_USER), ("smtp_password", password)]
}

/// Runs jobs until `expected` have run, waiting out the tests' millisecond backoff between a
/// failed email's attempts; returns how many ran.
async fn run_jobs_until(app: &TestApp, expected: usize) -> usize {
    let mut ran = 0;
    for _ in 0..50 {
        ran += app.drain().await;
        if ran >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    ran
}

/// A candidate Lever lists with no email address.
pub(crate) async fn candidate_without_email(lever: &LeverAccount, name: &str) -> String {
    let body = json!({"name": name, "tags": [TAG], "stageId": lever.stage("New lead")});
    post(&lever.http, &lever.control("/candidates"), body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Moves the candidate into the trigger stage and runs the jobs: returns Lever's link.
async fn invite(w: &World, id: &str, jobs: usize) -> String {
    w.lever.move_to(id, TRIGGER).await;
    assert_eq!(w.app.drain().await, jobs, "stage change (and email) jobs");
    w.lever.opportunity(id).await["links"][0]
        .as_str()
        .unwrap()
        .to_owned()
}

fn only(messages: Vec<ReceivedMail>) -> ReceivedMail {
    assert_eq!(messages.len(), 1, "{messages:#?}");
    messages.into_iter().next().unwrap()
}

/// The organization's one assessment's detail page.
async fn detail_page(app: &TestApp) -> String {
    let list = app.get_html("/orgs/acme/assessments").await;
    let start = list
        .find("/orgs/acme/assessments/")
        .expect("an assessment is listed");
    let end = start + list[start..].find('"').unwrap();
    app.get_html(&list[start..end]).await
}

async fn an_invitation_is_emailed_and_recorded(backend: Backend) {
    let w = world(backend, &[]).await;
    let ada = w.lever.candidate("Ada Lovelace", &[TAG]).await;
    let link = invite(&w, &ada, 2).await;

    let mail = only(w.mailbox.messages_to("ada.lovelace@example.com"));
    assert_eq!(mail.envelope_from, "jobs@acme.test");
    assert!(mail.from().contains("Acme Hiring") && mail.from().contains("<jobs@acme.test>"));
    assert_eq!(mail.subject(), "Your coding assessment from ACME Inc");
    let body = mail.body();
    for expected in [
        "Hello Ada Lovelace,",
        &link,
        "you have 2 hours to finish",
        "Please start by ",
    ] {
        assert!(body.contains(expected), "{expected:?} in {body}");
    }
    assert!(!body.contains('{'), "every placeholder filled: {body}");

    let held = w.lever.opportunity(&ada).await;
    assert!(tags(&held).contains(&"leverbridge: Candidate Invited".to_owned()));
    assert!(!tags(&held).contains(&"leverbridge: Invite Failed".to_owned()));
    let events = w.app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("; invitation email to ada.lovelace@example.com queued)"),
        "{events}"
    );
    assert!(
        events.contains("Invitation email sent to ada.lovelace@example.com at "),
        "{events}"
    );
    let detail = detail_page(&w.app).await;
    assert!(
        detail.contains("Invitation email sent to ada.lovelace@example.com"),
        "{detail}"
    );

    // Nothing runs twice: no job left, no second email.
    assert_eq!(w.app.drain().await, 0);
    assert_eq!(w.mailbox.messages().len(), 1);
}

async fn a_candidate_without_an_email_address_gets_none_and_lever_says_so(backend: Backend) {
    let w = world(backend, &[]).await;
    let alan = candidate_without_email(&w.lever, "Alan Turing").await;
    invite(&w, &alan, 1).await;

    assert!(w.mailbox.messages().is_empty(), "no email attempted");
    let held = w.lever.opportunity(&alan).await;
    let tags = tags(&held);
    assert!(
        tags.contains(&"leverbridge: Invite Failed".to_owned()),
        "{tags:?}"
    );
    assert!(
        !tags.contains(&"leverbridge: Candidate Invited".to_owned()),
        "{tags:?}"
    );
    let notes = held["notes"].to_string();
    assert!(
        notes.contains(
            "The invitation email was not sent: Lever lists no email address for the candidate"
        ),
        "{notes}"
    );
    let events = w.app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("; no invitation email: Lever lists no email address for Alan Turing"),
        "{events}"
    );
    assert!(
        events.contains(
            "Lever lists no email address for the candidate, so no invitation email was sent."
        ),
        "{events}"
    );
    let detail = detail_page(&w.app).await;
    assert!(
        detail
            .contains("Invitation email not sent: Lever lists no email address for the candidate"),
        "{detail}"
    );
}

async fn an_unknown_placeholder_is_refused_by_name_and_changes_nothing(backend: Backend) {
    let w = world(backend, &[]).await;
    let port = w.mailbox.port().to_string();
    let bad_body = "Dear {candidate_firstname}, here it is: {assessment_link}";
    let response = save_settings(
        &w.app,
        &email_through(
            &w.lever,
            &port,
            &[
                ("email_subject", "Your test at {company}"),
                ("email_body", bad_body),
            ],
        ),
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("Nothing was saved"), "{page}");
    assert!(
        page.contains("Unknown placeholder {candidate_firstname}: use {candidate_name}, {assessment_link}, {time_limit}, {start_by} or {company}."),
        "{page}"
    );
    assert!(
        page.contains("No preview: Message: Unknown placeholder {candidate_firstname}"),
        "{page}"
    );

    // The preview shows a good template for the sample candidate, and saves nothing.
    let response = save_settings(
        &w.app,
        &email_through(
            &w.lever,
            &port,
            &[
                (
                    "email_body",
                    "Dear {candidate_name}, open {assessment_link} within {time_limit}.",
                ),
                ("preview", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Preview only: nothing was saved."), "{page}");
    assert!(
        page.contains(
            "Dear Ada Lovelace, open https://leverbridge.example/a/sample-link within 2 hours."
        ),
        "{page}"
    );

    // What the mail server then receives is the template saved before: the default.
    let ada = w.lever.candidate("Ada Lovelace", &[TAG]).await;
    invite(&w, &ada, 2).await;
    let mail = only(w.mailbox.messages());
    assert_eq!(mail.subject(), "Your coding assessment from ACME Inc");
    assert!(
        mail.body().starts_with("Hello Ada Lovelace,"),
        "{}",
        mail.body()
    );
}

async fn both_reminders_are_sent_once_and_not_again_after_a_restart(backend: Backend) {
    let w = world(
        backend,
        &[
            ("start_reminder_hours", "24"),
            ("deadline_reminder_minutes", "30"),
        ],
    )
    .await;
    let ada = w.lever.candidate("Ada Lovelace", &[TAG]).await;
    invite(&w, &ada, 2).await;
    let grace = w.lever.candidate("Grace Hopper", &[TAG]).await;
    let link = invite(&w, &grace, 2).await;
    let path = link.strip_prefix(&w.app.address).unwrap().to_owned();
    let started = w
        .app
        .client
        .post(w.app.url(&format!("{path}/start")))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    assert_eq!(w.app.drain().await, 1, "the In Progress tag");

    // Grace has 120 minutes: nothing is due at 80, her reminder at 95.
    w.clock.advance(Duration::minutes(80));
    assert_eq!(w.app.jobs.remind_due().await.unwrap(), 0);
    w.clock.advance(Duration::minutes(15));
    // Two workers sweeping at the same moment claim it once.
    let (one, two) = tokio::join!(w.app.jobs.remind_due(), w.app.jobs.remind_due());
    assert_eq!(one.unwrap() + two.unwrap(), 1, "claimed once");
    assert_eq!(w.app.drain().await, 1);
    let reminder = only(
        w.mailbox
            .messages_to("grace.hopper@example.com")
            .into_iter()
            .skip(1)
            .collect(),
    );
    assert_eq!(
        reminder.subject(),
        "Reminder: Your coding assessment from ACME Inc"
    );
    assert!(
        reminder
            .body()
            .contains("your time on the assessment runs out at"),
        "{}",
        reminder.body()
    );
    assert!(reminder.body().contains(&link));

    // Ada's link expires 7 days after her invitation: reminded once she is within 24 hours of it.
    w.clock.advance(Duration::days(5));
    assert_eq!(w.app.jobs.remind_due().await.unwrap(), 0);
    w.clock.advance(Duration::days(1));
    assert_eq!(w.app.jobs.remind_due().await.unwrap(), 1);
    assert_eq!(w.app.drain().await, 1);
    let to_ada = w.mailbox.messages_to("ada.lovelace@example.com");
    assert_eq!(to_ada.len(), 2, "the invitation and the reminder");
    assert_eq!(
        to_ada[1].subject(),
        "Reminder: Your coding assessment from ACME Inc"
    );
    assert!(to_ada[1]
        .body()
        .starts_with("A reminder: your assessment has not been started yet."));
    assert_eq!(w.app.jobs.remind_due().await.unwrap(), 0, "once");

    // A restart (the application built again on the same database) sends neither again.
    let again = Application::build(w.app.settings.clone()).await.unwrap();
    assert_eq!(again.jobs().remind_due().await.unwrap(), 0);
    assert_eq!(again.jobs().run_until_idle().await.unwrap(), 0);
    assert_eq!(
        w.mailbox.messages().len(),
        4,
        "two invitations, two reminders"
    );

    // Days have passed on the server's clock: the admin's session ended, so they sign in again.
    w.app.login("admin@acme.test").await;
    let events = w.app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("Reminder to start sent to ada.lovelace@example.com"),
        "{events}"
    );
    assert!(
        events.contains("Reminder before the deadline sent to grace.hopper@example.com"),
        "{events}"
    );
}

async fn a_mail_server_that_cannot_be_reached_is_retried_and_a_refused_address_is_not(
    backend: Backend,
) {
    let w = world(backend, &[]).await;
    // A port nobody listens on: bind one, then let it go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let response = save_settings(&w.app, &email_through(&w.lever, &closed, &[])).await;
    assert_eq!(response.status(), 303);
    let ada = w.lever.candidate("Ada Lovelace", &[TAG]).await;
    w.lever.move_to(&ada, TRIGGER).await;
    // The stage change, then the email's three attempts (the tests' backoff is a millisecond).
    let ran = run_jobs_until(&w.app, 4).await;
    assert_eq!(ran, 4, "the stage change and three attempts");
    let events = w.app.get_html("/orgs/acme/events").await;
    assert!(events.contains("Invitation email to ada.lovelace@example.com failed after 3 attempts: the mail server 127.0.0.1:"), "{events}");
    assert!(events.contains("could not be reached"), "{events}");
    assert!(events.contains(">Retry</button>"), "{events}");

    // A recipient the server refuses for good is recorded and not retried.
    let port = w.mailbox.port().to_string();
    let response = save_settings(&w.app, &email_through(&w.lever, &port, &[])).await;
    assert_eq!(response.status(), 303);
    w.mailbox.refuse_recipient("grace.hopper@example.com");
    let grace = w.lever.candidate("Grace Hopper", &[TAG]).await;
    invite(&w, &grace, 2).await;
    assert!(w.mailbox.messages().is_empty());
    assert_eq!(w.app.drain().await, 0, "not retried");
    let events = w.app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("refused the recipient for good"),
        "{events}"
    );
    assert!(events.contains("550"), "{events}");
}

async fn a_candidate_moved_back_before_starting_is_emailed_again_once(backend: Backend) {
    let w = world(backend, &[]).await;
    let ada = w.lever.candidate("Ada Lovelace", &[TAG]).await;
    let link = invite(&w, &ada, 2).await;
    assert_eq!(w.mailbox.messages_to("ada.lovelace@example.com").len(), 1);

    // Out of the stage and back in, not started: the invitation goes again, with the same link.
    w.lever.move_to(&ada, "On-site interview").await;
    w.app.drain().await;
    w.lever.move_to(&ada, TRIGGER).await;
    w.app.drain().await;
    let sent = w.mailbox.messages_to("ada.lovelace@example.com");
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(sent[1].body().contains(&link), "the same link");
    assert_eq!(
        w.lever.opportunity(&ada).await["links"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "no second assessment"
    );

    // The same delivery's job run again sends nothing more.
    let requeued = w
        .app
        .db
        .run(|conn| -> Result<_, leverbridge::db::DbError> {
            use diesel::prelude::*;
            use leverbridge::db::schema::jobs;
            diesel::update(
                jobs::table
                    .filter(jobs::kind.eq("stage_change"))
                    .filter(jobs::state.eq("done")),
            )
            .set(jobs::state.eq("queued"))
            .execute(conn)
            .map_err(leverbridge::db::DbError::from)
        })
        .await
        .unwrap();
    assert!(requeued >= 3);
    w.app.drain().await;
    assert_eq!(w.mailbox.messages_to("ada.lovelace@example.com").len(), 2);
}

/// What the mailbox's one message to Ada says, checked as `an_invitation_is_emailed_and_recorded`
/// checks the plain one, and how it came.
fn assert_invitation_to_ada(w: &World, link: &str) -> ReceivedMail {
    let mail = only(w.mailbox.messages_to("ada.lovelace@example.com"));
    assert_eq!(mail.subject(), "Your coding assessment from ACME Inc");
    assert!(mail.body().contains(link), "{}", mail.body());
    assert!(mail.over_tls, "the message came inside TLS");
    mail
}

async fn an_invitation_goes_over_starttls_signed_in_with_plain(backend: Backend) {
    let w = world_behind(
        backend,
        relay(TlsMode::StartTls),
        &sign_in_with(SMTP_PASSWORD),
    )
    .await;
    let ada = w.lever.candidate("Ada Lovelace", &[TAG]).await;
    let link = invite(&w, &ada, 2).await;

    let mail = assert_invitation_to_ada(&w, &link);
    assert_eq!(mail.signed_in_as.as_deref(), Some(SMTP_USER));
    // The password Settings sealed is the one the server was given, by the first mechanism
    // it offered.
    assert_eq!(
        w.mailbox.sign_ins(),
        [SignIn {
            mechanism: Mechanism::Plain,
            username: SMTP_USER.into(),
            password: SMTP_PASSWORD.into(),
            accepted: true,
        }]
    );
    let events = w.app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("Invitation email sent to ada.lovelace@example.com at "),
        "{events}"
    );
}

async fn an_invitation_goes_over_implicit_tls_signed_in_with_login(backend: Backend) {
    let mut security = relay(TlsMode::Implicit);
    // The server offers LOGIN only, so the client cannot pick PLAIN.
    if let Some(account) = security.account.as_mut() {
        account.mechanisms = vec![Mechanism::Login];
    }
    let w = world_behind(backend, security, &sign_in_with(SMTP_PASSWORD)).await;
    let ada = w.lever.candidate("Ada Lovelace", &[TAG]).await;
    let link = invite(&w, &ada, 2).await;

    let mail = assert_invitation_to_ada(&w, &link);
    assert_eq!(mail.signed_in_as.as_deref(), Some(SMTP_USER));
    let sign_ins = w.mailbox.sign_ins();
    assert_eq!(sign_ins.len(), 1, "{sign_ins:?}");
    assert_eq!(
        (sign_ins[0].mechanism, sign_ins[0].password.as_str()),
        (Mechanism::Login, SMTP_PASSWORD)
    );
    let detail = detail_page(&w.app).await;
    assert!(
        detail.contains("Invitation email sent to ada.lovelace@example.com"),
        "{detail}"
    );
}

async fn a_mail_server_whose_certificate_is_not_trusted_gets_nothing(backend: Backend) {
    // leverbridge trusts the public roots and another test certificate, not this server's.
    let other = tls(TlsMode::Implicit).certificate;
    let w = world_trusting(
        backend,
        relay(TlsMode::Implicit),
        ExtraRoots::default().with(other),
        &sign_in_with(SMTP_PASSWORD),
    )
    .await;
    let ada = w.lever.candidate("Ada Lovelace", &[TAG]).await;
    w.lever.move_to(&ada, TRIGGER).await;
    assert_eq!(run_jobs_until(&w.app, 4).await, 4);

    assert!(w.mailbox.messages().is_empty());
    assert!(w.mailbox.sign_ins().is_empty(), "no password was sent");
    let events = w.app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("Invitation email to ada.lovelace@example.com failed after 3 attempts: "),
        "{events}"
    );
    assert!(
        events.contains("presented a certificate leverbridge does not trust"),
        "{events}"
    );
}

async fn wrong_credentials_fail_the_email_clearly_and_nothing_is_marked_sent(backend: Backend) {
    let w = world_behind(
        backend,
        relay(TlsMode::StartTls),
        &sign_in_with("a-stale-password"),
    )
    .await;
    let ada = w.lever.candidate("Ada Lovelace", &[TAG]).await;
    w.lever.move_to(&ada, TRIGGER).await;
    let ran = run_jobs_until(&w.app, 4).await;
    assert_eq!(ran, 4, "the stage change and the email's three attempts");

    assert!(w.mailbox.messages().is_empty(), "nothing was delivered");
    let sign_ins = w.mailbox.sign_ins();
    assert_eq!(sign_ins.len(), 3, "one refused sign-in per attempt");
    assert!(sign_ins
        .iter()
        .all(|s| s.password == "a-stale-password" && !s.accepted));

    let events = w.app.get_html("/orgs/acme/events").await;
    let port = w.mailbox.port();
    let failed = format!(
        "Invitation email to ada.lovelace@example.com failed after 3 attempts: the mail server 127.0.0.1:{port} refused to sign in ("
    );
    assert!(events.contains(&failed), "{events}");
    for expected in [
        "535",
        "check the username and password on the Settings page",
        ">Retry</button>",
    ] {
        assert!(events.contains(expected), "{expected}: {events}");
    }
    assert!(!events.contains("Invitation email sent"), "{events}");
    let detail = detail_page(&w.app).await;
    assert!(
        detail.contains("Invitation email to ada.lovelace@example.com not sent: it failed after 3 attempts (the mail server 127.0.0.1:"),
        "{detail}"
    );
    assert!(
        detail.contains("an admin can retry it on Events"),
        "{detail}"
    );
    assert!(!detail.contains("Invitation email sent"), "{detail}");
    // Lever still shows the invitation: the link is the candidate's way in, the email a courtesy.
    let held = w.lever.opportunity(&ada).await;
    assert!(tags(&held).contains(&"leverbridge: Candidate Invited".to_owned()));
}

async fn choosing_the_question_emails_the_candidate_their_link(backend: Backend) {
    let w = world(backend, &[]).await;
    add_recruiters_choice(&w.app, &w.lever).await;
    let (ada, choose) = waiting_for_a_choice(&w.app, &w.lever, "Ada Lovelace").await;
    assert!(
        w.mailbox.messages().is_empty(),
        "nobody is emailed before the question is chosen"
    );

    let response = choose_first_question(&w.app, &choose).await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/orgs/acme/assessments/"));
    assert_eq!(
        w.app.drain().await,
        2,
        "the choice's write-back, then the email"
    );

    let link = w.lever.opportunity(&ada).await["links"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(link.starts_with(&format!("{}/a/", w.app.address)), "{link}");
    let mail = only(w.mailbox.messages());
    assert_eq!(mail.envelope_to, ["ada.lovelace@example.com"]);
    assert!(
        mail.to().contains("ada.lovelace@example.com"),
        "{}",
        mail.to()
    );
    assert_eq!(mail.subject(), "Your coding assessment from ACME Inc");
    let body = mail.body();
    assert!(body.starts_with("Hello Ada Lovelace,"), "{body}");
    assert!(body.contains(&link), "the candidate's link: {body}");
    assert!(!body.contains("/choose/"), "not the choice page's: {body}");
    let detail = detail_page(&w.app).await;
    assert!(
        detail.contains("Invitation email sent to ada.lovelace@example.com"),
        "{detail}"
    );
}

async fn a_test_email_goes_to_the_admin_through_the_saved_server_or_says_why_not(backend: Backend) {
    let w = world(backend, &[]).await;
    let page = w.app.get_html("/orgs/acme/settings").await;
    assert!(page.contains(">Send a test email</button>"), "{page}");
    let response = w
        .app
        .post_form("/orgs/acme/settings", "/orgs/acme/settings/test-email", &[])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/orgs/acme/settings#setting-smtp_host");
    let page = w.app.get_html("/orgs/acme/settings").await;
    let port = w.mailbox.port();
    assert!(
        page.contains(&format!(
            "Test email sent to admin@acme.test through 127.0.0.1:{port}: check that it arrived."
        )),
        "{page}"
    );
    let mail = only(w.mailbox.messages_to("admin@acme.test"));
    assert_eq!(mail.subject(), "leverbridge test email for ACME Inc");
    assert!(mail
        .body()
        .contains("candidates' emails can go out this way"));

    // A server that refuses the connection: the page says why, and nothing was sent.
    let response = save_settings(&w.app, &email_through(&w.lever, "1", &[])).await;
    assert_eq!(response.status(), 303);
    w.app
        .post_form("/orgs/acme/settings", "/orgs/acme/settings/test-email", &[])
        .await;
    let page = w.app.get_html("/orgs/acme/settings").await;
    assert!(page.contains("The test email was not sent: "), "{page}");
    assert_eq!(w.mailbox.messages().len(), 1);

    // Only an admin may send one.
    let reviewer = w.app.as_new_session().await;
    w.app
        .create_user("reviewer@acme.test", Some("acme"), "reviewer")
        .await;
    reviewer.login("reviewer@acme.test").await;
    let refused = reviewer
        .post_form(
            "/orgs/acme/assessments",
            "/orgs/acme/settings/test-email",
            &[],
        )
        .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(w.mailbox.messages().len(), 1);
}
