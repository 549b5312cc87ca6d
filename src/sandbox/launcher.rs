//! The launcher: the one process a warm sandbox keeps running between runs, as pid 1 of its
//! namespaces (bubblewrap's `--as-pid-1`), started as `leverbridge sandbox-launcher FD`.
//!
//! A fresh bubblewrap sandbox per run costs about 4–5 ms (a new user, pid, network, IPC, UTS
//! and cgroup namespace, a dozen mounts, bubblewrap's own start): more than a small program
//! takes to run. So each slot keeps one sandbox built ([`super::warm`]) and this launcher in it
//! starts each program on request, on the control socket `FD` (a `SOCK_SEQPACKET` pair whose
//! other end only the server holds):
//!
//! - the request carries the program's limits and command line, and its stdin, stdout and
//!   stderr as descriptors (`SCM_RIGHTS`): the server reads and caps the output as before;
//! - the launcher starts a child (sharing its memory until exec, see [`spawn`]) that starts a
//!   session, sets the kernel limits and executes the program; the launcher answers `STRT`, waits for it (killing it at the wall clock), then
//!   kills and reaps everything left in the namespace, empties `/work` and `/dev/shm`, removes
//!   System V IPC objects, and answers `DONE` with how the program ended.
//!
//! The program runs as the launcher's uid, so the launcher protects itself the ways the kernel
//! offers: as pid 1 of the namespace it receives no signal from inside it (SIGKILL and SIGSTOP
//! included: pid 1 only gets signals it has a handler for, and it has none); it is not dumpable,
//! so its memory, descriptors and environment under `/proc/1` are closed to the program, and it
//! cannot be traced; what a same-uid process can still change on it (its resource limits with
//! `prlimit`, its scheduling priority and CPU affinity) is compared after every run with what it
//! was at start, and a launcher found changed answers and then ends, so that the server builds
//! the slot a new sandbox. Nothing it holds is secret: its environment is the sandbox's.

use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::libc;
use std::os::unix::ffi::OsStrExt;

use nix::sys::resource::{getrlimit, Resource};
use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{recvmsg, send, ControlMessageOwned, MsgFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

/// The launcher's greeting, sent once it is ready: the protocol's version.
pub const HELLO: &[u8; 4] = b"LBL1";
/// The first word of a run request.
pub const REQUEST: &[u8; 4] = b"RUN1";
/// Sent once the program is forked.
pub const STARTED: &[u8; 4] = b"STRT";
/// The first word of the answer once the program and all it left are gone.
pub const DONE: &[u8; 4] = b"DONE";

/// The longest request the launcher accepts (a command line is a few words).
pub const MAX_REQUEST: usize = 4096;

/// A run's limits, as the request carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub cpu_seconds: u64,
    pub memory_bytes: u64,
    pub processes: u64,
    pub file_bytes: u64,
    pub open_files: u64,
    pub wall_ms: u64,
}

/// Encodes a request: the word, six limits, then the command's words, each ended by NUL.
pub fn encode_request(limits: &Limits, argv: &[&str]) -> Vec<u8> {
    let mut bytes = REQUEST.to_vec();
    for n in [
        limits.cpu_seconds,
        limits.memory_bytes,
        limits.processes,
        limits.file_bytes,
        limits.open_files,
        limits.wall_ms,
    ] {
        bytes.extend_from_slice(&n.to_le_bytes());
    }
    for word in argv {
        bytes.extend_from_slice(word.as_bytes());
        bytes.push(0);
    }
    bytes
}

/// Decodes a request; `None` when it is not one.
pub fn decode_request(bytes: &[u8]) -> Option<(Limits, Vec<std::ffi::CString>)> {
    let rest = bytes.strip_prefix(REQUEST.as_slice())?;
    if rest.len() < 48 {
        return None;
    }
    let n = |i: usize| u64::from_le_bytes(rest[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    let limits = Limits {
        cpu_seconds: n(0),
        memory_bytes: n(1),
        processes: n(2),
        file_bytes: n(3),
        open_files: n(4),
        wall_ms: n(5),
    };
    let words = &rest[48..];
    if words.is_empty() || *words.last()? != 0 {
        return None;
    }
    let argv: Vec<std::ffi::CString> = words[..words.len() - 1]
        .split(|b| *b == 0)
        .map(|w| std::ffi::CString::new(w).ok())
        .collect::<Option<_>>()?;
    Some((limits, argv))
}

/// How a program ended, as the `DONE` answer carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Its exit code, or the signal that ended it.
    pub exited: bool,
    pub value: i32,
    /// The launcher killed it at the wall clock.
    pub wall_killed: bool,
    /// The launcher found itself changed by the program and ends after this answer.
    pub retiring: bool,
}

pub fn encode_outcome(outcome: &Outcome) -> Vec<u8> {
    let mut bytes = DONE.to_vec();
    bytes.push(outcome.exited as u8);
    bytes.extend_from_slice(&outcome.value.to_le_bytes());
    bytes.push(outcome.wall_killed as u8);
    bytes.push(outcome.retiring as u8);
    bytes
}

pub fn decode_outcome(bytes: &[u8]) -> Option<Outcome> {
    let rest = bytes.strip_prefix(DONE.as_slice())?;
    if rest.len() != 7 {
        return None;
    }
    Some(Outcome {
        exited: rest[0] == 1,
        value: i32::from_le_bytes(rest[1..5].try_into().ok()?),
        wall_killed: rest[5] == 1,
        retiring: rest[6] == 1,
    })
}

/// What a program run as the launcher's uid could change on the launcher, as it was at start.
#[derive(PartialEq, Eq)]
struct Untouched {
    limits: Vec<(u64, u64)>,
    priority: i32,
    affinity: Vec<u8>,
}

const WATCHED_LIMITS: [Resource; 12] = [
    Resource::RLIMIT_AS,
    Resource::RLIMIT_CORE,
    Resource::RLIMIT_CPU,
    Resource::RLIMIT_DATA,
    Resource::RLIMIT_FSIZE,
    Resource::RLIMIT_MEMLOCK,
    Resource::RLIMIT_MSGQUEUE,
    Resource::RLIMIT_NICE,
    Resource::RLIMIT_NOFILE,
    Resource::RLIMIT_NPROC,
    Resource::RLIMIT_SIGPENDING,
    Resource::RLIMIT_STACK,
];

fn observe() -> Untouched {
    let limits = WATCHED_LIMITS
        .iter()
        .map(|r| getrlimit(*r).unwrap_or((0, 0)))
        .collect();
    // SAFETY: getpriority reads this process's nice value; the errno reset tells -1 apart.
    let priority = unsafe {
        *libc::__errno_location() = 0;
        libc::getpriority(libc::PRIO_PROCESS, 0)
    };
    // SAFETY: sched_getaffinity writes at most size_of::<cpu_set_t>() bytes into the set.
    let affinity = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set);
        std::slice::from_raw_parts(
            (&set as *const libc::cpu_set_t).cast::<u8>(),
            std::mem::size_of::<libc::cpu_set_t>(),
        )
        .to_vec()
    };
    Untouched {
        limits,
        priority,
        affinity,
    }
}

/// `leverbridge sandbox-launcher FD`: serves run requests on `FD` until the server closes it.
pub fn main(control: RawFd) -> ! {
    // SAFETY: prctl with PR_SET_DUMPABLE takes an integer; fcntl F_SETFD flags an owned fd.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        libc::fcntl(control, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    let at_start = observe();
    if send(control, HELLO, MsgFlags::empty()).is_err() {
        std::process::exit(1);
    }
    let mut buffer = vec![0u8; MAX_REQUEST];
    loop {
        let (length, fds) = match receive(control, &mut buffer) {
            Some(received) => received,
            // The server closed its end (or is gone): the sandbox ends with the launcher.
            None => std::process::exit(0),
        };
        let Some((limits, argv)) = decode_request(&buffer[..length]) else {
            std::process::exit(2);
        };
        let [stdin, stdout, stderr]: [OwnedFd; 3] = match fds.try_into() {
            Ok(three) => three,
            Err(_) => std::process::exit(2),
        };
        let mut outcome = run(&limits, &argv, [stdin, stdout, stderr], control);
        clean_up();
        outcome.retiring = observe() != at_start;
        if send(control, &encode_outcome(&outcome), MsgFlags::empty()).is_err() || outcome.retiring
        {
            std::process::exit(0);
        }
    }
}

/// Receives one request and its descriptors; `None` at end of file or on error.
fn receive(control: RawFd, buffer: &mut [u8]) -> Option<(usize, Vec<OwnedFd>)> {
    let mut space = nix::cmsg_space!([RawFd; 3]);
    let mut iov = [IoSliceMut::new(buffer)];
    let message = loop {
        match recvmsg::<()>(
            control,
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return None,
            Ok(message) => break message,
        }
    };
    let mut fds = Vec::new();
    for cmsg in message.cmsgs().ok()? {
        if let ControlMessageOwned::ScmRights(received) = cmsg {
            // SAFETY: descriptors received by SCM_RIGHTS are new and owned by this process.
            fds.extend(
                received
                    .into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    if message.bytes == 0 {
        return None;
    }
    Some((message.bytes, fds))
}

/// Starts the program, answers `STRT`, and waits for it up to the wall clock.
fn run(
    limits: &Limits,
    argv: &[std::ffi::CString],
    stdio: [OwnedFd; 3],
    control: RawFd,
) -> Outcome {
    let child = match spawn(limits, argv, &stdio) {
        Some(child) => child,
        None => {
            return Outcome {
                exited: true,
                value: 127,
                wall_killed: false,
                retiring: false,
            }
        }
    };
    drop(stdio);
    let _ = send(control, STARTED, MsgFlags::empty());
    let wall_killed = !exited_within(child, limits.wall_ms);
    if wall_killed {
        let _ = kill(Pid::from_raw(-1), Signal::SIGKILL);
    }
    let status = loop {
        match waitpid(child, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => break other,
        }
    };
    let (exited, value) = match status {
        Ok(WaitStatus::Exited(_, code)) => (true, code),
        Ok(WaitStatus::Signaled(_, signal, _)) => (false, signal as i32),
        _ => (false, Signal::SIGKILL as i32),
    };
    Outcome {
        exited,
        value,
        wall_killed,
        retiring: false,
    }
}

/// Everything the child needs between `clone` and `execv`, prepared by the launcher so that
/// the child only makes system calls.
struct Prepared {
    path: std::ffi::CString,
    argv: Vec<*const libc::c_char>,
    stdio: [RawFd; 3],
    limits: [(libc::__rlimit_resource_t, libc::rlimit); 6],
    failure: Vec<u8>,
}

/// Starts the program with `clone(CLONE_VM | CLONE_VFORK)`: the child borrows the launcher's
/// memory until it executes the program (the launcher waits meanwhile), so no page table is
/// copied, which is most of what a `fork` of the launcher would cost a short run.
fn spawn(limits: &Limits, argv: &[std::ffi::CString], stdio: &[OwnedFd; 3]) -> Option<Pid> {
    let path = resolve(argv.first()?)?;
    let cpu = limits.cpu_seconds.max(1);
    let limit = |soft: u64, hard: u64| libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    let prepared = Prepared {
        failure: format!(
            "the sandbox could not start {}\n",
            argv[0].to_string_lossy()
        )
        .into_bytes(),
        path,
        argv: argv
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect(),
        stdio: [
            stdio[0].as_raw_fd(),
            stdio[1].as_raw_fd(),
            stdio[2].as_raw_fd(),
        ],
        limits: [
            // The soft CPU limit sends SIGXCPU; a program that catches it is killed a second
            // later.
            (libc::RLIMIT_CPU, limit(cpu, cpu + 1)),
            (
                libc::RLIMIT_DATA,
                limit(limits.memory_bytes, limits.memory_bytes),
            ),
            (
                libc::RLIMIT_NPROC,
                limit(limits.processes, limits.processes),
            ),
            (
                libc::RLIMIT_FSIZE,
                limit(limits.file_bytes, limits.file_bytes),
            ),
            (
                libc::RLIMIT_NOFILE,
                limit(limits.open_files, limits.open_files),
            ),
            (libc::RLIMIT_CORE, limit(0, 0)),
        ],
    };
    let mut stack = vec![0u8; 64 * 1024];
    // The stack grows down: the child starts at the (16-byte aligned) top.
    let top = ((stack.as_mut_ptr() as usize + stack.len()) & !15) as *mut libc::c_void;
    // SAFETY: `become_program` runs on its own stack, reads `prepared` (which outlives the
    // child's use of it: CLONE_VFORK suspends the launcher until the child executes or
    // exits) and makes only system calls before execv or _exit.
    let pid = unsafe {
        libc::clone(
            become_program,
            top,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&prepared as *const Prepared).cast_mut().cast(),
        )
    };
    (pid > 0).then(|| Pid::from_raw(pid))
}

/// `name` as a path: itself when it has a slash, else found on the sandbox's `PATH`.
fn resolve(name: &std::ffi::CStr) -> Option<std::ffi::CString> {
    let bytes = name.to_bytes();
    if bytes.contains(&b'/') {
        return Some(name.to_owned());
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    path.split(':').find_map(|dir| {
        let candidate = std::path::Path::new(dir).join(std::ffi::OsStr::from_bytes(bytes));
        let c = std::ffi::CString::new(candidate.as_os_str().as_bytes()).ok()?;
        // SAFETY: access reads a NUL-terminated path.
        (unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0).then_some(c)
    })
}

/// The child, between clone and exec: the program's descriptors, a session of its own, death
/// with the launcher, its limits, then the program.
extern "C" fn become_program(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the launcher's `Prepared`, alive while the launcher waits (CLONE_VFORK);
    // every call below is a plain system call on prepared values.
    unsafe {
        let prepared = &*(arg as *const Prepared);
        for (target, fd) in prepared.stdio.iter().enumerate() {
            if libc::dup2(*fd, target as RawFd) < 0 {
                libc::_exit(127);
            }
        }
        libc::close_range(3, u32::MAX, 0);
        libc::setsid();
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        for (resource, limit) in &prepared.limits {
            if libc::setrlimit(*resource, limit) != 0 {
                libc::_exit(127);
            }
        }
        libc::execv(prepared.path.as_ptr(), prepared.argv.as_ptr());
        libc::write(2, prepared.failure.as_ptr().cast(), prepared.failure.len());
        libc::_exit(127)
    }
}

/// Whether `child` ended within `wall_ms` (a pidfd becomes readable when its process exits).
fn exited_within(child: Pid, wall_ms: u64) -> bool {
    let Some(pidfd) = super::process::pidfd(child.as_raw()) else {
        return true;
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(wall_ms);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let mut poll = libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = left.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: poll reads and writes the one pollfd it is given.
        let ready = unsafe { libc::poll(&mut poll, 1, millis) };
        match ready {
            n if n > 0 => return true,
            0 => return false,
            _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => continue,
            _ => return true,
        }
    }
}

/// Kills and reaps every other process in the namespace (as pid 1 the launcher is their
/// reaper: orphans come to it), then empties what a program may write.
fn clean_up() {
    loop {
        // kill(-1) reaches every process of the namespace but the launcher itself.
        let _ = kill(Pid::from_raw(-1), Signal::SIGKILL);
        match waitpid(Pid::from_raw(-1), None) {
            Err(nix::errno::Errno::ECHILD) => break,
            _ => continue,
        }
    }
    for dir in ["/work", "/dev/shm"] {
        empty(std::path::Path::new(dir));
    }
    remove_ipc_objects();
}

/// Removes everything in `dir` (not `dir` itself), whatever permissions the program gave it.
fn empty(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700));
            empty(&path);
            let _ = std::fs::remove_dir(&path);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Removes the namespace's System V shared memory, semaphores and message queues: they would
/// outlive the program that made them.
fn remove_ipc_objects() {
    for (table, kind) in [("shm", 0), ("sem", 1), ("msg", 2)] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/sysvipc/{table}")) else {
            continue;
        };
        for id in text
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<i32>().ok())
        {
            // SAFETY: IPC_RMID on an id takes no buffer.
            unsafe {
                match kind {
                    0 => libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()),
                    1 => libc::semctl(id, 0, libc::IPC_RMID),
                    _ => libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut()),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_and_an_outcome_survive_their_encoding() {
        let limits = Limits {
            cpu_seconds: 5,
            memory_bytes: 1 << 29,
            processes: 62,
            file_bytes: 1 << 20,
            open_files: 64,
            wall_ms: 10_000,
        };
        let bytes = encode_request(&limits, &["python3", "/src/main.py"]);
        let (decoded, argv) = decode_request(&bytes).expect("a request");
        assert_eq!(decoded, limits);
        assert_eq!(argv[0].to_str().unwrap(), "python3");
        assert_eq!(argv[1].to_str().unwrap(), "/src/main.py");
        assert!(
            decode_request(&bytes[..bytes.len() - 1]).is_none(),
            "unterminated word"
        );
        assert!(decode_request(b"RUN1").is_none());
        let outcome = Outcome {
            exited: false,
            value: 24,
            wall_killed: true,
            retiring: true,
        };
        assert_eq!(decode_outcome(&encode_outcome(&outcome)), Some(outcome));
        assert_eq!(decode_outcome(b"DONE"), None);
    }
}
