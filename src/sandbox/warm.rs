//! Warm sandboxes: one bubblewrap sandbox kept built per slot, with the [`super::launcher`] as
//! its pid 1, so that a run costs a fork and an exec rather than a new sandbox.
//!
//! The sandbox is the one [`super::process::bwrap_args`] builds for a run (every namespace
//! unshared, no capability, `/usr` read-only, the capped `/work` and `/dev/shm`, a read-only
//! root), with the slot's own directories at `/src` and `/build` (read-only: the server links a
//! session's code and compiled program into them before its first run) and the launcher's binary
//! at `/.launcher`. It is started as the slot's uid under the same limits a compilation gets, from
//! a thread that lives as long as the process (bubblewrap's `--die-with-parent` follows the
//! thread that started it), and ends with the server.
//!
//! Compilations still get a sandbox of their own each ([`super::process::execute`]): they write
//! `/build`, and they are rare next to runs.

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::socket::{
    recv, sendmsg, socketpair, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType,
};
use tokio::io::AsyncWriteExt;

use super::launcher::{self, Limits, Outcome};
use super::process::{self, Captured, Ending, Execution};
use crate::config::RunLimits;

pub use super::process::HOLDER_PROCESSES;

/// How long a new sandbox may take to greet.
const GREETING: Duration = Duration::from_secs(10);

/// How long past its wall clock a run's answer may take before the sandbox is given up.
const ANSWER_GRACE: Duration = Duration::from_secs(2);

/// A slot's host directories bound into its warm sandbox.
pub struct SlotDirs {
    pub root: PathBuf,
}

impl SlotDirs {
    /// The slot's directories (see [`SlotDirs::prepare`]).
    pub fn at(uid: u32) -> SlotDirs {
        SlotDirs {
            root: std::env::temp_dir()
                .join("leverbridge-sandbox")
                .join(format!("slot-{uid}")),
        }
    }

    /// `<temp>/leverbridge-sandbox/slot-<uid>/{src,build}`, created empty (root's, readable).
    pub fn prepare(uid: u32) -> std::io::Result<SlotDirs> {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::temp_dir().join("leverbridge-sandbox");
        std::fs::create_dir_all(&base)?;
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o711))?;
        let dirs = SlotDirs::at(uid);
        for dir in [dirs.root.clone(), dirs.src(), dirs.build()] {
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        std::fs::set_permissions(&dirs.root, std::fs::Permissions::from_mode(0o711))?;
        for dir in [dirs.src(), dirs.build()] {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        }
        dirs.clear()?;
        Ok(dirs)
    }

    pub fn src(&self) -> PathBuf {
        self.root.join("src")
    }

    pub fn build(&self) -> PathBuf {
        self.root.join("build")
    }

    /// Empties `src` and `build` (a session's code is not left behind it).
    pub fn clear(&self) -> std::io::Result<()> {
        for dir in [self.src(), self.build()] {
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                if std::fs::symlink_metadata(&path)?.is_dir() {
                    std::fs::remove_dir_all(&path)?;
                } else {
                    std::fs::remove_file(&path)?;
                }
            }
        }
        Ok(())
    }

    /// Puts a session's code and compiled program in place: hard links (the same file system),
    /// or copies where linking is refused.
    pub fn fill(&self, src: &Path, build: &Path) -> std::io::Result<()> {
        self.clear()?;
        link_tree(src, &self.src())?;
        link_tree(build, &self.build())
    }
}

fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let meta = std::fs::symlink_metadata(entry.path())?;
        let target = to.join(entry.file_name());
        if meta.is_dir() {
            std::fs::create_dir(&target)?;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
            link_tree(&entry.path(), &target)?;
        } else if meta.is_file() && std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target)?;
        }
        // Anything else a compiler left (a symlink, a socket) is not needed to run.
    }
    Ok(())
}

/// The `bwrap` command of a warm sandbox, as the slot's uid, passing on the launcher's socket
/// (`theirs`), its binary and bubblewrap's info pipe.
fn holder_command(
    recipe: &Recipe<'_>,
    theirs: &OwnedFd,
    binary: &OwnedFd,
    info_write: &OwnedFd,
) -> std::process::Command {
    let mounts = process::Mounts {
        src: &recipe.dirs.src(),
        build: &recipe.dirs.build(),
        build_writable: false,
        scratch_bytes: recipe.scratch_bytes,
    };
    let inherited = [
        theirs.as_raw_fd(),
        binary.as_raw_fd(),
        info_write.as_raw_fd(),
    ];
    let mut command = std::process::Command::new(recipe.bwrap);
    command
        .arg("--info-fd")
        .arg(info_write.as_raw_fd().to_string())
        .arg("--as-pid-1")
        .arg("--ro-bind-fd")
        .arg(binary.as_raw_fd().to_string())
        .arg("/.launcher")
        .args(process::bwrap_args(&mounts))
        .arg("/.launcher")
        .arg("sandbox-launcher")
        .arg(theirs.as_raw_fd().to_string())
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let uid = recipe.uid;
    let limits = recipe.limits;
    // SAFETY: between fork and exec the closure only makes system calls (fcntl, prctl,
    // setgroups, setresgid, setresuid, setrlimit), which are async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            for fd in inherited {
                if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            process::become_slot(uid, &limits, HOLDER_PROCESSES + limits.processes)
        });
    }
    command
}

/// Why a warm run did not give an answer.
#[derive(Debug)]
pub enum Broken {
    /// The sandbox was gone before the program started: nothing ran, and the run can be asked
    /// of a new sandbox.
    BeforeStart(String),
    /// The sandbox ended while the program ran (it is given up).
    DuringRun(Execution),
}

/// One slot's warm sandbox.
pub struct Holder {
    bwrap: std::process::Child,
    control: OwnedFd,
    /// The launcher's host pid and a pidfd on it, to reap it when the sandbox is given up.
    launcher: Option<(i32, OwnedFd)>,
    /// The session whose files are in the slot's directories.
    pub filled_for: Option<PathBuf>,
    /// The size of its `/work` and `/dev/shm`.
    pub scratch_bytes: u64,
    usable: bool,
}

/// What starting a sandbox needs.
pub struct Recipe<'a> {
    pub bwrap: &'a Path,
    pub launcher: &'a Path,
    pub uid: u32,
    pub dirs: &'a SlotDirs,
    pub scratch_bytes: u64,
    pub limits: RunLimits,
}

impl Holder {
    /// Builds the slot's sandbox and waits for the launcher's greeting.
    pub fn start(recipe: &Recipe<'_>) -> std::io::Result<Holder> {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        let binary = nix::fcntl::open(
            recipe.launcher,
            OFlag::O_PATH | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )?;
        let (info_read, info_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        let command = holder_command(recipe, &theirs, &binary, &info_write);
        let mut bwrap = spawn_on_keeper(command)?;
        drop(theirs);
        drop(binary);
        drop(info_write);
        let mut holder = Holder {
            bwrap: match bwrap.try_wait() {
                Ok(None) => bwrap,
                _ => return Err(failed_start(&mut bwrap, "bubblewrap ended at once")),
            },
            control: ours,
            launcher: None,
            filled_for: None,
            scratch_bytes: recipe.scratch_bytes,
            usable: true,
        };
        set_receive_timeout(&holder.control, GREETING)?;
        let mut hello = [0u8; 8];
        match recv(holder.control.as_raw_fd(), &mut hello, MsgFlags::empty()) {
            Ok(4) if &hello[..4] == launcher::HELLO => {}
            _ => {
                holder.usable = false;
                return Err(failed_start(
                    &mut holder.bwrap,
                    "the launcher did not greet",
                ));
            }
        }
        holder.launcher = launcher_pid(info_read);
        // From here on the socket is read through the async runtime of each run.
        nix::fcntl::fcntl(
            &holder.control,
            nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK),
        )?;
        Ok(holder)
    }

    /// The host pids of the sandbox's own processes (bubblewrap's and the launcher's).
    pub fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.bwrap.id()];
        pids.extend(self.launcher.as_ref().map(|(pid, _)| *pid as u32));
        pids
    }

    pub fn usable(&self) -> bool {
        self.usable
    }

    /// Runs `argv` with `stdin` under `limits` (whose process count is the program's own).
    pub async fn run(
        &mut self,
        argv: &[&str],
        stdin: &[u8],
        limits: &RunLimits,
    ) -> Result<Execution, Broken> {
        let pipes = || -> std::io::Result<_> {
            let (in_read, in_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
            let (out_read, out_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
            let (err_read, err_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
            Ok((
                [in_read, out_write, err_write],
                [in_write, out_read, err_read],
            ))
        };
        let (theirs, [in_write, out_read, err_read]) =
            pipes().map_err(|e| Broken::BeforeStart(format!("pipes: {e}")))?;
        let request = launcher::encode_request(
            &Limits {
                cpu_seconds: limits.cpu.as_secs().max(1),
                memory_bytes: limits.memory_bytes,
                processes: limits.processes + HOLDER_PROCESSES,
                file_bytes: limits.file_bytes,
                open_files: limits.open_files,
                wall_ms: limits.wall.as_millis() as u64,
            },
            argv,
        );
        let started = Instant::now();
        let raw: Vec<RawFd> = theirs.iter().map(|fd| fd.as_raw_fd()).collect();
        let sent = sendmsg::<()>(
            self.control.as_raw_fd(),
            &[std::io::IoSlice::new(&request)],
            &[ControlMessage::ScmRights(&raw)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        );
        drop(theirs);
        if let Err(e) = sent {
            self.usable = false;
            return Err(Broken::BeforeStart(format!("the launcher is gone ({e})")));
        }
        self.collect(started, in_write, out_read, err_read, stdin, limits)
            .await
    }

    /// Feeds the program, reads its output and the launcher's answers.
    async fn collect(
        &mut self,
        started: Instant,
        in_write: OwnedFd,
        out_read: OwnedFd,
        err_read: OwnedFd,
        stdin: &[u8],
        limits: &RunLimits,
    ) -> Result<Execution, Broken> {
        let streams = || -> std::io::Result<_> {
            Ok((
                tokio::net::unix::pipe::Sender::from_owned_fd(in_write)?,
                tokio::net::unix::pipe::Receiver::from_owned_fd(out_read)?,
                tokio::net::unix::pipe::Receiver::from_owned_fd(err_read)?,
            ))
        };
        let (mut input, output, errors) = match streams() {
            Ok(s) => s,
            Err(e) => {
                // The request is out: the sandbox cannot be trusted to be idle now.
                self.give_up();
                return Err(Broken::BeforeStart(format!("pipes: {e}")));
            }
        };
        let stdin = stdin.to_vec();
        let feed = async move {
            // A program that exits without reading its input closes the pipe: not an error.
            let _ = input.write_all(&stdin).await;
            drop(input);
        };
        let control = self
            .control
            .try_clone()
            .and_then(|fd| {
                // SAFETY: the AsyncFd owns this duplicate of the socket, which stays open (and
                // the same) until the run's end drops it.
                unsafe {
                    tokio::io::unix::AsyncFd::register_with_interest(
                        fd,
                        tokio::io::Interest::READABLE,
                    )
                }
                .map_err(std::io::Error::from)
            })
            .map_err(|e| Broken::BeforeStart(format!("control socket: {e}")))?;
        // The answers are read once the output has ended (the launcher answers `DONE` only
        // after everything in the sandbox is gone, so the output always ends): both are then
        // read on one wake-up rather than one each.
        let deadline = limits.wall + ANSWER_GRACE;
        let output_ended = async {
            let (_, stdout, stderr) = tokio::join!(
                feed,
                process::capture(output, limits.output_bytes),
                process::capture(errors, limits.output_bytes),
            );
            (stdout, stderr)
        };
        let (stdout, stderr, answer) = match tokio::time::timeout(deadline, output_ended).await {
            Ok((stdout, stderr)) => {
                let left = deadline.saturating_sub(started.elapsed());
                (stdout, stderr, await_answers(&control, left).await)
            }
            Err(_) => (
                Captured::default(),
                Captured::default(),
                Answer::Silent { started: true },
            ),
        };
        self.conclude(answer, stdout, stderr, started.elapsed(), limits)
    }

    /// The run's result from the launcher's answer (or its silence).
    fn conclude(
        &mut self,
        answer: Answer,
        stdout: Captured,
        stderr: Captured,
        elapsed: Duration,
        limits: &RunLimits,
    ) -> Result<Execution, Broken> {
        let execution = |ending| Execution {
            ending,
            stdout: stdout.clone(),
            stderr: stderr.clone(),
            elapsed,
        };
        match answer {
            Answer::Done(outcome) => {
                if outcome.retiring {
                    self.give_up();
                }
                Ok(execution(ending_of(&outcome)))
            }
            Answer::Silent { started: false } => {
                self.give_up();
                Err(Broken::BeforeStart("the launcher did not answer".into()))
            }
            Answer::Silent { started: true } => {
                // The program outlived its wall clock with the launcher unable to stop it (or
                // the sandbox ended under it): the whole sandbox goes.
                self.give_up();
                let ending = if elapsed >= limits.wall {
                    Ending::WallLimit
                } else {
                    Ending::Signalled(libc::SIGKILL)
                };
                Err(Broken::DuringRun(Execution {
                    stdout: Captured::default(),
                    stderr: Captured::default(),
                    ..execution(ending)
                }))
            }
        }
    }

    /// Ends the sandbox (its processes die with bubblewrap) and reaps what is left of it.
    pub fn give_up(&mut self) {
        if !self.usable && self.launcher.is_none() {
            return;
        }
        self.usable = false;
        let _ = self.bwrap.kill();
        let _ = self.bwrap.wait();
        if let Some((_, pidfd)) = self.launcher.take() {
            // SAFETY: pidfd_send_signal reads the descriptor and takes no siginfo.
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    pidfd.as_raw_fd(),
                    libc::SIGKILL,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                );
            }
            // After bubblewrap's outer process is reaped the launcher is this process's child
            // (it is the sandboxes' subreaper), or already gone.
            process::reap(&pidfd);
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.give_up();
    }
}

enum Answer {
    Done(Outcome),
    /// No answer within the deadline, or the socket closed; `started` if `STRT` came.
    Silent {
        started: bool,
    },
}

/// Reads `STRT` then `DONE` from the launcher, for at most `deadline` in all.
async fn await_answers(control: &tokio::io::unix::AsyncFd<OwnedFd>, deadline: Duration) -> Answer {
    let mut started = false;
    let mut buffer = [0u8; 64];
    let answers = async {
        loop {
            let Ok(mut ready) = control.readable().await else {
                return None;
            };
            let received = ready.try_io(|fd| {
                recv(fd.as_raw_fd(), &mut buffer, MsgFlags::empty()).map_err(std::io::Error::from)
            });
            match received {
                // Not readable after all: wait again.
                Err(_) => continue,
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Ok(Ok(4)) if &buffer[..4] == launcher::STARTED => started = true,
                Ok(Ok(n)) if n > 0 => return launcher::decode_outcome(&buffer[..n]),
                // End of file (the launcher is gone) or an error.
                Ok(_) => return None,
            }
        }
    };
    match tokio::time::timeout(deadline, answers).await {
        Ok(Some(outcome)) => Answer::Done(outcome),
        _ => Answer::Silent { started },
    }
}

fn set_receive_timeout(socket: &OwnedFd, timeout: Duration) -> std::io::Result<()> {
    let time =
        nix::sys::time::TimeVal::new(timeout.as_secs() as _, timeout.subsec_micros().max(1) as _);
    nix::sys::socket::setsockopt(
        &socket.as_fd(),
        nix::sys::socket::sockopt::ReceiveTimeout,
        &time,
    )?;
    Ok(())
}

fn ending_of(outcome: &Outcome) -> Ending {
    if outcome.wall_killed {
        return Ending::WallLimit;
    }
    match (outcome.exited, outcome.value) {
        (true, code) => Ending::Exited(code),
        (false, s) if s == libc::SIGXCPU => Ending::CpuLimit,
        (false, s) => Ending::Signalled(s),
    }
}

/// bubblewrap's stderr and `what`, as an error.
fn failed_start(bwrap: &mut std::process::Child, what: &str) -> std::io::Error {
    let _ = bwrap.kill();
    let mut said = String::new();
    if let Some(mut stderr) = bwrap.stderr.take() {
        let _ = stderr.read_to_string(&mut said);
    }
    let _ = bwrap.wait();
    std::io::Error::other(format!("{what}: {}", said.trim()))
}

/// The launcher's host pid (bubblewrap writes it to the info pipe) and a pidfd on it.
fn launcher_pid(info: OwnedFd) -> Option<(i32, OwnedFd)> {
    // bubblewrap wrote its info before the launcher greeted.
    let pid = process::info_child_pid(info)?;
    Some((pid, process::pidfd(pid)?))
}

/// Spawns `command` from a thread that lives as long as the process: a warm sandbox dies with
/// the thread that started it (`PR_SET_PDEATHSIG`, which bubblewrap's `--die-with-parent`
/// uses, follows the parent thread), and async runtimes' threads come and go.
fn spawn_on_keeper(command: std::process::Command) -> std::io::Result<std::process::Child> {
    type Order = (
        std::process::Command,
        std::sync::mpsc::Sender<std::io::Result<std::process::Child>>,
    );
    static KEEPER: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Order>>> =
        std::sync::OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (orders, inbox) = std::sync::mpsc::channel::<Order>();
        std::thread::Builder::new()
            .name("sandbox-keeper".into())
            .spawn(move || {
                for (mut command, reply) in inbox {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("the sandbox keeper thread starts");
        std::sync::Mutex::new(orders)
    });
    let (reply, answer) = std::sync::mpsc::channel();
    keeper
        .lock()
        .expect("sandbox keeper")
        .send((command, reply))
        .map_err(|_| std::io::Error::other("the sandbox keeper thread is gone"))?;
    answer
        .recv()
        .map_err(|_| std::io::Error::other("the sandbox keeper thread is gone"))?
}
