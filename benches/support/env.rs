//! What the benches read from their environment; each bench includes this file as a module.

use anyhow::Context;

/// A positive whole number from environment variable `name`, or `default` when it is unset.
pub fn number(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(raw) => raw
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| format!("{name} must be a positive whole number, not `{raw}`")),
        Err(_) => Ok(default),
    }
}
