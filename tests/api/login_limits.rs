//! Sign-in cannot take the server down, nor be used to lock people out: password checks are
//! bounded in number and memory, failed attempts are throttled per account and per client
//! address (behind a trusted proxy, the forwarded client's), a success clears the account's
//! count, a browser that signed in before is not locked out by strangers' failures, and an
//! unknown address costs what a known one does.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use leverbridge::clock::Clock;
use leverbridge::config::{Settings, Throttle};
use leverbridge::web::client_address::TrustedProxies;

use crate::both_backends;
use crate::helpers::{csrf_in, with_people, Backend, Browser, PASSWORD};

both_backends!(
    correct_sign_ins_never_lock_the_account,
    a_strangers_wrong_passwords_do_not_lock_out_a_browser_that_signed_in_before,
    behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance,
    forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored,
    repeated_failures_are_throttled_per_account_then_the_password_works,
    one_client_address_is_throttled_across_accounts,
    a_login_flood_keeps_memory_bounded_and_the_password_still_works,
    an_unknown_address_costs_what_a_wrong_password_costs,
);

fn throttles(account: u32, address: u32, period: Duration) -> impl FnOnce(&mut Settings) {
    move |s| {
        s.tuning.login.per_account = Throttle {
            burst: account,
            period,
        };
        s.tuning.login.per_address = Throttle {
            burst: address,
            period,
        };
    }
}

/// The tests' connections come from 127.0.0.1: as a reverse proxy on this host would.
fn behind_a_proxy_on_this_host(s: &mut Settings) {
    s.tuning.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
}

/// Submits the login form from `browser`, its request saying it was forwarded for `client`.
async fn login_from(
    browser: &Browser,
    client: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let token = csrf_in(&browser.get_html("/login").await);
    browser
        .client
        .post(browser.url("/login"))
        .header("X-Forwarded-For", client)
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

async fn correct_sign_ins_never_lock_the_account(backend: Backend) {
    let app = with_people(backend, throttles(3, 3, Duration::from_secs(60))).await;
    // Twice the allowance of failures, from one address, in a fresh browser each time.
    for n in 0..6 {
        let browser = app.as_new_session().await;
        let response = browser.try_login("admin@acme.test", PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-in {n}");
    }
    // A failure in between does not change that: it is one of three allowed.
    assert_eq!(
        app.try_login("admin@acme.test", "wrong password")
            .await
            .status(),
        401
    );
    for n in 0..3 {
        let browser = app.as_new_session().await;
        let response = browser.try_login("admin@acme.test", PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-in {n} after a failure");
    }
}

async fn a_strangers_wrong_passwords_do_not_lock_out_a_browser_that_signed_in_before(
    backend: Backend,
) {
    let clock = Clock::adjustable();
    let for_app = clock.clone();
    let app = with_people(backend, move |s| {
        throttles(3, 100, Duration::from_secs(60))(s);
        behind_a_proxy_on_this_host(s);
        s.tuning.clock = for_app;
    })
    .await;
    let (home, attacker_address) = ("198.51.100.10", "203.0.113.66");
    let owner = app.as_new_session().await;
    let signed_in = login_from(&owner, home, "admin@acme.test", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    assert!(
        signed_in
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("leverbridge_device=")),
        "the browser is given a device cookie"
    );
    assert_eq!(
        owner.post_form("/orgs/acme", "/logout", &[]).await.status(),
        303
    );

    let attacker = app.as_new_session().await;
    for round in 0..8 {
        // A wrong password every 10 s from elsewhere.
        for _ in 0..3 {
            let status = login_from(&attacker, attacker_address, "admin@acme.test", "guess")
                .await
                .status();
            assert!(status == 401 || status == 429, "{status}");
            clock.advance(chrono::Duration::seconds(10));
        }
        // A browser that never signed in is throttled, even with the right password …
        let stranger = app.as_new_session().await;
        let refused = login_from(&stranger, "192.0.2.99", "admin@acme.test", PASSWORD).await;
        assert_eq!(
            refused.status(),
            429,
            "round {round}: unknown browsers stay throttled"
        );
        // … and the owner's browser is not.
        let response = login_from(&owner, home, "admin@acme.test", PASSWORD).await;
        assert_eq!(response.status(), 303, "round {round}: the owner signs in");
        assert_eq!(owner.get("/orgs/acme").await.status(), 200);
        assert_eq!(
            owner.post_form("/orgs/acme", "/logout", &[]).await.status(),
            303
        );
    }

    // The owner's browser has failures of its own counted, and is throttled on them.
    for _ in 0..3 {
        let status = login_from(&owner, home, "admin@acme.test", "typo")
            .await
            .status();
        assert_eq!(status, 401);
    }
    assert_eq!(
        login_from(&owner, home, "admin@acme.test", PASSWORD)
            .await
            .status(),
        429
    );
}

async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance(backend: Backend) {
    let app = with_people(backend, |s| {
        throttles(100, 3, Duration::from_secs(60))(s);
        behind_a_proxy_on_this_host(s);
    })
    .await;
    let browser = app.as_new_session().await;
    for n in 0..3 {
        let email = format!("guess{n}@acme.test");
        let status = login_from(&browser, "203.0.113.1", &email, "wrong")
            .await
            .status();
        assert_eq!(status, 401);
    }
    let refused = login_from(&browser, "203.0.113.1", "admin@acme.test", PASSWORD).await;
    assert_eq!(refused.status(), 429, "the first client used its allowance");
    // Another client behind the same proxy has an allowance of its own; the rightmost hop that
    // is not the proxy is the client, whatever it claims further left.
    let other = login_from(
        &browser,
        "203.0.113.1, 203.0.113.2, 127.0.0.1",
        "admin@acme.test",
        PASSWORD,
    )
    .await;
    assert_eq!(other.status(), 303);
}

async fn forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(backend: Backend) {
    // Trusting a proxy elsewhere: 127.0.0.1 is a client like any other.
    let app = with_people(backend, |s| {
        throttles(100, 3, Duration::from_secs(60))(s);
        s.tuning.trusted_proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
    })
    .await;
    let browser = app.as_new_session().await;
    for n in 0..3 {
        let email = format!("guess{n}@acme.test");
        let forged = format!("203.0.113.{n}");
        let status = login_from(&browser, &forged, &email, "wrong")
            .await
            .status();
        assert_eq!(status, 401);
    }
    let refused = login_from(&browser, "198.51.100.200", "admin@acme.test", PASSWORD).await;
    assert_eq!(
        refused.status(),
        429,
        "a forged X-Forwarded-For does not buy a new allowance"
    );
}

/// Settings changed by `configure`, with time read from `clock` (which the test moves).
fn on_clock(clock: &Clock, configure: impl FnOnce(&mut Settings)) -> impl FnOnce(&mut Settings) {
    let clock = clock.clone();
    move |s| {
        configure(s);
        s.tuning.clock = clock;
    }
}

/// The wait for a one-second throttle to lift, as the clock moves.
fn past_the_throttle() -> chrono::Duration {
    chrono::Duration::milliseconds(1100)
}

async fn repeated_failures_are_throttled_per_account_then_the_password_works(backend: Backend) {
    let clock = Clock::adjustable();
    let throttled = throttles(3, 100, Duration::from_secs(1));
    let app = with_people(backend, on_clock(&clock, throttled)).await;
    // A known and an unknown address are throttled alike, so a 429 tells nothing.
    for email in ["admin@acme.test", "nobody@acme.test"] {
        for _ in 0..3 {
            assert_eq!(app.try_login(email, "wrong password").await.status(), 401);
        }
        let refused = app.try_login(email, "wrong password").await;
        assert_eq!(refused.status(), 429, "{email}");
        assert_eq!(refused.headers()["retry-after"], "1");
        let page = refused.text().await.unwrap();
        assert!(
            page.contains("Too many attempts, try again in 1 s."),
            "{page}"
        );
        assert!(
            page.contains(&format!("value=\"{email}\"")),
            "the form is kept"
        );
    }
    // While throttled even the right password is refused …
    let refused = app.try_login("admin@acme.test", PASSWORD).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(app.get("/orgs/acme").await.status(), 303);
    // … and once the throttle lifts it works.
    clock.advance(past_the_throttle());
    let response = app.try_login("admin@acme.test", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.get("/orgs/acme").await.status(), 200);
}

async fn one_client_address_is_throttled_across_accounts(backend: Backend) {
    let app = with_people(backend, throttles(100, 4, Duration::from_secs(30))).await;
    for n in 0..4 {
        let email = format!("guess{n}@acme.test");
        assert_eq!(app.try_login(&email, "wrong password").await.status(), 401);
    }
    let refused = app.try_login("admin@acme.test", PASSWORD).await;
    assert_eq!(refused.status(), 429);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Too many attempts, try again in 30 s."),
        "{page}"
    );
}

fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

async fn a_login_flood_keeps_memory_bounded_and_the_password_still_works(backend: Backend) {
    let clock = Clock::adjustable();
    let app = with_people(
        backend,
        on_clock(&clock, |s| {
            throttles(5, 1000, Duration::from_secs(1))(s);
            s.tuning.login.hash_permits = 2;
            s.tuning.login.hash_wait = Duration::from_millis(200);
        }),
    )
    .await;
    // One sign-in first, so buffers that exist for good are counted in the baseline.
    let warm = app.as_new_session().await;
    warm.login("reviewer@acme.test").await;
    let token = csrf_in(&app.get_html("/login").await);

    // The server runs in this process: sample its resident memory through the flood.
    let baseline = resident_bytes();
    let peak = Arc::new(AtomicU64::new(baseline));
    let flooding = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, flooding) = (peak.clone(), flooding.clone());
        std::thread::spawn(move || {
            while flooding.load(Ordering::Relaxed) {
                peak.fetch_max(resident_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    // 128 concurrent wrong sign-ins: half on the admin, half on addresses nobody has.
    let attempts = (0..128).map(|n| {
        let email = if n % 2 == 0 {
            "admin@acme.test".to_owned()
        } else {
            format!("nobody{n}@acme.test")
        };
        let (client, url, token) = (app.client.clone(), app.url("/login"), token.clone());
        tokio::spawn(async move {
            let response = client
                .post(url)
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("email", email.as_str()),
                    ("password", "wrong password"),
                ])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        })
    });
    let results = futures_util::future::join_all(attempts).await;
    flooding.store(false, Ordering::Relaxed);
    sampler.join().unwrap();

    let count = |code: u16| {
        results
            .iter()
            .filter(|r| r.as_ref().unwrap().0 == code)
            .count()
    };
    let (unauthorized, throttled, busy) = (count(401), count(429), count(503));
    assert_eq!(unauthorized + throttled + busy, 128, "only 401, 429 or 503");
    assert!(
        throttled >= 59,
        "the admin's attempts past 5 are throttled: {throttled}"
    );
    assert!(
        unauthorized >= 2,
        "some passwords were checked: {unauthorized}"
    );
    assert!(
        busy > 0,
        "sign-ins that found no free check in time get 503"
    );
    let busy_page = &results
        .iter()
        .map(|r| r.as_ref().unwrap())
        .find(|r| r.0 == 503)
        .unwrap()
        .1;
    assert!(busy_page.contains("Too many sign-ins are being checked right now"));
    let growth = peak.load(Ordering::Relaxed).saturating_sub(baseline);
    assert!(
        growth < 150 * 1024 * 1024,
        "resident memory grew by {} MiB during the flood",
        growth / (1024 * 1024)
    );

    clock.advance(past_the_throttle());
    let response = app.try_login("admin@acme.test", PASSWORD).await;
    assert_eq!(
        response.status(),
        303,
        "the right password works once the throttle lifts"
    );
}

async fn an_unknown_address_costs_what_a_wrong_password_costs(backend: Backend) {
    let app = with_people(backend, throttles(100, 100, Duration::from_secs(1))).await;
    let token = csrf_in(&app.get_html("/login").await);
    let attempt = |email: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            let started = Instant::now();
            let response = app
                .post_raw(
                    "/login",
                    &[
                        ("csrf_token", token.as_str()),
                        ("email", email),
                        ("password", "wrong password"),
                    ],
                )
                .await;
            assert_eq!(response.status(), 401);
            started.elapsed()
        }
    };
    // Interleaved, so both see the same load on a shared machine; the fastest of each compared.
    let (mut known, mut unknown) = (Duration::MAX, Duration::MAX);
    for _ in 0..6 {
        known = known.min(attempt("admin@acme.test").await);
        unknown = unknown.min(attempt("nobody@acme.test").await);
    }
    // Without the dummy hash an unknown address answers in a tenth of the time or less.
    assert!(
        unknown * 3 > known && known * 3 > unknown,
        "known {known:?}, unknown {unknown:?}"
    );
}
