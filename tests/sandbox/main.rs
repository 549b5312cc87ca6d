//! The sandbox against hostile programs, with no database: each test runs the real bubblewrap
//! sandbox and checks that the server is unharmed and that the result says what happened.

#[path = "../support/processes.rs"]
mod processes;

mod attacks;
mod warm;

use std::time::Duration;

use leverbridge::config::SandboxTuning;
use leverbridge::sandbox::judge::{self, Case, Verdict};
use leverbridge::sandbox::Sandbox;

/// The sandbox `tuning` describes, or `None` (loudly) when this machine cannot run one; under
/// `CI` a missing sandbox fails the test.
fn sandbox_with(tuning: &SandboxTuning) -> Option<Sandbox> {
    let sandbox = Sandbox::new(tuning);
    match sandbox.unavailable() {
        None => Some(sandbox),
        Some(why) if std::env::var_os("CI").is_some() => panic!("CI needs the sandbox: {why}"),
        Some(why) => {
            eprintln!("\n!!! SKIPPED: the sandbox is unavailable here: {why}\n");
            None
        }
    }
}

/// The sandbox with the server's own limits.
fn sandbox() -> Option<Sandbox> {
    sandbox_with(&SandboxTuning::default())
}

/// Limits small enough for hostile programs to hit quickly: 1 s of CPU, 3 s of wall clock,
/// 256 MB of memory.
fn tight() -> SandboxTuning {
    let mut tuning = SandboxTuning::default();
    tuning.run.cpu = Duration::from_secs(1);
    tuning.run.wall = Duration::from_secs(3);
    tuning.run.memory_bytes = 256 * 1024 * 1024;
    tuning
}

#[tokio::test]
async fn python_javascript_and_cpp_run_and_read_their_input() {
    let Some(sandbox) = sandbox() else { return };
    let _shared = attacks::shared().await;
    let programs = [
        ("python", "import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))\n"),
        ("javascript", "const s=require('fs').readFileSync(0,'utf8');console.log(s.split(/\\s+/).filter(Boolean).map(Number).reduce((a,b)=>a+b,0))\n"),
        ("cpp", "#include <iostream>\nint main(){long a,s=0;while(std::cin>>a)s+=a;std::cout<<s<<\"\\n\";}\n"),
    ];
    for (language, code) in programs {
        let cases = [Case {
            input: "1 2 3\n",
            expected: "6\n",
            time_limit: None,
        }];
        let results = judge::run_cases(&sandbox, language, code, &cases)
            .await
            .unwrap();
        assert_eq!(
            results[0].verdict,
            Verdict::Passed,
            "{language}: {results:?}"
        );
    }
}
