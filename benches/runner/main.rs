//! What the sandbox costs a run: the same Python and C++ programs (C++ compiled once, before
//! measuring) run bare (`std::process::Command`, no sandbox) and in the real sandbox, side by
//! side in one process. For each: the median and 95th percentile time of one run, what the
//! sandbox adds at the median (target: under 30 ms), and the runs per second two slots
//! complete running at once, sandboxed against bare (target: at least 0.8 times bare). Prints
//! a Markdown table. Each program is measured twice: in the slot's warm sandbox (kept built
//! between runs, how the server runs programs) and in a sandbox built for each run (how it
//! compiles them, and how it runs them where no warm sandbox can start).
//!
//! `cargo bench --bench runner` needs what the sandbox needs (bubblewrap, root).
//! `LEVERBRIDGE_BENCH_RUNS` changes the runs per measurement (200). Run without `--bench` (as
//! `cargo test --benches` does), it only takes a short smoke run.
//!
//! Then grading end to end ([`grading`]): a submission to a 10-case Python question, until its
//! grade is stored (target: under 2 s), `LEVERBRIDGE_BENCH_GRADINGS` times (20).

#[path = "../support/env.rs"]
mod env;
mod grading;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use leverbridge::config::SandboxTuning;
use leverbridge::sandbox::{Sandbox, Session};

/// The most the sandbox may add to a run at the median, in milliseconds.
const TARGET_ADDED_MS: f64 = 30.0;
/// The least share of bare throughput two sandboxed slots must keep.
const TARGET_THROUGHPUT: f64 = 0.8;
/// Programs running at once in the throughput measurement.
const SLOTS: usize = 2;
const INPUT: &str = "1 2 3 4 5 6 7 8 9 10\n";
const EXPECTED: &str = "55";

struct Program {
    language: &'static str,
    name: &'static str,
    code: &'static str,
}

/// The trivial pair (read ten numbers, print their sum: the sandbox's fixed cost against a
/// program that does almost nothing), then the same with some work first (about 0.1 s in Python;
/// the C++ loop takes 10–25 ms once optimised), as a test
/// case's program typically does.
const PROGRAMS: [Program; 4] = [
    Program {
        language: "python",
        name: "Python",
        code: "import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))\n",
    },
    Program {
        language: "cpp",
        name: "C++ (precompiled)",
        code: "#include <iostream>\nint main(){long a,s=0;while(std::cin>>a)s+=a;std::cout<<s<<\"\\n\";}\n",
    },
    Program {
        language: "python",
        name: "Python, ~0.1 s of work",
        code: "import sys\nw = 0\nfor i in range(1_500_000):\n    w ^= i\nprint(sum(int(x) for x in sys.stdin.read().split()) + (w & 0))\n",
    },
    Program {
        language: "cpp",
        name: "C++ (precompiled), some work first",
        code: "#include <iostream>\nint main(){volatile unsigned long w=0;for(unsigned long i=0;i<40000000UL;i++)w+=i;long a,s=0;while(std::cin>>a)s+=a;std::cout<<s<<\"\\n\";}\n",
    },
];

/// One program's measurements.
struct Row {
    name: &'static str,
    mode: &'static str,
    bare: Vec<Duration>,
    sandboxed: Vec<Duration>,
    bare_per_second: f64,
    sandboxed_per_second: f64,
}

fn main() -> anyhow::Result<()> {
    let smoke = !std::env::args().any(|arg| arg == "--bench");
    let runs = if smoke {
        5
    } else {
        env::number("LEVERBRIDGE_BENCH_RUNS", 200)? as usize
    };
    let tuning = SandboxTuning {
        slots: SLOTS,
        ..SandboxTuning::default()
    };
    let sandbox = Sandbox::new(&tuning);
    let fresh = Sandbox::new(&SandboxTuning {
        warm: false,
        ..tuning.clone()
    });
    if !sandbox.warm() {
        eprintln!("\n!!! the leverbridge binary is not built beside this bench: no warm sandbox\n");
    }
    if let Some(why) = sandbox.unavailable() {
        eprintln!("\n!!! SKIPPED: the sandbox is unavailable here: {why}\n");
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(SLOTS)
        .enable_all()
        .build()?;
    let scratch = tempfile::tempdir()?;
    let mut rows = Vec::new();
    for program in &PROGRAMS {
        if sandbox.can_run(program.language).is_err() {
            eprintln!("!!! SKIPPED {}: not installed here", program.name);
            continue;
        }
        let bare = bare_command(program, scratch.path())?;
        for (mode, sandbox) in [("warm", &sandbox), ("fresh per run", &fresh)] {
            let row = runtime.block_on(measure(sandbox, program, &bare, runs))?;
            rows.push(Row { mode, ..row });
        }
    }
    print!("{}", table(&rows, runs, &sandbox));
    let rounds = if smoke {
        2
    } else {
        env::number("LEVERBRIDGE_BENCH_GRADINGS", 20)? as usize
    };
    if sandbox.can_run("python").is_ok() {
        let times = runtime.block_on(grading::measure(rounds))?;
        print!("{}", grading_table(&times));
    }
    Ok(())
}

fn grading_table(times: &[Duration]) -> String {
    let median = quantile_ms(times, 0.5);
    let mut out = format!(
        "\nGrading end to end: {} submissions to a 10-case Python question, each from Submit to its stored grade (SQLite, one grading worker).\n\n",
        times.len()
    );
    out.push_str("| Median | p95 | Slowest | Target |\n|---:|---:|---:|---|\n");
    out.push_str(&format!(
        "| {:.0} ms | {:.0} ms | {:.0} ms | under {} s {} |\n",
        median,
        quantile_ms(times, 0.95),
        quantile_ms(times, 1.0),
        grading::TARGET.as_secs(),
        verdict(median < grading::TARGET.as_secs_f64() * 1000.0),
    ));
    out
}

/// The program's bare command line on the host: Python's interpreter on the file, or the
/// binary g++ made from it (with the flags the sandbox compiles with).
fn bare_command(program: &Program, dir: &Path) -> anyhow::Result<Vec<String>> {
    let spec = leverbridge::sandbox::languages::spec(program.language).context("declared")?;
    let source = dir.join(spec.file);
    std::fs::write(&source, program.code)?;
    let on_host = |arg: &str| -> String {
        arg.replace(
            &format!("/src/{}", spec.file),
            &source.display().to_string(),
        )
        .replace("/build", &dir.display().to_string())
    };
    if let Some(compile) = spec.compile {
        let args: Vec<String> = compile.iter().map(|a| on_host(a)).collect();
        let status = Command::new(&args[0]).args(&args[1..]).status()?;
        if !status.success() {
            bail!("{} did not compile bare: {status}", program.name);
        }
    }
    Ok(spec.run.iter().map(|a| on_host(a)).collect())
}

fn run_bare(command: &[String]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("piped")?
        .write_all(INPUT.as_bytes())?;
    let output = child.wait_with_output()?;
    let took = started.elapsed();
    check(&String::from_utf8_lossy(&output.stdout), "bare")?;
    Ok(took)
}

async fn run_sandboxed(session: &Session) -> anyhow::Result<Duration> {
    let limits = session.run_limits(None);
    let started = Instant::now();
    let execution = session.run(INPUT.as_bytes(), &limits).await?;
    let took = started.elapsed();
    check(&execution.stdout.text, "in the sandbox").with_context(|| {
        format!(
            "it ended {:?}, stderr {:?}",
            execution.ending, execution.stderr.text
        )
    })?;
    Ok(took)
}

fn check(stdout: &str, how: &str) -> anyhow::Result<()> {
    if stdout.trim() != EXPECTED {
        bail!("the program printed {stdout:?} {how}, not {EXPECTED}");
    }
    Ok(())
}

/// A compiled session for `program`.
async fn session(sandbox: &Sandbox, program: &Program) -> anyhow::Result<Session> {
    let mut session = sandbox.session(program.language, program.code).await?;
    if let Err(failed) = session.compile().await? {
        bail!(
            "{} did not compile in the sandbox: {}",
            program.name,
            failed.stderr.text
        );
    }
    Ok(session)
}

async fn measure(
    sandbox: &Sandbox,
    program: &Program,
    bare: &[String],
    runs: usize,
) -> anyhow::Result<Row> {
    let warm_up = (runs / 20).max(1);
    // One after another, alternating, so both see the same machine.
    let single = session(sandbox, program).await?;
    for _ in 0..warm_up {
        run_bare(bare)?;
        run_sandboxed(&single).await?;
    }
    let mut bare_times = Vec::with_capacity(runs);
    let mut sandboxed_times = Vec::with_capacity(runs);
    for _ in 0..runs {
        bare_times.push(run_bare(bare)?);
        sandboxed_times.push(run_sandboxed(&single).await?);
    }
    drop(single);

    // Two slots at once: each worker runs `runs` programs.
    let started = Instant::now();
    let workers: Vec<_> = (0..SLOTS)
        .map(|_| {
            let bare = bare.to_vec();
            std::thread::spawn(move || -> anyhow::Result<()> {
                for _ in 0..runs {
                    run_bare(&bare)?;
                }
                Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a bare worker")?;
    }
    let bare_per_second = (SLOTS * runs) as f64 / started.elapsed().as_secs_f64();

    let mut sessions = Vec::with_capacity(SLOTS);
    for _ in 0..SLOTS {
        sessions.push(session(sandbox, program).await?);
    }
    let started = Instant::now();
    let workers: Vec<_> = sessions
        .into_iter()
        .map(|session| {
            tokio::spawn(async move {
                for _ in 0..runs {
                    run_sandboxed(&session).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    let sandboxed_per_second = (SLOTS * runs) as f64 / started.elapsed().as_secs_f64();

    Ok(Row {
        name: program.name,
        mode: "warm",
        bare: bare_times,
        sandboxed: sandboxed_times,
        bare_per_second,
        sandboxed_per_second,
    })
}

/// The `q` quantile (nearest rank) in milliseconds.
fn quantile_ms(times: &[Duration], q: f64) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

fn table(rows: &[Row], runs: usize, sandbox: &Sandbox) -> String {
    let mut out = format!(
        "Sandbox overhead: {runs} runs of each program one after another (median, p95), then {SLOTS} slots running {runs} each at once. bubblewrap {}.\n\n",
        sandbox.bwrap_version().unwrap_or("?")
    );
    out.push_str("| Program | Sandbox | Bare median | Bare p95 | Sandbox median | Sandbox p95 | Added at median (target < 30 ms) | Runs/s bare, 2 at once | Runs/s sandbox, 2 at once | Sandbox / bare (target ≥ 0.8) |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in rows {
        let bare_median = quantile_ms(&row.bare, 0.5);
        let sandbox_median = quantile_ms(&row.sandboxed, 0.5);
        let added = sandbox_median - bare_median;
        let share = row.sandboxed_per_second / row.bare_per_second;
        out.push_str(&format!(
            "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms {} | {:.0} | {:.0} | {:.2} {} |\n",
            row.name,
            row.mode,
            bare_median,
            quantile_ms(&row.bare, 0.95),
            sandbox_median,
            quantile_ms(&row.sandboxed, 0.95),
            added,
            verdict(added < TARGET_ADDED_MS),
            row.bare_per_second,
            row.sandboxed_per_second,
            share,
            verdict(share >= TARGET_THROUGHPUT),
        ));
    }
    out
}

fn verdict(met: bool) -> &'static str {
    if met {
        "(met)"
    } else {
        "(MISSED)"
    }
}
