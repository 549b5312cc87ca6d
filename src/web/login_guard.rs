//! What keeps sign-in from taking the server down: attempts are throttled per e-mail address and
//! per client address, and only a few password checks (argon2, ~19 MiB each) run at once, each in
//! one of a few working buffers allocated once and reused.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use super::WebError;
use crate::config::{LoginLimits, Throttle};

/// Keys kept by a throttle before the ones back at full allowance are dropped.
const MAX_TRACKED_KEYS: usize = 10_000;
/// Longest e-mail address kept as a throttle key (longer ones are cut there).
const MAX_KEY_LEN: usize = 320;

pub struct LoginGuard {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    checks: Arc<Semaphore>,
    wait: Duration,
    buffers: Arc<Mutex<Vec<Vec<argon2::Block>>>>,
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
    pub fn new(limits: &LoginLimits) -> LoginGuard {
        let permits = limits.hash_permits.max(1);
        LoginGuard {
            per_account: RateLimiter::keyed(quota(limits.per_account)),
            per_address: RateLimiter::keyed(quota(limits.per_address)),
            checks: Arc::new(Semaphore::new(permits)),
            wait: limits.hash_wait,
            buffers: Arc::new(Mutex::new(Vec::with_capacity(permits))),
        }
    }

    /// Counts one attempt on `email` from `address`; `Err` holds how long until the next one is
    /// allowed. The e-mail address counts whether or not anyone has it, so a refusal says
    /// nothing about which addresses exist.
    pub fn admit(&self, email: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = self.per_address.clock().now();
        if let Some(address) = address.map(client_key) {
            forget_idle_keys(&self.per_address);
            self.per_address
                .check_key(&address)
                .map_err(|until| until.wait_time_from(now))?;
        }
        let email: String = email
            .trim()
            .to_lowercase()
            .chars()
            .take(MAX_KEY_LEN)
            .collect();
        forget_idle_keys(&self.per_account);
        self.per_account
            .check_key(&email)
            .map_err(|until| until.wait_time_from(now))
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

fn quota(throttle: Throttle) -> Quota {
    let burst = NonZeroU32::new(throttle.burst.max(1)).expect("at least 1");
    Quota::with_period(throttle.period.max(Duration::from_millis(1)))
        .expect("a non-zero period")
        .allow_burst(burst)
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

/// Bounds a throttle's memory: past the limit, keys back at their full allowance are dropped
/// (they behave exactly as unseen keys).
fn forget_idle_keys<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>) {
    if limiter.len() > MAX_TRACKED_KEYS {
        limiter.retain_recent();
        limiter.shrink_to_fit();
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
    fn attempts_are_counted_per_account_and_per_address() {
        let guard = LoginGuard::new(&limits(2, 3));
        let home: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(guard.admit("a@x.test", Some(home)).is_ok());
        assert!(guard.admit(" A@X.test ", Some(home)).is_ok());
        let wait = guard.admit("a@x.test", Some(home)).unwrap_err();
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        // The address has now made three attempts: any account is refused from it.
        assert!(guard.admit("b@x.test", Some(home)).is_err());
        // From another client the first account is still refused; another account is not.
        let away: IpAddr = "198.51.100.7".parse().unwrap();
        assert!(guard.admit("a@x.test", Some(away)).is_err());
        assert!(guard.admit("b@x.test", Some(away)).is_ok());
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
