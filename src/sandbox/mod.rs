//! Runs candidates' code: every compilation and run happens inside bubblewrap, under a slot's
//! own unprivileged uid and kernel limits ([`process`]); runs reuse a sandbox each slot keeps
//! built ([`warm`], with the [`launcher`] as its pid 1). A [`Sandbox`] knows whether this
//! machine can run code at all (bubblewrap present, the server allowed to switch uid), which
//! languages it has ([`languages`]), and hands out slots first come, first served; a
//! [`Session`] holds one slot for one piece of code: written once, compiled once, run as often
//! as its caller needs (custom input, each test case).

pub mod judge;
pub mod languages;
pub mod launcher;
pub mod process;
pub mod warm;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::{RunLimits, SandboxTuning};
pub use languages::{LanguageSpec, Runtime};
pub use process::{Captured, Ending, Execution};

/// Why code cannot run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SandboxError {
    /// The machine cannot run candidates' code at all.
    #[error("Running code is unavailable on this server: {0}")]
    Unavailable(String),
    /// The question's language has no toolchain here.
    #[error("{0}")]
    Language(String),
    /// Preparing or starting the sandbox failed (logged with its cause).
    #[error("The sandbox could not start the program: {0}")]
    Failed(String),
}

/// The machine's sandbox: what it can run and the slots to run it in. Cheap to clone.
#[derive(Clone)]
pub struct Sandbox(Arc<Inner>);

struct Inner {
    tuning: SandboxTuning,
    readiness: Result<Ready, String>,
    slots: Arc<Slots>,
    /// The binary whose `sandbox-launcher` command warm sandboxes run, when there is one.
    launcher: Option<&'static Path>,
    /// Each slot's warm sandbox, by uid (out of the map while a run uses it).
    holders: Arc<Mutex<HashMap<u32, warm::Holder>>>,
}

struct Ready {
    bwrap_version: String,
    runtimes: Vec<Runtime>,
    missing: Vec<(&'static LanguageSpec, String)>,
}

/// The slots: a fair semaphore (waiters are served in arrival order) and the uids not in use.
struct Slots {
    permits: Arc<Semaphore>,
    free: Mutex<Vec<u32>>,
}

impl Sandbox {
    /// The sandbox `tuning` describes. What the machine has is looked for once per process, as
    /// are the slots: every part of one process shares them, so a uid is never used twice at
    /// once.
    pub fn new(tuning: &SandboxTuning) -> Sandbox {
        static READINESS: OnceLock<Result<(String, languages::Detected), String>> = OnceLock::new();
        static SLOTS: OnceLock<Arc<Slots>> = OnceLock::new();
        static LAUNCHER: OnceLock<Option<PathBuf>> = OnceLock::new();
        static HOLDERS: OnceLock<Arc<Mutex<HashMap<u32, warm::Holder>>>> = OnceLock::new();
        let found = READINESS.get_or_init(|| readiness(&tuning.bwrap));
        let readiness = match found {
            Ok((version, detected)) => Ok(Ready {
                bwrap_version: version.clone(),
                runtimes: detected.runtimes.clone(),
                missing: detected.missing.clone(),
            }),
            Err(why) => Err(why.clone()),
        };
        let slots = SLOTS
            .get_or_init(|| {
                Arc::new(Slots {
                    permits: Arc::new(Semaphore::new(tuning.slots)),
                    free: Mutex::new(
                        (0..tuning.slots as u32)
                            .rev()
                            .map(|n| tuning.first_uid + n)
                            .collect(),
                    ),
                })
            })
            .clone();
        let launcher = if tuning.warm {
            LAUNCHER.get_or_init(find_launcher).as_deref()
        } else {
            None
        };
        Sandbox(Arc::new(Inner {
            tuning: tuning.clone(),
            readiness,
            slots,
            launcher,
            holders: HOLDERS.get_or_init(Default::default).clone(),
        }))
    }

    /// The host pids of the warm sandboxes' own processes (bubblewrap's and each launcher's),
    /// which run under the slots' uids between runs.
    pub fn resident_pids(&self) -> Vec<u32> {
        self.0
            .holders
            .lock()
            .expect("holders")
            .values()
            .flat_map(|h| h.pids())
            .collect()
    }

    /// Whether runs reuse a sandbox kept warm per slot (else each run builds its own).
    pub fn warm(&self) -> bool {
        self.0.launcher.is_some()
    }

    /// Why no code can run here, if it cannot.
    pub fn unavailable(&self) -> Option<&str> {
        self.0.readiness.as_ref().err().map(String::as_str)
    }

    /// bubblewrap's version, when it is usable.
    pub fn bwrap_version(&self) -> Option<&str> {
        self.0
            .readiness
            .as_ref()
            .ok()
            .map(|r| r.bwrap_version.as_str())
    }

    /// The languages this machine runs, with their versions.
    pub fn runtimes(&self) -> &[Runtime] {
        self.0
            .readiness
            .as_ref()
            .map(|r| r.runtimes.as_slice())
            .unwrap_or(&[])
    }

    /// Declared languages this machine lacks, with the reason (none when nothing can run:
    /// [`Sandbox::unavailable`] says why).
    pub fn missing(&self) -> &[(&'static LanguageSpec, String)] {
        self.0
            .readiness
            .as_ref()
            .map(|r| r.missing.as_slice())
            .unwrap_or(&[])
    }

    pub fn tuning(&self) -> &SandboxTuning {
        &self.0.tuning
    }

    /// Whether code in `language` (a question's language) can run here; `Err` says why not.
    pub fn can_run(&self, language: &str) -> Result<&Runtime, SandboxError> {
        if let Some(why) = self.unavailable() {
            return Err(SandboxError::Unavailable(why.to_owned()));
        }
        if let Some(runtime) = self.runtimes().iter().find(|r| r.spec.key == language) {
            return Ok(runtime);
        }
        Err(SandboxError::Language(match languages::spec(language) {
            Some(spec) => format!(
                "{} code cannot run on this server: its toolchain (`{}`) is not installed.",
                spec.name, spec.binary
            ),
            None => format!(
                "Code in this language ({language}) cannot be run: leverbridge runs {}.",
                languages::LANGUAGES
                    .iter()
                    .map(|l| l.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }))
    }

    /// Says in the log what can run here, or why nothing can (`serve` and `worker` start
    /// either way; Run is then unavailable and grading waits).
    pub fn announce(&self) {
        match self.unavailable() {
            Some(why) => {
                tracing::warn!(reason = %why, "candidates' code cannot run: Run is unavailable and grading waits")
            }
            None => {
                let languages: Vec<String> = self
                    .runtimes()
                    .iter()
                    .map(|r| format!("{} ({})", r.spec.name, r.version))
                    .collect();
                tracing::info!(
                    bubblewrap = self.bwrap_version().unwrap_or(""),
                    slots = self.0.tuning.slots,
                    warm = self.warm(),
                    languages = %languages.join(", "),
                    "the sandbox runs candidates' code"
                );
            }
        }
    }

    /// Waits for a slot (first come, first served) and writes `code` for `language` into a
    /// fresh workspace.
    pub async fn session(&self, language: &str, code: &str) -> Result<Session, SandboxError> {
        let runtime = self.can_run(language)?.clone();
        let permit = self
            .0
            .slots
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| SandboxError::Failed("the sandbox is shutting down".into()))?;
        let uid = self
            .0
            .slots
            .free
            .lock()
            .expect("slot list")
            .pop()
            .expect("a permit means a free uid");
        let slot = Slot {
            uid,
            slots: self.0.slots.clone(),
            _permit: permit,
        };
        let workspace = Workspace::create(uid, runtime.spec, code).map_err(|e| {
            tracing::error!(error = %e, "could not prepare a sandbox workspace");
            SandboxError::Failed("its working directory could not be prepared (logged)".into())
        })?;
        Ok(Session {
            sandbox: self.clone(),
            runtime,
            slot,
            workspace,
            compiled: None,
        })
    }
}

/// Whether bubblewrap can run here, and the languages found.
fn readiness(bwrap: &Path) -> Result<(String, languages::Detected), String> {
    if !bwrap.exists() {
        return Err(format!(
            "bubblewrap is not installed ({} is missing). Install it (Debian and Ubuntu: apt-get install bubblewrap) and restart leverbridge.",
            bwrap.display()
        ));
    }
    if !nix::unistd::geteuid().is_root() {
        return Err("leverbridge is not running as root, so it cannot run each sandbox slot under its own unprivileged uid. Run the service as root (it gives up root for every program it runs).".into());
    }
    let output = std::process::Command::new(bwrap)
        .arg("--version")
        .output()
        .map_err(|e| format!("{} could not be run: {e}", bwrap.display()))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    process::become_subreaper()
        .map_err(|e| format!("leverbridge could not become the subreaper of its sandboxes: {e}"))?;
    let detected = languages::detect();
    Ok((version, detected))
}

/// The `leverbridge` binary, whose `sandbox-launcher` command is a warm sandbox's pid 1: this
/// process's own executable when it is `leverbridge`, else a `leverbridge` beside it or one
/// directory up (where cargo puts the binary next to the tests and benches that use the
/// library). Without one, each run builds a sandbox of its own.
fn find_launcher() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    if exe.file_name().is_some_and(|n| n == "leverbridge") {
        return Some(exe);
    }
    let found = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("leverbridge"))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        tracing::info!(
            "no leverbridge binary beside this program: each run builds a sandbox of its own"
        );
    }
    found
}

/// One slot: its uid, returned to the pool when the session ends.
struct Slot {
    uid: u32,
    slots: Arc<Slots>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.free.lock().expect("slot list").push(self.uid);
    }
}

/// The host directories a session's code and build live in, removed when it ends.
struct Workspace {
    root: PathBuf,
}

impl Workspace {
    fn create(uid: u32, spec: &LanguageSpec, code: &str) -> std::io::Result<Workspace> {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::temp_dir().join("leverbridge-sandbox");
        std::fs::create_dir_all(&base)?;
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o711))?;
        let root = base.join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir(&root)?;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o711))?;
        let workspace = Workspace { root };
        let src = workspace.src();
        std::fs::create_dir(&src)?;
        std::fs::write(src.join(spec.file), code)?;
        std::fs::set_permissions(src.join(spec.file), std::fs::Permissions::from_mode(0o644))?;
        std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o755))?;
        let build = workspace.build();
        std::fs::create_dir(&build)?;
        std::fs::set_permissions(&build, std::fs::Permissions::from_mode(0o700))?;
        nix::unistd::chown(
            &build,
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(uid)),
        )?;
        Ok(workspace)
    }

    fn src(&self) -> PathBuf {
        self.root.join("src")
    }

    fn build(&self) -> PathBuf {
        self.root.join("build")
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Drop for Session {
    /// The session's code leaves the slot's directories before the slot is handed on.
    fn drop(&mut self) {
        if self.sandbox.0.launcher.is_none() {
            return;
        }
        let uid = self.slot.uid;
        if let Some(holder) = self
            .sandbox
            .0
            .holders
            .lock()
            .expect("holders")
            .get_mut(&uid)
        {
            holder.filled_for = None;
        }
        let _ = warm::SlotDirs::at(uid).clear();
    }
}

/// One piece of code in one slot: compiled at most once, then run as often as needed.
pub struct Session {
    sandbox: Sandbox,
    runtime: Runtime,
    slot: Slot,
    workspace: Workspace,
    compiled: Option<Result<(), Execution>>,
}

impl Session {
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Compiles the code if its language is compiled (once): `Err` holds the failed
    /// compilation, whose output says why.
    pub async fn compile(&mut self) -> Result<Result<(), Execution>, SandboxError> {
        if let Some(done) = &self.compiled {
            return Ok(done.clone());
        }
        let outcome = match self.runtime.spec.compile {
            None => Ok(()),
            Some(command) => {
                let limits = self.sandbox.tuning().compile;
                let execution = self.execute(command, b"", &limits, true).await?;
                if execution.succeeded() {
                    Ok(())
                } else {
                    Err(execution)
                }
            }
        };
        self.compiled = Some(outcome.clone());
        Ok(outcome)
    }

    /// The limits of one run in this language, with an optional time limit of its own (a test
    /// case's) in place of the base CPU limit.
    pub fn run_limits(&self, time_limit: Option<std::time::Duration>) -> RunLimits {
        let base = self.sandbox.tuning().run;
        let spec = self.runtime.spec;
        let cpu = time_limit.unwrap_or(base.cpu) * spec.time_multiplier;
        RunLimits {
            cpu,
            wall: (base.wall * spec.time_multiplier).max(cpu * 2),
            memory_bytes: base.memory_bytes * spec.memory_multiplier,
            ..base
        }
    }

    /// Runs the (compiled) program once with `stdin`. Call [`Session::compile`] first.
    ///
    /// The run goes to the slot's warm sandbox when this process has one (built on first use,
    /// and again whenever a run left it unusable); if a warm sandbox cannot be built, the run
    /// gets a sandbox of its own, as a compilation does.
    pub async fn run(&self, stdin: &[u8], limits: &RunLimits) -> Result<Execution, SandboxError> {
        if let Some(launcher) = self.sandbox.0.launcher {
            match self.run_warm(launcher, stdin, limits).await {
                Ok(execution) => return Ok(execution),
                Err(why) => {
                    static SAID: std::sync::atomic::AtomicBool =
                        std::sync::atomic::AtomicBool::new(false);
                    if !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        tracing::warn!(reason = %why, "a warm sandbox could not run a program: this run (and any other that meets this) builds its own sandbox");
                    }
                }
            }
        }
        self.execute(self.runtime.spec.run, stdin, limits, false)
            .await
    }

    /// One run in the slot's warm sandbox; `Err` says why none could be used (nothing ran).
    async fn run_warm(
        &self,
        launcher: &'static Path,
        stdin: &[u8],
        limits: &RunLimits,
    ) -> Result<Execution, String> {
        let uid = self.slot.uid;
        let tuning = self.sandbox.tuning();
        let mut last = String::new();
        // A sandbox found gone before the program started is replaced once.
        for _ in 0..2 {
            let held = self.sandbox.0.holders.lock().expect("holders").remove(&uid);
            let mut holder = match held {
                Some(h) if h.usable() && h.scratch_bytes == tuning.scratch_bytes => h,
                _ => {
                    let (bwrap, scratch, limits) =
                        (tuning.bwrap.clone(), tuning.scratch_bytes, tuning.compile);
                    tokio::task::spawn_blocking(move || {
                        let dirs = warm::SlotDirs::prepare(uid)?;
                        warm::Holder::start(&warm::Recipe {
                            bwrap: &bwrap,
                            launcher,
                            uid,
                            dirs: &dirs,
                            scratch_bytes: scratch,
                            limits: RunLimits {
                                // The launcher lives across runs: its own CPU is not capped.
                                cpu: std::time::Duration::from_secs(u32::MAX as u64),
                                ..limits
                            },
                        })
                    })
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?
                }
            };
            let root = self.workspace.root.clone();
            if holder.filled_for.as_ref() != Some(&root) {
                warm::SlotDirs::at(uid)
                    .fill(&self.workspace.src(), &self.workspace.build())
                    .map_err(|e| format!("the slot's directories could not be filled: {e}"))?;
                holder.filled_for = Some(root);
            }
            let outcome = holder.run(self.runtime.spec.run, stdin, limits).await;
            if holder.usable() {
                self.sandbox
                    .0
                    .holders
                    .lock()
                    .expect("holders")
                    .insert(uid, holder);
            }
            match outcome {
                Ok(execution) | Err(warm::Broken::DuringRun(execution)) => return Ok(execution),
                Err(warm::Broken::BeforeStart(why)) => last = why,
            }
        }
        Err(last)
    }

    async fn execute(
        &self,
        command: &[&str],
        stdin: &[u8],
        limits: &RunLimits,
        compiling: bool,
    ) -> Result<Execution, SandboxError> {
        let mounts = process::Mounts {
            src: &self.workspace.src(),
            build: &self.workspace.build(),
            build_writable: compiling,
            scratch_bytes: self.sandbox.tuning().scratch_bytes,
        };
        process::execute(
            &self.sandbox.tuning().bwrap,
            &mounts,
            self.slot.uid,
            command,
            stdin,
            limits,
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "could not start bubblewrap");
            SandboxError::Failed(format!("bubblewrap did not start ({e})"))
        })
    }

    /// The uid this session's programs run as (the tests look for leftovers under it).
    pub fn uid(&self) -> u32 {
        self.slot.uid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_bubblewrap_nothing_runs_and_the_reason_says_how_to_install_it() {
        let why = readiness(Path::new("/nonexistent/bwrap")).unwrap_err();
        assert!(why.contains("bubblewrap is not installed"), "{why}");
        assert!(why.contains("apt-get install bubblewrap"), "{why}");
    }
}
