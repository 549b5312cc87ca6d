//! One program run inside bubblewrap: the command line that builds the sandbox, the uid and
//! kernel limits set between fork and exec, the wall clock and the capped output.
//!
//! The server (root) forks, and the child, before it executes `bwrap`, leaves every group,
//! becomes the slot's unprivileged uid and gid, sets its resource limits and asks to be killed
//! when the server dies. bwrap then runs unprivileged: `--unshare-all` gives the program its
//! own user, pid, network (loopback only, nothing of the host's), IPC, UTS and cgroup
//! namespaces, `--cap-drop ALL` leaves it no capability inside them, `--new-session` detaches
//! it from any terminal, and `--die-with-parent` ends it with bwrap. It sees `/usr` (and the
//! few `/etc` paths a toolchain reads) read-only, its code read-only at `/src`, compiled output
//! at `/build` (writable only while compiling), a size-capped tmpfs at `/work` (its working
//! directory and `TMPDIR`; the root around them is remounted read-only), a fresh `/proc` of its
//! own pid namespace and a read-only `/dev` with a size-capped tmpfs at `/dev/shm`; the
//! environment is cleared. When the program ends, bwrap's init (pid 1 of the namespace) ends,
//! and the kernel kills whatever the program left running in it.
//!
//! This is how compilations run, and runs where no warm sandbox can start; runs otherwise go
//! to the slot's warm sandbox ([`super::warm`]), built with the same arguments.

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::sys::resource::{setrlimit, Resource};
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::config::RunLimits;

/// What the program printed on one stream: the first `output_bytes` of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captured {
    pub text: String,
    /// More was printed than was kept.
    pub truncated: bool,
}

/// How the program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this code.
    Exited(i32),
    /// It used its CPU seconds (the kernel stopped it).
    CpuLimit,
    /// It was still running at the wall-clock limit (the server stopped it).
    WallLimit,
    /// A signal ended it (e.g. 11 for a segmentation fault, 6 for an abort).
    Signalled(i32),
}

/// One finished run.
#[derive(Clone, Debug)]
pub struct Execution {
    pub ending: Ending,
    pub stdout: Captured,
    pub stderr: Captured,
    /// Wall-clock time from start to end.
    pub elapsed: Duration,
}

impl Execution {
    pub fn succeeded(&self) -> bool {
        self.ending == Ending::Exited(0)
    }

    pub fn timed_out(&self) -> bool {
        matches!(self.ending, Ending::CpuLimit | Ending::WallLimit)
    }
}

/// The directories a run sees, on the host.
pub struct Mounts<'a> {
    /// Bound read-only at `/src`.
    pub src: &'a Path,
    /// Bound at `/build`: writable when `build_writable` (compiling), read-only otherwise.
    pub build: &'a Path,
    pub build_writable: bool,
    /// Bytes the `/work` tmpfs may hold.
    pub scratch_bytes: u64,
}

/// Processes of the slot's uid a warm sandbox keeps: bubblewrap's outer process and the
/// launcher.
pub const HOLDER_PROCESSES: u64 = 2;

/// The `bwrap` arguments that build the sandbox, up to the program's own command.
pub fn bwrap_args(mounts: &Mounts<'_>) -> Vec<String> {
    let mut args: Vec<String> = [
        "--unshare-all",
        "--new-session",
        "--die-with-parent",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--symlink",
        "usr/bin",
        "/bin",
        "--symlink",
        "usr/sbin",
        "/sbin",
        // Java's launcher and its configuration are reached through these.
        "--ro-bind-try",
        "/etc/alternatives",
        "/etc/alternatives",
        "--ro-bind-try",
        "/etc/java-17-openjdk",
        "/etc/java-17-openjdk",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(dev_and_code_args(mounts));
    for part in [
        "--perms".to_owned(),
        "1777".to_owned(),
        "--size".to_owned(),
        mounts.scratch_bytes.to_string(),
        "--tmpfs".to_owned(),
        "/work".to_owned(),
        // The sandbox's own root (where `/etc` and the symlinks live) is read-only once every
        // mount is made: nothing but `/work` (and `/build` while compiling) can be written.
        "--remount-ro".to_owned(),
        "/".to_owned(),
        "--chdir".to_owned(),
        "/work".to_owned(),
        "--clearenv".to_owned(),
    ] {
        args.push(part);
    }
    for (name, value) in [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("HOME", "/work"),
        ("TMPDIR", "/work"),
        ("LANG", "C.UTF-8"),
    ] {
        args.extend(["--setenv".to_owned(), name.to_owned(), value.to_owned()]);
    }
    args.push("--".into());
    args
}

/// A read-only `/dev` with a capped `/dev/shm`, and the code at `/src` and `/build`.
fn dev_and_code_args(mounts: &Mounts<'_>) -> Vec<String> {
    let mut args = Vec::new();
    // `/dev` is bubblewrap's own tmpfs, writable and uncapped: it is made read-only, with a
    // capped tmpfs at `/dev/shm` (POSIX shared memory and semaphores) the only place in it
    // that takes writes.
    for part in [
        "--size".to_owned(),
        mounts.scratch_bytes.to_string(),
        "--perms".to_owned(),
        "1777".to_owned(),
        "--tmpfs".to_owned(),
        "/dev/shm".to_owned(),
        "--remount-ro".to_owned(),
        "/dev".to_owned(),
        "--ro-bind".to_owned(),
    ] {
        args.push(part);
    }
    args.push(mounts.src.display().to_string());
    args.push("/src".into());
    args.push(
        if mounts.build_writable {
            "--bind"
        } else {
            "--ro-bind"
        }
        .into(),
    );
    args.push(mounts.build.display().to_string());
    args.push("/build".into());
    args
}

/// Runs `program` in the sandbox as `uid`, feeding it `stdin`, under `limits`.
pub async fn execute(
    bwrap: &Path,
    mounts: &Mounts<'_>,
    uid: u32,
    program: &[&str],
    stdin: &[u8],
    limits: &RunLimits,
) -> std::io::Result<Execution> {
    // bubblewrap writes the host pid of the namespace's init here (`--info-fd`), so that the
    // server can wait for the namespace to be empty (see `namespace_emptied`).
    let (info_read, info_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
    let info_fd = info_write.as_raw_fd();
    let mut command = tokio::process::Command::new(bwrap);
    command
        .arg("--info-fd")
        .arg(info_fd.to_string())
        .args(bwrap_args(mounts))
        .args(program)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let limits_before_exec = *limits;
    // SAFETY: between fork and exec the closure only makes system calls (setgroups, setresgid,
    // setresuid, setrlimit, prctl), which are async-signal-safe; it allocates nothing.
    // The info pipe's end is kept open across exec in this child alone (fcntl is
    // async-signal-safe too).
    unsafe {
        command.pre_exec(move || {
            if nix::libc::fcntl(info_fd, nix::libc::F_SETFD, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // bwrap itself is two of the slot's processes, and a warm sandbox's two more.
            become_slot(
                uid,
                &limits_before_exec,
                limits_before_exec.processes + 2 + HOLDER_PROCESSES,
            )
        });
    }
    let started = Instant::now();
    let spawned = command.spawn();
    drop(info_write);
    let mut child = spawned?;
    let feed = {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let input = stdin.to_vec();
        async move {
            // A program that exits without reading its input closes the pipe: not an error.
            let _ = pipe.write_all(&input).await;
            drop(pipe);
        }
    };
    let stdout = capture(child.stdout.take().expect("piped"), limits.output_bytes);
    let stderr = capture(child.stderr.take().expect("piped"), limits.output_bytes);
    let waited = async {
        let (_, out, err, status) = tokio::join!(feed, stdout, stderr, child.wait());
        (out, err, status)
    };
    let (stdout, stderr, ending) = match tokio::time::timeout(limits.wall, waited).await {
        Ok((stdout, stderr, status)) => (stdout, stderr, ending_of(status?)),
        Err(_) => {
            stop(&mut child).await;
            (Captured::default(), Captured::default(), Ending::WallLimit)
        }
    };
    let elapsed = started.elapsed();
    namespace_emptied(info_read, uid).await;
    Ok(Execution {
        ending,
        stdout,
        stderr,
        elapsed,
    })
}

/// Waits until the run's pid namespace is gone, so that nothing the program left behind still
/// runs under the slot's uid when the slot is handed to the next session.
///
/// bubblewrap's outer process exits as soon as the program does (or when the wall clock kills
/// it), before its init (pid 1 of the namespace) has ended: the kernel kills what is left in
/// the namespace while that init exits, and the init's exit completes only once every other
/// process in it is gone. So the server waits for the init (whose host pid bubblewrap wrote to
/// the info pipe) to exit, by a pidfd, for at most [`NAMESPACE_TEARDOWN`].
async fn namespace_emptied(info: OwnedFd, uid: u32) {
    // bubblewrap has exited, so all it wrote is in the pipe.
    let Some(pid) = info_child_pid(info) else {
        return;
    };
    // Already gone (ESRCH), or a kernel without pidfds.
    let Some(pidfd) = pidfd(pid) else {
        return;
    };
    // The init has ended and its pid been reused if it no longer runs as the slot's uid.
    let still_the_init = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|uids| uids.split_whitespace().any(|u| u == uid.to_string()))
        })
        .unwrap_or(false);
    if !still_the_init {
        return;
    }
    // SAFETY: the AsyncFd owns the pidfd, which stays open (and the same) until it is dropped.
    let registered = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE)
    };
    let Ok(readable) = registered else {
        return;
    };
    // A pidfd becomes readable when its process has exited.
    if tokio::time::timeout(NAMESPACE_TEARDOWN, readable.readable())
        .await
        .is_err()
    {
        tracing::warn!(pid, uid, "a sandbox's pid namespace outlived its program");
        // The slot goes back now; the init is still reaped once it ends.
        tokio::spawn(async move {
            if readable.readable().await.is_ok() {
                reap(readable.get_ref());
            }
        });
        return;
    }
    reap(readable.get_ref());
}

/// The host pid of the sandbox's first process, read from bubblewrap's `--info-fd` pipe once
/// bubblewrap has written it (the pipe does not block).
pub(super) fn info_child_pid(info: OwnedFd) -> Option<i32> {
    let mut text = Vec::new();
    let _ = std::fs::File::from(info).read_to_end(&mut text);
    child_pid(&String::from_utf8_lossy(&text))
}

/// A pidfd on `pid`; `None` when it is gone (or the kernel has no pidfds).
pub(super) fn pidfd(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let raw = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid, 0) };
    // SAFETY: the descriptor was just opened and is owned here alone.
    (raw >= 0).then(|| unsafe { OwnedFd::from_raw_fd(raw as i32) })
}

/// The host pid of the sandbox's first process, from what bubblewrap wrote to `--info-fd`.
fn child_pid(info: &str) -> Option<i32> {
    info.split("\"child-pid\":")
        .nth(1)
        .and_then(|rest| {
            rest.trim_start()
                .split(|c: char| !c.is_ascii_digit())
                .next()
        })
        .and_then(|digits| digits.parse::<i32>().ok())
}

/// Reaps the namespace's init once it has exited. The server is the subreaper of its
/// sandboxes ([`become_subreaper`]), so the init, orphaned when bubblewrap's outer process
/// exited, is its child now: until it is reaped its zombie still counts against the slot's
/// process limit, and back-to-back runs in one slot would find `fork` refused. When bubblewrap
/// reaped it first, there is nothing to do (`ECHILD`).
pub(super) fn reap(pidfd: &OwnedFd) {
    // SAFETY: waitid with P_PIDFD reads the descriptor and writes the zeroed siginfo it owns.
    unsafe {
        let mut info: nix::libc::siginfo_t = std::mem::zeroed();
        nix::libc::waitid(
            nix::libc::P_PIDFD,
            pidfd.as_raw_fd() as nix::libc::id_t,
            &mut info,
            nix::libc::WEXITED,
        );
    }
}

/// Makes this process the subreaper of everything it starts, so that a sandbox's init, orphaned
/// when bubblewrap's outer process exits, is reparented here and reaped by [`reap`] rather than
/// left to the host's init (which may be slow to reap, or absent in a container).
pub fn become_subreaper() -> std::io::Result<()> {
    nix::sys::prctl::set_child_subreaper(true)?;
    Ok(())
}

/// The longest the server waits for a finished run's namespace to be torn down.
const NAMESPACE_TEARDOWN: Duration = Duration::from_secs(2);

/// In the forked child, before bwrap executes: the slot's uid and gid, no groups, the limits,
/// and death with the server.
pub(super) fn become_slot(uid: u32, limits: &RunLimits, processes: u64) -> std::io::Result<()> {
    let cpu = limits.cpu.as_secs().max(1);
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
    setgroups(&[])?;
    setresgid(Gid::from_raw(uid), Gid::from_raw(uid), Gid::from_raw(uid))?;
    setresuid(Uid::from_raw(uid), Uid::from_raw(uid), Uid::from_raw(uid))?;
    // The soft CPU limit sends SIGXCPU; a program that catches it is killed a second later.
    setrlimit(Resource::RLIMIT_CPU, cpu, cpu + 1)?;
    setrlimit(
        Resource::RLIMIT_DATA,
        limits.memory_bytes,
        limits.memory_bytes,
    )?;
    setrlimit(Resource::RLIMIT_NPROC, processes, processes)?;
    setrlimit(Resource::RLIMIT_FSIZE, limits.file_bytes, limits.file_bytes)?;
    setrlimit(
        Resource::RLIMIT_NOFILE,
        limits.open_files,
        limits.open_files,
    )?;
    setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
    Ok(())
}

/// Kills the run's whole process group (bwrap; its namespace dies with it) and reaps it.
async fn stop(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = child.kill().await;
}

fn ending_of(status: std::process::ExitStatus) -> Ending {
    if let Some(code) = status.code() {
        // bwrap passes on a signal that ended the program as 128 + its number.
        return match code {
            c if c == 128 + (nix::sys::signal::Signal::SIGXCPU as i32) => Ending::CpuLimit,
            c if c > 128 && c < 128 + 65 => Ending::Signalled(c - 128),
            c => Ending::Exited(c),
        };
    }
    match status.signal() {
        Some(s) if s == (nix::sys::signal::Signal::SIGXCPU as i32) => Ending::CpuLimit,
        Some(s) => Ending::Signalled(s),
        None => Ending::Exited(-1),
    }
}

/// Reads a stream to its end, keeping the first `cap` bytes.
pub(super) async fn capture(mut stream: impl AsyncRead + Unpin, cap: usize) -> Captured {
    let mut kept = Vec::with_capacity(cap.min(8192));
    let mut truncated = false;
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
                truncated |= n > room;
            }
        }
    }
    Captured {
        text: String::from_utf8_lossy(&kept).into_owned(),
        truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_shares_nothing_and_mounts_the_code_read_only() {
        let mounts = Mounts {
            src: Path::new("/tmp/x/src"),
            build: Path::new("/tmp/x/build"),
            build_writable: false,
            scratch_bytes: 1024,
        };
        let args = bwrap_args(&mounts).join(" ");
        for flag in [
            "--unshare-all",
            "--new-session",
            "--die-with-parent",
            "--cap-drop ALL",
            "--clearenv",
            "--ro-bind /tmp/x/src /src",
            "--ro-bind /tmp/x/build /build",
            "--size 1024 --tmpfs /work",
            "--remount-ro / --chdir /work",
            "--tmpfs /dev/shm --remount-ro /dev",
        ] {
            assert!(args.contains(flag), "{flag} missing from {args}");
        }
        assert!(args.ends_with("--"));
        let compiling = bwrap_args(&Mounts {
            build_writable: true,
            ..mounts
        })
        .join(" ");
        assert!(compiling.contains("--bind /tmp/x/build /build"));
    }
}
