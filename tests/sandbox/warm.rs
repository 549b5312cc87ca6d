//! The warm sandbox a slot keeps between runs: a run leaves nothing for the next, and the
//! launcher that starts each program (pid 1 of the sandbox, the program's uid) cannot be read,
//! stopped or retuned by it.

use leverbridge::sandbox::Sandbox;

use crate::attacks::{exclusive, slot_processes, tight_sandbox};

/// Runs `code` twice in one session (so in one slot and one warm sandbox), with `first` and
/// then `second` as input.
async fn twice(sandbox: &Sandbox, code: &str, first: &str, second: &str) -> (String, String) {
    let mut session = sandbox.session("python", code).await.expect("a session");
    session
        .compile()
        .await
        .expect("compiles")
        .expect("compiled");
    let limits = session.run_limits(None);
    let one = session.run(first.as_bytes(), &limits).await.expect("runs");
    let two = session.run(second.as_bytes(), &limits).await.expect("runs");
    (
        format!("{}{}{:?}", one.stdout.text, one.stderr.text, one.ending),
        format!("{}{}{:?}", two.stdout.text, two.stderr.text, two.ending),
    )
}

#[tokio::test]
async fn a_run_leaves_no_file_shared_memory_or_process_for_the_next() {
    let Some((sandbox, tuning)) = tight_sandbox() else {
        return;
    };
    assert!(
        sandbox.warm(),
        "runs use a warm sandbox: the leverbridge binary is built beside the tests"
    );
    let _alone = exclusive().await;
    let code = "import os, sys, ctypes, subprocess\n\
        mode = sys.stdin.read().strip()\n\
        if mode == 'leave':\n\
        \x20   open('/work/left.txt', 'w').write('x')\n\
        \x20   os.makedirs('/work/d/e')\n\
        \x20   os.chmod('/work/d', 0)\n\
        \x20   open('/dev/shm/left', 'w').write('y')\n\
        \x20   libc = ctypes.CDLL(None)\n\
        \x20   print('shmget', libc.shmget(0, 4096, 0o1000 | 0o600) >= 0, flush=True)\n\
        \x20   subprocess.Popen(['sleep', '1000'], start_new_session=True,\n\
        \x20       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
        \x20   try:\n\
        \x20       open('/dev/x', 'w')\n\
        \x20       print('dev written', flush=True)\n\
        \x20   except OSError as e:\n\
        \x20       print('dev refused', e.errno, flush=True)\n\
        \x20   n = 0\n\
        \x20   try:\n\
        \x20       for i in range(200):\n\
        \x20           with open(f'/dev/shm/f{i}', 'wb') as f:\n\
        \x20               f.write(bytes(1 << 20))\n\
        \x20           n += 1\n\
        \x20   except OSError as e:\n\
        \x20       print('shm full', n < 100, e.errno, flush=True)\n\
        else:\n\
        \x20   print('work', sorted(os.listdir('/work')))\n\
        \x20   print('shm', sorted(os.listdir('/dev/shm')))\n\
        \x20   print('sysv', len(open('/proc/sysvipc/shm').read().splitlines()) - 1)\n\
        \x20   print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), os.getpid())\n";
    let (left, looked) = twice(&sandbox, code, "leave", "look").await;
    assert!(
        !sandbox.resident_pids().is_empty(),
        "the slot keeps its sandbox after a run"
    );
    assert!(left.contains("shmget True"), "{left}");
    assert!(left.contains("dev refused 30"), "/dev is read-only: {left}");
    assert!(
        left.contains("shm full True 28"),
        "/dev/shm is capped: {left}"
    );
    assert!(looked.contains("work []"), "{looked}");
    assert!(looked.contains("shm []"), "{looked}");
    assert!(looked.contains("sysv 0"), "{looked}");
    let me = looked
        .lines()
        .find_map(|l| l.strip_prefix("pids "))
        .unwrap_or_else(|| panic!("{looked}"));
    let (pids, pid) = me.rsplit_once(' ').expect("pids and pid");
    assert_eq!(
        pids,
        format!("[1, {pid}]"),
        "only the launcher and the program: {looked}"
    );
    let left_running = slot_processes(&sandbox, &tuning);
    assert!(left_running.is_empty(), "{left_running:?}");
}

#[tokio::test]
async fn the_launcher_cannot_be_read_stopped_or_retuned_by_the_program() {
    let Some((sandbox, tuning)) = tight_sandbox() else {
        return;
    };
    let _alone = exclusive().await;
    let code = "import os, sys, signal, resource\n\
        if sys.stdin.read().strip() == 'attack':\n\
        \x20   for what in ['environ', 'mem', 'maps', 'fd']:\n\
        \x20       try:\n\
        \x20           if what == 'fd':\n\
        \x20               os.listdir('/proc/1/fd')\n\
        \x20           else:\n\
        \x20               open('/proc/1/' + what, 'rb').read(64)\n\
        \x20           print(what, 'read', flush=True)\n\
        \x20       except OSError as e:\n\
        \x20           print(what, 'refused', flush=True)\n\
        \x20   for s in [signal.SIGSTOP, signal.SIGKILL, signal.SIGTERM]:\n\
        \x20       os.kill(1, s)\n\
        \x20   print('signalled', flush=True)\n\
        \x20   resource.prlimit(1, resource.RLIMIT_NOFILE, (4, 4))\n\
        \x20   os.setpriority(os.PRIO_PROCESS, 1, 19)\n\
        \x20   print('retuned', flush=True)\n\
        else:\n\
        \x20   print('files', resource.getrlimit(resource.RLIMIT_NOFILE), 'nice', os.getpriority(os.PRIO_PROCESS, 0))\n";
    let (attacked, after) = twice(&sandbox, code, "attack", "check").await;
    for what in ["environ", "mem", "maps", "fd"] {
        assert!(
            attacked.contains(&format!("{what} refused")),
            "/proc/1/{what} is closed to the program: {attacked}"
        );
    }
    // SIGSTOP and SIGKILL did not reach the launcher: the run ended normally.
    assert!(attacked.contains("retuned"), "{attacked}");
    assert!(attacked.ends_with("Exited(0)"), "{attacked}");
    // The retuned launcher was given up: the next run has a new sandbox, with its own limits
    // (a launcher left at 4 files could not have given the program 64) and priority.
    let open_files = tuning.run.open_files;
    assert!(
        after.contains(&format!("files ({open_files}, {open_files}) nice 0")),
        "{after}"
    );
    let left_running = slot_processes(&sandbox, &tuning);
    assert!(left_running.is_empty(), "{left_running:?}");
}

#[tokio::test]
async fn without_warm_sandboxes_each_run_builds_its_own() {
    let Some((_, mut tuning)) = tight_sandbox() else {
        return;
    };
    tuning.warm = false;
    let sandbox = Sandbox::new(&tuning);
    assert!(!sandbox.warm());
    let _alone = exclusive().await;
    let result = crate::attacks::run(
        &sandbox,
        "python",
        "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), os.getpid())\n",
    )
    .await;
    assert_eq!(result.status, "ok", "{result:?}");
    let (pids, pid) = result.stdout.trim().rsplit_once(' ').expect("two parts");
    assert_eq!(
        pids,
        format!("[1, {pid}]"),
        "bubblewrap's init and the program"
    );
    let left_running = slot_processes(&sandbox, &tuning);
    assert!(left_running.is_empty(), "{left_running:?}");
}
