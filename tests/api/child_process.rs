//! Processes the tests start beside them (`leverbridge serve`, ChromeDriver) bind port 0
//! themselves and say which port they got; the test reads it from their output. A port picked
//! by the test and handed over could be taken by another test in between.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// What `leverbridge serve` prints once bound, before the port.
pub const SERVE_LISTENING: &str = "leverbridge is listening on http://127.0.0.1:";

/// `leverbridge serve`, configured by `configure`, bound to a port of its own choosing on
/// 127.0.0.1; returns it with that port. Its stdout is the test's; its stderr is as configured.
pub fn spawn_serve(configure: impl FnOnce(&mut Command)) -> (Child, u16) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_leverbridge"));
    command.arg("serve");
    configure(&mut command);
    command
        .env("LEVERBRIDGE_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped());
    let mut child = command.spawn().expect("leverbridge serve starts");
    let port = reported_port(&mut child, SERVE_LISTENING);
    (child, port)
}

/// `leverbridge serve` alone on a fresh SQLite database in `dir`, with a fresh secret key,
/// logging at INFO to a piped stderr (for the test to read); returns it with its port.
pub fn spawn_serve_on_sqlite(dir: &std::path::Path) -> (Child, u16) {
    spawn_serve(|serve| {
        serve
            .env(
                "LEVERBRIDGE_DATABASE_URL",
                format!("sqlite://{}/serve.db", dir.display()),
            )
            .env(
                "LEVERBRIDGE_SECRET_KEY",
                leverbridge::config::generate_secret_key_base64(),
            )
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped());
    })
}

/// The port `child` reports on its stdout (which must be piped): the number right after
/// `marker` on the first line that has it. The rest of its output is read and dropped, so the
/// child never blocks on a full pipe.
///
/// # Panics
/// When the child ends, or says nothing of the kind within 30 s.
pub fn reported_port(child: &mut Child, marker: &'static str) -> u16 {
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    let (found, port) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref().map_while(Result::ok) {
            if let Some(rest) = line.split(marker).nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = found.send(digits.parse::<u16>().ok());
                break;
            }
        }
        lines.for_each(drop);
    });
    match port.recv_timeout(Duration::from_secs(30)) {
        Ok(Some(port)) => port,
        Ok(None) => panic!("the child named no port after “{marker}”"),
        Err(_) => {
            let ended = child.try_wait().ok().flatten();
            panic!("the child never reported its port (“{marker}”); ended: {ended:?}")
        }
    }
}
