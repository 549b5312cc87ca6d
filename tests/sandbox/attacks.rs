//! One test per attack a candidate's program could try. Each runs the real sandbox, checks the
//! server (this test process) is unharmed and that the result says what happened.
//!
//! Tests that look for processes left under the slots' uids, or bound how long a run took,
//! hold the sandbox alone ([`exclusive`]); the others share it ([`shared`]).

use std::net::TcpListener;
use std::time::{Duration, Instant};

use leverbridge::config::SandboxTuning;
use leverbridge::sandbox::judge::{self, RunResult};
use leverbridge::sandbox::Sandbox;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::{sandbox, sandbox_with, tight};

static SANDBOX_USE: RwLock<()> = RwLock::const_new(());

/// Runs alongside other sharing tests.
pub async fn shared() -> RwLockReadGuard<'static, ()> {
    SANDBOX_USE.read().await
}

/// Runs with no other test in the sandbox: the slots' uids are this test's alone.
pub async fn exclusive() -> RwLockWriteGuard<'static, ()> {
    SANDBOX_USE.write().await
}

/// The tight sandbox, or `None` when the machine has none (see [`sandbox_with`]).
pub fn tight_sandbox() -> Option<(Sandbox, SandboxTuning)> {
    let tuning = tight();
    sandbox_with(&tuning).map(|s| (s, tuning))
}

/// Processes (not zombies) whose real, effective or saved uid is one of the slots', other than
/// the warm sandboxes' own (bubblewrap and its launcher, which wait for the next run): "pid
/// name uid" for each.
pub fn slot_processes(sandbox: &Sandbox, tuning: &SandboxTuning) -> Vec<String> {
    let slots = tuning.first_uid..tuning.first_uid + tuning.slots as u32;
    let resident = sandbox.resident_pids();
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        panic!("/proc is unreadable");
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if resident.iter().any(|r| r.to_string() == pid) || !crate::processes::descends_from_us(pid)
        {
            continue;
        }
        // A process may end between the listing and the read.
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        if field("State:").starts_with('Z') {
            continue;
        }
        let uids: Vec<u32> = field("Uid:")
            .split_whitespace()
            .take(3)
            .filter_map(|u| u.parse().ok())
            .collect();
        if let Some(uid) = uids.iter().find(|u| slots.contains(u)) {
            found.push(format!("{pid} {} uid {uid}", field("Name:")));
        }
    }
    found
}

/// Asserts nothing runs under a slot's uid once the sandbox has returned.
fn assert_nothing_left(sandbox: &Sandbox, tuning: &SandboxTuning, after: &str) {
    let left = slot_processes(sandbox, tuning);
    assert!(
        left.is_empty(),
        "after {after}, processes still run under the slots' uids: {left:?}"
    );
}

pub async fn run(sandbox: &Sandbox, language: &str, code: &str) -> RunResult {
    judge::run_code(sandbox, language, code, "")
        .await
        .unwrap_or_else(|e| panic!("{language} did not run: {e}"))
}

/// Everything the program printed, for looking for what must not be there.
fn printed(result: &RunResult) -> String {
    format!("{}\n{}\n{}", result.stdout, result.stderr, result.ending)
}

#[tokio::test]
async fn a_fork_bomb_is_contained_and_leaves_nothing_running() {
    let Some((sandbox, tuning)) = tight_sandbox() else {
        return;
    };
    let _alone = exclusive().await;
    let python = "import os\n\
                  forks = 0\n\
                  while True:\n\
                  \x20   try:\n\
                  \x20       os.fork()\n\
                  \x20       forks += 1\n\
                  \x20   except OSError as e:\n\
                  \x20       print('fork refused', e.errno, flush=True)\n\
                  \x20       break\n";
    let result = run(&sandbox, "python", python).await;
    assert!(
        result.stdout.contains("fork refused 11"),
        "the process limit refuses fork with EAGAIN: {result:?}"
    );
    assert_nothing_left(&sandbox, &tuning, "a Python fork bomb");

    let shell = "import subprocess\n\
                 subprocess.run(['bash', '-c', ':(){ :|:& };:'])\n\
                 print('bomb returned', flush=True)\n";
    let started = Instant::now();
    let result = run(&sandbox, "python", shell).await;
    assert!(
        matches!(
            result.status.as_str(),
            "ok" | "time_limit" | "runtime_error"
        ),
        "{result:?}"
    );
    assert!(
        started.elapsed() < tight().run.wall + Duration::from_secs(5),
        "the shell bomb ran for {:?}",
        started.elapsed()
    );
    assert_nothing_left(&sandbox, &tuning, "a shell fork bomb");
}

#[tokio::test]
async fn a_memory_hog_ends_out_of_memory_and_the_server_is_fine() {
    let Some((sandbox, _)) = tight_sandbox() else {
        return;
    };
    let _shared = shared().await;
    let hogs = [
        (
            "python",
            "hoard = []\nwhile True:\n    hoard.append(bytearray(10 ** 7))\n",
        ),
        ("python", "print(len(bytearray(10 ** 11)))\n"),
        (
            "cpp",
            "#include <cstring>\nint main(){ for(;;){ char* p = new char[1 << 20]; std::memset(p, 1, 1 << 20); } }\n",
        ),
    ];
    for (language, code) in hogs {
        let result = run(&sandbox, language, code).await;
        assert_eq!(result.status, "runtime_error", "{language}: {result:?}");
        assert!(
            result.ending.contains("memory"),
            "{language}: the ending says memory ran out: {result:?}"
        );
    }
    // The server still allocates and runs code.
    let after = run(&sandbox, "python", "print(6 * 7)\n").await;
    assert_eq!((after.status.as_str(), after.stdout.trim()), ("ok", "42"));
}

#[tokio::test]
async fn an_infinite_loop_stops_at_the_cpu_limit() {
    let Some((sandbox, tuning)) = tight_sandbox() else {
        return;
    };
    let _shared = shared().await;
    let result = run(&sandbox, "python", "while True:\n    pass\n").await;
    assert_eq!(result.status, "time_limit", "{result:?}");
    assert!(
        result.ending.contains("CPU time limit (1 s)"),
        "{}",
        result.ending
    );
    assert!(
        Duration::from_millis(result.time_ms as u64) < tuning.run.wall,
        "the kernel, not the wall clock, stopped it: {result:?}"
    );
}

#[tokio::test]
async fn sleeping_past_the_wall_clock_is_stopped_there() {
    let Some((sandbox, tuning)) = tight_sandbox() else {
        return;
    };
    let _alone = exclusive().await;
    let started = Instant::now();
    let result = run(&sandbox, "python", "import time\ntime.sleep(60)\n").await;
    let took = started.elapsed();
    assert_eq!(result.status, "time_limit", "{result:?}");
    assert!(
        result.ending.contains("wall-clock limit (3 s)"),
        "{}",
        result.ending
    );
    assert!(
        took < tuning.run.wall + Duration::from_secs(5),
        "returned after {took:?}"
    );
    assert_nothing_left(&sandbox, &tuning, "a program stopped at the wall clock");
}

#[tokio::test]
async fn a_hundred_megabytes_of_output_are_cut_at_64_kb() {
    let Some((sandbox, tuning)) = tight_sandbox() else {
        return;
    };
    let _alone = exclusive().await;
    let code = "import sys\n\
                chunk = b'x' * (1 << 20)\n\
                for _ in range(100):\n\
                \x20   sys.stdout.buffer.write(chunk)\n\
                sys.stdout.flush()\n";
    let started = Instant::now();
    let result = run(&sandbox, "python", code).await;
    let took = started.elapsed();
    assert_eq!(result.stdout.len(), 64 * 1024, "{}", result.ending);
    assert!(result.stdout.bytes().all(|b| b == b'x'));
    assert!(result.stdout_truncated && !result.stderr_truncated);
    assert!(
        result.ending.contains("output truncated"),
        "{}",
        result.ending
    );
    assert!(
        took < tuning.run.wall + Duration::from_secs(5),
        "returned after {took:?}"
    );
}

#[tokio::test]
async fn the_servers_own_port_cannot_be_reached() {
    let Some((sandbox, _)) = tight_sandbox() else {
        return;
    };
    let _shared = shared().await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let code = format!(
        "import socket\n\
         for host in ['127.0.0.1', 'localhost', '10.0.2.2', '1.1.1.1']:\n\
         \x20   try:\n\
         \x20       socket.create_connection((host, {port}), timeout=1)\n\
         \x20       print('CONNECTED', host, flush=True)\n\
         \x20   except OSError as e:\n\
         \x20       print('failed', host, e.errno, flush=True)\n"
    );
    let result = run(&sandbox, "python", &code).await;
    assert!(!result.stdout.contains("CONNECTED"), "{result:?}");
    // 111 ECONNREFUSED (its own loopback), 101 ENETUNREACH (no other network).
    assert!(result.stdout.contains("failed 127.0.0.1 111"), "{result:?}");
    assert!(result.stdout.contains("failed 1.1.1.1 101"), "{result:?}");
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the listener was reached: {other:?}"),
    }
}

#[tokio::test]
async fn the_database_file_cannot_be_read() {
    let Some((sandbox, _)) = tight_sandbox() else {
        return;
    };
    let _shared = shared().await;
    let secret = format!("db-secret-{}", uuid::Uuid::new_v4().simple());
    let in_tmp = tempfile::Builder::new()
        .prefix("leverbridge-db-")
        .suffix(".sqlite3")
        .tempfile()
        .unwrap();
    let in_cwd = tempfile::Builder::new()
        .prefix("leverbridge-db-")
        .suffix(".sqlite3")
        .tempfile_in(std::env::current_dir().unwrap())
        .unwrap();
    for file in [&in_tmp, &in_cwd] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(file.path(), &secret).unwrap();
        // Readable by anyone on the host: only the sandbox keeps it out of reach.
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let paths = [in_tmp.path(), in_cwd.path()];
    let code = format!(
        "for path in {:?}:\n\
         \x20   try:\n\
         \x20       print('READ', open(path).read(), flush=True)\n\
         \x20   except OSError as e:\n\
         \x20       print('cannot read', path, e.errno, flush=True)\n",
        paths.map(|p| p.display().to_string())
    );
    let result = run(&sandbox, "python", &code).await;
    assert!(!printed(&result).contains(&secret), "{result:?}");
    for path in paths {
        assert!(
            result
                .stdout
                .contains(&format!("cannot read {} 2", path.display())),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn shadow_and_the_servers_environment_are_out_of_sight() {
    let Some((sandbox, _)) = tight_sandbox() else {
        return;
    };
    let _shared = shared().await;
    let secret = format!("env-secret-{}", uuid::Uuid::new_v4().simple());
    std::env::set_var("LEVERBRIDGE_SECRET_KEY", &secret);
    let code = "import os\n\
                try:\n\
                \x20   print('SHADOW', open('/etc/shadow').read())\n\
                except OSError as e:\n\
                \x20   print('shadow unreadable', e.errno)\n\
                print('ENVIRON', dict(os.environ))\n\
                for path in ['/proc/self/environ', '/proc/1/environ', '/proc/2/environ']:\n\
                \x20   try:\n\
                \x20       print('FILE', path, open(path, 'rb').read())\n\
                \x20   except OSError as e:\n\
                \x20       print('unreadable', path, e.errno)\n";
    let result = run(&sandbox, "python", code).await;
    assert_eq!(result.status, "ok", "{result:?}");
    assert!(result.stdout.contains("shadow unreadable 2"), "{result:?}");
    assert!(result.stdout.contains("ENVIRON {"), "{result:?}");
    assert!(
        result.stdout.contains("FILE /proc/self/environ"),
        "{result:?}"
    );
    let all = printed(&result);
    assert!(!all.contains(&secret), "{result:?}");
    assert!(!all.contains("LEVERBRIDGE_"), "{result:?}");
}

#[tokio::test]
async fn nothing_outside_the_working_directory_can_be_written() {
    let Some((sandbox, _)) = tight_sandbox() else {
        return;
    };
    let _shared = shared().await;
    let name = format!("leverbridge-escape-{}", uuid::Uuid::new_v4().simple());
    let outside: Vec<String> = ["", "/usr", "/src", "/tmp", "/etc", "/build", "/proc"]
        .iter()
        .map(|dir| format!("{dir}/{name}"))
        .collect();
    let code = format!(
        "import os\n\
         for path in {outside:?} + ['/work/{name}', '{name}']:\n\
         \x20   try:\n\
         \x20       with open(path, 'w') as f:\n\
         \x20           f.write('x')\n\
         \x20       print('wrote', path, flush=True)\n\
         \x20   except OSError as e:\n\
         \x20       print('refused', path, e.errno, flush=True)\n"
    );
    let result = run(&sandbox, "python", &code).await;
    assert_eq!(result.status, "ok", "{result:?}");
    for path in &outside {
        assert!(
            result.stdout.contains(&format!("refused {path} ")),
            "{path}: {result:?}"
        );
        assert!(
            !std::path::Path::new(path).exists(),
            "{path} appeared on the host"
        );
    }
    assert!(
        result.stdout.contains(&format!("wrote /work/{name}")),
        "{result:?}"
    );
    assert!(
        result.stdout.contains(&format!("wrote {name}")),
        "{result:?}"
    );
}

#[tokio::test]
async fn other_processes_cannot_be_killed_or_seen() {
    let Some((sandbox, _)) = tight_sandbox() else {
        return;
    };
    let _shared = shared().await;
    let server = std::process::id();
    let code = format!(
        "import os\n\
         for target in [{server}, 1, -1]:\n\
         \x20   try:\n\
         \x20       os.kill(target, 9)\n\
         \x20       print('kill', target, 'sent', flush=True)\n\
         \x20   except OSError as e:\n\
         \x20       print('kill', target, 'failed', e.errno, flush=True)\n\
         print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), flush=True)\n\
         print('me', os.getpid(), flush=True)\n"
    );
    let result = run(&sandbox, "python", &code).await;
    // The server is alive (this test is still running) and no signal reached it.
    assert!(std::path::Path::new(&format!("/proc/{server}")).exists());
    assert_eq!(
        result.status, "ok",
        "it survived its own kill(-1): {result:?}"
    );
    if server > 16 {
        assert!(
            result.stdout.contains(&format!("kill {server} failed 3")),
            "the server's pid does not exist in its namespace: {result:?}"
        );
    }
    let pids = result
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("pids "))
        .unwrap_or_else(|| panic!("{result:?}"));
    let me = result
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("me "))
        .unwrap_or_else(|| panic!("{result:?}"));
    // Its namespace: bubblewrap's init (1) and the program.
    assert_eq!(pids, format!("[1, {me}]"), "{result:?}");
}

#[tokio::test]
async fn a_child_left_running_is_ended_with_the_program() {
    let Some((sandbox, tuning)) = tight_sandbox() else {
        return;
    };
    let _alone = exclusive().await;
    let leavers = [
        "import subprocess\n\
         subprocess.Popen(['sleep', '1000'], start_new_session=True,\n\
         \x20   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
         print('left a sleeper')\n",
        // Holding stdout open: the run must not wait for it.
        "import subprocess\n\
         subprocess.Popen(['sleep', '1000'], start_new_session=True)\n\
         print('left a sleeper on stdout')\n",
        "import os, time\n\
         if os.fork() == 0:\n\
         \x20   os.setsid()\n\
         \x20   if os.fork() == 0:\n\
         \x20       time.sleep(1000)\n\
         \x20   os._exit(0)\n\
         print('left a daemon')\n",
    ];
    for code in leavers {
        let started = Instant::now();
        let result = run(&sandbox, "python", code).await;
        let took = started.elapsed();
        assert_eq!(result.status, "ok", "{result:?}");
        assert!(result.stdout.starts_with("left a "), "{result:?}");
        assert!(
            took < tuning.run.wall,
            "waited {took:?} for what it left running"
        );
        assert_nothing_left(&sandbox, &tuning, &format!("`{}`", result.stdout.trim()));
    }
}

#[tokio::test]
async fn including_etc_shadow_fails_to_compile_and_shows_none_of_it() {
    let Some((sandbox, _)) = tight_sandbox() else {
        return;
    };
    let _shared = shared().await;
    let code = "#include \"/etc/shadow\"\nint main() { return 0; }\n";
    let result = run(&sandbox, "cpp", code).await;
    assert_eq!(result.status, "compile_error", "{result:?}");
    assert!(result.stderr.contains("/etc/shadow"), "{result:?}");
    let all = printed(&result);
    match std::fs::read_to_string("/etc/shadow") {
        Ok(shadow) => {
            for line in shadow.lines().filter(|l| !l.trim().is_empty()) {
                assert!(!all.contains(line), "a line of /etc/shadow leaked: {line}");
            }
        }
        Err(e) => eprintln!("(the host's /etc/shadow is unreadable here: {e})"),
    }
    assert!(!all.contains("root:"), "{result:?}");
}

#[tokio::test]
async fn cpp_javascript_and_java_run_end_to_end() {
    let Some(sandbox) = sandbox() else { return };
    let _shared = shared().await;
    let programs = [
        (
            "cpp",
            "#include <iostream>\n#include <vector>\nint main(){ std::vector<long> v; long x; while (std::cin >> x) v.push_back(x * x); long s = 0; for (long y : v) s += y; std::cout << s << std::endl; }\n",
        ),
        (
            "javascript",
            "const s = require('fs').readFileSync(0, 'utf8');\nconsole.log(s.trim().split(/\\s+/).map(Number).reduce((a, b) => a + b * b, 0));\n",
        ),
        (
            "java",
            "import java.util.*;\npublic class Main { public static void main(String[] a) { Scanner in = new Scanner(System.in); long s = 0; while (in.hasNextLong()) { long x = in.nextLong(); s += x * x; } System.out.println(s); } }\n",
        ),
    ];
    for (language, code) in programs {
        if sandbox.can_run(language).is_err() {
            eprintln!("\n!!! SKIPPED {language}: its toolchain is not on this machine\n");
            continue;
        }
        let result = judge::run_code(&sandbox, language, code, "1 2 3 4\n")
            .await
            .unwrap_or_else(|e| panic!("{language}: {e}"));
        assert_eq!(
            (
                result.status.as_str(),
                result.stdout.trim(),
                result.exit_code
            ),
            ("ok", "30", Some(0)),
            "{language}: {result:?}"
        );
        assert_eq!(result.ending, "exited with code 0");
    }
}
