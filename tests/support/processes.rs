//! Which processes a test binary started: two test binaries running at once use the same
//! sandbox uids, so a check for leftovers under those uids counts only its own.

/// Whether `pid` is this test process's descendant: what its sandboxes and worker processes
/// left (orphans come back to it, the subreaper of what it starts), not another process's.
pub fn descends_from_us(pid: &str) -> bool {
    let us = std::process::id().to_string();
    let mut current = pid.to_owned();
    for _ in 0..64 {
        if current == us {
            return true;
        }
        let Ok(status) = std::fs::read_to_string(format!("/proc/{current}/status")) else {
            return false;
        };
        match status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .map(|p| p.trim().to_owned())
        {
            Some(parent) if parent != "0" => current = parent,
            _ => return false,
        }
    }
    false
}
