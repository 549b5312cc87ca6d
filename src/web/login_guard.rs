//! What keeps sign-in from taking the server down, and attackers from locking people out:
//! failed attempts are counted per e-mail address and per client address (a success clears the
//! account's count), a browser that signed in to the account before (a device cookie,
//! `device_cookie.rs`) is counted on its own instead, and only a few password checks (argon2,
//! ~19 MiB each) run at once, each in one of a few working buffers allocated once and reused.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::sync::Semaphore;

use super::WebError;
use crate::clock::Clock;
use crate::config::{LoginLimits, Throttle};

/// Keys kept by the counts before the ones back at zero are dropped.
const MAX_TRACKED_KEYS: usize = 10_000;
/// Longest e-mail address kept as a key (longer ones are cut there).
const MAX_KEY_LEN: usize = 320;

/// What failed attempts are counted against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
    /// A browser holding a device cookie for the account (its nonce).
    Device(String),
}

/// Failures on one key: a leaky bucket that empties by one each `period`.
#[derive(Clone, Copy, Debug)]
struct Level {
    failures: f64,
    at: NaiveDateTime,
}

pub struct LoginGuard {
    limits: LoginLimits,
    clock: Clock,
    counts: Mutex<HashMap<Key, Level>>,
    checks: Arc<Semaphore>,
    wait: Duration,
    buffers: Arc<Mutex<Vec<Vec<argon2::Block>>>>,
}

/// Where a sign-in attempt comes from.
pub enum Attempt<'a> {
    /// A browser with a genuine device cookie for the account: the cookie's nonce.
    KnownBrowser(&'a str),
    /// Any other browser, from this client address when it is known.
    UnknownBrowser(Option<IpAddr>),
}

/// An admitted attempt, counted as a failure until it is known to be something else.
#[must_use = "tell the guard how the attempt ended"]
pub struct Admitted {
    account: Key,
    counted: Vec<Key>,
}

/// The outcome of one password check.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordCheck {
    Matches,
    DoesNotMatch,
    /// No check came free within the wait: the server is busy with other sign-ins.
    Busy,
}

impl LoginGuard {
    pub fn new(limits: &LoginLimits, clock: Clock) -> LoginGuard {
        let permits = limits.hash_permits.max(1);
        LoginGuard {
            limits: limits.clone(),
            clock,
            counts: Mutex::new(HashMap::new()),
            checks: Arc::new(Semaphore::new(permits)),
            wait: limits.hash_wait,
            buffers: Arc::new(Mutex::new(Vec::with_capacity(permits))),
        }
    }

    fn throttle(&self, key: &Key) -> Throttle {
        match key {
            Key::Account(_) | Key::Device(_) => self.limits.per_account,
            Key::Address(_) => self.limits.per_address,
        }
    }

    /// Admits one attempt on `email` (known or not, so a refusal says nothing about which
    /// addresses exist), counting it as a failure unless [`LoginGuard::succeeded`] says
    /// otherwise: attempts sent at once cannot outrun the count. (One that found the server too
    /// busy to check it stays counted: a refund would let a flood's later attempts through.)
    /// `Err` holds how long until an attempt is allowed.
    pub fn admit(&self, email: &str, from: Attempt) -> Result<Admitted, Duration> {
        let account = Key::Account(account_key(email));
        let counted = match from {
            Attempt::KnownBrowser(nonce) => vec![Key::Device(nonce.to_owned())],
            Attempt::UnknownBrowser(address) => address
                .map(|a| Key::Address(client_key(a)))
                .into_iter()
                .chain([account.clone()])
                .collect(),
        };
        let now = self.clock.now();
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() > MAX_TRACKED_KEYS {
            counts.retain(|key, level| self.level(key, level, now) > 0.0);
        }
        let wait = counted
            .iter()
            .filter_map(|key| {
                let throttle = self.throttle(key);
                let failures = counts.get(key).map_or(0.0, |l| self.level(key, l, now));
                let over = failures + 1.0 - f64::from(throttle.burst.max(1));
                (over > 0.0).then(|| throttle.period.mul_f64(over))
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        for key in &counted {
            let failures = counts.get(key).map_or(0.0, |l| self.level(key, l, now));
            counts.insert(
                key.clone(),
                Level {
                    failures: failures + 1.0,
                    at: now,
                },
            );
        }
        Ok(Admitted { account, counted })
    }

    /// The failures left on `key` at `now`, one leaking out each period.
    fn level(&self, key: &Key, level: &Level, now: NaiveDateTime) -> f64 {
        let period = self.throttle(key).period.max(Duration::from_millis(1));
        let elapsed = (now - level.at).to_std().unwrap_or_default();
        (level.failures - elapsed.as_secs_f64() / period.as_secs_f64()).max(0.0)
    }

    /// The password was right: the account's failures (and the browser's) are cleared, and
    /// the attempt no longer counts against the client address.
    pub fn succeeded(&self, admitted: Admitted) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.remove(&admitted.account);
        for key in admitted.counted {
            if let Key::Address(_) = key {
                if let Some(level) = counts.get_mut(&key) {
                    level.failures = (level.failures - 1.0).max(0.0);
                }
            } else {
                counts.remove(&key);
            }
        }
    }

    /// Checks `password` against `stored` (or against a dummy hash when there is no such user,
    /// which costs the same) once a check is free.
    pub async fn check_password(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<PasswordCheck, WebError> {
        let permit =
            match tokio::time::timeout(self.wait, self.checks.clone().acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                _ => return Ok(PasswordCheck::Busy),
            };
        let buffers = self.buffers.clone();
        let matches = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // At most one buffer per permit exists: each check takes one and gives it back.
            let mut memory = buffers
                .lock()
                .map(|mut b| b.pop())
                .ok()
                .flatten()
                .unwrap_or_default();
            let matches =
                crate::crypto::verify_password_in(&password, stored.as_deref(), &mut memory);
            if let Ok(mut b) = buffers.lock() {
                b.push(memory);
            }
            matches
        })
        .await
        .map_err(|e| WebError::Unexpected(anyhow::anyhow!("the password check failed: {e}")))?;
        Ok(if matches {
            PasswordCheck::Matches
        } else {
            PasswordCheck::DoesNotMatch
        })
    }
}

/// One account's key: its e-mail address as typed, trimmed and lower-cased.
pub fn account_key(email: &str) -> String {
    email
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_KEY_LEN)
        .collect()
}

/// One key per client: an IPv4 address, or an IPv6 /64 (what one subscriber usually holds).
fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u64::MAX as u128))),
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(account: u32, address: u32) -> LoginLimits {
        LoginLimits {
            per_account: Throttle {
                burst: account,
                period: Duration::from_secs(60),
            },
            per_address: Throttle {
                burst: address,
                period: Duration::from_secs(60),
            },
            ..LoginLimits::default()
        }
    }

    #[test]
    fn failures_are_counted_per_account_and_per_address_and_a_success_clears_them() {
        let clock = Clock::adjustable();
        let guard = LoginGuard::new(&limits(2, 3), clock.clone());
        let home: IpAddr = "192.0.2.1".parse().unwrap();
        let from_home = || Attempt::UnknownBrowser(Some(home));
        let _failed = guard.admit("a@x.test", from_home()).unwrap();
        let _failed = guard.admit(" A@X.test ", from_home()).unwrap();
        let wait = guard.admit("a@x.test", from_home()).err().unwrap();
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        let _failed = guard.admit("b@x.test", from_home()).unwrap();
        // The address has now failed three times: any account is refused from it.
        assert!(guard.admit("c@x.test", from_home()).is_err());
        // From another client the first account is still refused; another account is not.
        let away: IpAddr = "198.51.100.7".parse().unwrap();
        assert!(guard
            .admit("a@x.test", Attempt::UnknownBrowser(Some(away)))
            .is_err());
        let _failed = guard
            .admit("d@x.test", Attempt::UnknownBrowser(Some(away)))
            .unwrap();
        // A success clears the account and takes its attempt off the address.
        for _ in 0..10 {
            guard.succeeded(
                guard
                    .admit("e@x.test", Attempt::UnknownBrowser(Some(away)))
                    .unwrap(),
            );
        }
        // One failure leaks out per period.
        clock.advance(chrono::Duration::seconds(61));
        assert!(guard.admit("a@x.test", from_home()).is_ok());
    }

    #[test]
    fn a_known_browser_is_counted_on_its_own() {
        let guard = LoginGuard::new(&limits(2, 100), Clock::adjustable());
        for _ in 0..2 {
            let _failed = guard
                .admit("a@x.test", Attempt::UnknownBrowser(None))
                .unwrap();
        }
        assert!(guard
            .admit("a@x.test", Attempt::UnknownBrowser(None))
            .is_err());
        let known = guard
            .admit("a@x.test", Attempt::KnownBrowser("n1"))
            .unwrap();
        guard.succeeded(known);
        // The success cleared the account for everyone.
        assert!(guard
            .admit("a@x.test", Attempt::UnknownBrowser(None))
            .is_ok());
        for _ in 0..2 {
            let _failed = guard
                .admit("a@x.test", Attempt::KnownBrowser("n2"))
                .unwrap();
        }
        assert!(guard
            .admit("a@x.test", Attempt::KnownBrowser("n2"))
            .is_err());
        assert!(guard.admit("a@x.test", Attempt::KnownBrowser("n1")).is_ok());
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
