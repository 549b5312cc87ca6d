//! The languages candidates' code can run in, declared once: the file the code is written to,
//! how it is compiled (if it is) and run inside the sandbox, how much longer than the base
//! limits it may take, the editor's mode, and how its version is read. Which of them this
//! machine can run is found when the process starts ([`detect`]).

use std::path::Path;
use std::time::Duration;

/// One language's toolchain, as the sandbox uses it. Paths are inside the sandbox: the code is
/// at `/src/{file}`, and a compilation writes into `/build`, which runs read.
#[derive(Debug)]
pub struct LanguageSpec {
    /// The question's language (`db::questions::Language::as_str`).
    pub key: &'static str,
    pub name: &'static str,
    /// The file the code is written to.
    pub file: &'static str,
    /// The binary that must exist (in `/usr/bin` or `/usr/local/bin`) for the language to run.
    pub binary: &'static str,
    pub compile: Option<&'static [&'static str]>,
    pub run: &'static [&'static str],
    /// How many times the base CPU and wall limits a run gets (a JVM starts slowly).
    pub time_multiplier: u32,
    /// How many times the base memory limit a run gets (a JVM reserves its heap up front).
    pub memory_multiplier: u64,
    /// CodeMirror's mode in the candidate's editor.
    pub editor_mode: &'static str,
    /// Prints the version (on stdout or stderr), run outside the sandbox at start.
    pub version: &'static [&'static str],
}

/// Every language leverbridge knows how to run; [`detect`] says which this machine has.
pub const LANGUAGES: &[LanguageSpec] = &[
    LanguageSpec {
        key: "python",
        name: "Python",
        file: "main.py",
        binary: "python3",
        compile: None,
        run: &["python3", "-B", "/src/main.py"],
        time_multiplier: 1,
        memory_multiplier: 1,
        editor_mode: "python",
        version: &["python3", "--version"],
    },
    LanguageSpec {
        key: "javascript",
        name: "JavaScript (Node.js)",
        file: "main.js",
        binary: "node",
        compile: None,
        run: &["node", "--max-old-space-size=256", "/src/main.js"],
        time_multiplier: 1,
        memory_multiplier: 1,
        editor_mode: "javascript",
        version: &["node", "--version"],
    },
    LanguageSpec {
        key: "cpp",
        name: "C++ (g++, C++17)",
        file: "main.cpp",
        binary: "g++",
        compile: Some(&[
            "g++",
            "-std=c++17",
            "-O2",
            "-pipe",
            "-o",
            "/build/main",
            "/src/main.cpp",
        ]),
        run: &["/build/main"],
        time_multiplier: 1,
        memory_multiplier: 1,
        editor_mode: "cpp",
        version: &["g++", "--version"],
    },
    LanguageSpec {
        key: "java",
        name: "Java",
        file: "Main.java",
        binary: "javac",
        compile: Some(&[
            "javac",
            "-J-Xmx256m",
            "-J-XX:+UseSerialGC",
            "-d",
            "/build",
            "/src/Main.java",
        ]),
        run: &[
            "java",
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            "/build",
            "Main",
        ],
        time_multiplier: 2,
        memory_multiplier: 2,
        editor_mode: "java",
        version: &["javac", "-version"],
    },
    LanguageSpec {
        key: "rust",
        name: "Rust",
        file: "main.rs",
        binary: "rustc",
        compile: Some(&["rustc", "-O", "-o", "/build/main", "/src/main.rs"]),
        run: &["/build/main"],
        time_multiplier: 1,
        memory_multiplier: 1,
        editor_mode: "rust",
        version: &["rustc", "--version"],
    },
];

/// The declaration for a question's language, runnable here or not.
pub fn spec(key: &str) -> Option<&'static LanguageSpec> {
    LANGUAGES.iter().find(|l| l.key == key)
}

/// A language this machine can run, with the version its toolchain reported.
#[derive(Clone, Debug)]
pub struct Runtime {
    pub spec: &'static LanguageSpec,
    pub version: String,
}

/// What the machine has of each declared language: a runtime, or why not.
#[derive(Clone, Debug)]
pub struct Detected {
    pub runtimes: Vec<Runtime>,
    /// Languages declared but not runnable here, with the reason.
    pub missing: Vec<(&'static LanguageSpec, String)>,
}

/// Looks for each language's toolchain under `/usr` (all the sandbox sees of the system) and
/// reads its version.
pub fn detect() -> Detected {
    let mut detected = Detected {
        runtimes: Vec::new(),
        missing: Vec::new(),
    };
    for spec in LANGUAGES {
        match version_of(spec) {
            Ok(version) => detected.runtimes.push(Runtime { spec, version }),
            Err(why) => detected.missing.push((spec, why)),
        }
    }
    detected
}

fn version_of(spec: &LanguageSpec) -> Result<String, String> {
    let found = ["/usr/bin", "/usr/local/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(spec.binary))
        .find(|path| path.exists())
        .ok_or_else(|| format!("`{}` is not installed under /usr", spec.binary))?;
    let mut command = std::process::Command::new(&found);
    command.args(&spec.version[1..]);
    let output = run_with_deadline(command, Duration::from_secs(10)).map_err(|e| {
        format!(
            "`{} {}` failed: {e}",
            spec.binary,
            spec.version[1..].join(" ")
        )
    })?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if !output.status.success() || first.is_empty() {
        return Err(format!("`{}` did not report its version", spec.binary));
    }
    Ok(first.trim().chars().take(80).collect())
}

/// Runs a trusted toolchain's version command, never for longer than `deadline`.
fn run_with_deadline(
    mut command: std::process::Command,
    deadline: Duration,
) -> std::io::Result<std::process::Output> {
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let started = std::time::Instant::now();
    loop {
        if child.try_wait()?.is_some() {
            return child.wait_with_output();
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("it did not answer within 10 s"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_language_names_its_file_in_its_commands() {
        for spec in LANGUAGES {
            let source = format!("/src/{}", spec.file);
            let commands: Vec<&str> = spec
                .compile
                .unwrap_or(&[])
                .iter()
                .chain(spec.run)
                .copied()
                .collect();
            assert!(
                commands.contains(&source.as_str())
                    || spec
                        .run
                        .iter()
                        .any(|a| a.starts_with("/build") || *a == "/build"),
                "{}: {commands:?}",
                spec.key
            );
            assert!(spec.time_multiplier >= 1 && spec.memory_multiplier >= 1);
            assert_eq!(spec.version[0], spec.binary, "{}", spec.key);
        }
        assert!(spec("python").is_some() && spec("go").is_none());
    }
}
