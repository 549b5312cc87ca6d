//! The `leverbridge` command line: parse, then call the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use leverbridge::commands::create_user::{create_user, NewUser};
use leverbridge::config::{self, Settings};
use leverbridge::startup::Application;

/// jemalloc rather than glibc's malloc: see `Cargo.toml` and README, "Memory over time".
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "leverbridge",
    version,
    about = "Coding assessments driven by Lever's webhooks.",
    long_about = "leverbridge connects an organization's Lever account, listens to its signed webhooks, \
creates coding assessments for tagged candidates and writes the results back to Lever.\n\n\
Settings come from LEVERBRIDGE_* environment variables; see README.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: the web dashboard, the webhook endpoint and the job workers.
    ///
    /// Needs LEVERBRIDGE_SECRET_KEY; reads LEVERBRIDGE_BIND, LEVERBRIDGE_DATABASE_URL,
    /// LEVERBRIDGE_PUBLIC_URL and the Lever host overrides. Applies pending migrations first.
    Serve,
    /// Run job workers only, no web server: some lanes on other machines, against the same
    /// PostgreSQL as `serve` (e.g. grading on machines with CPUs to spare).
    ///
    /// Reads the same settings as `serve`; each lane runs as many workers as its variable
    /// says (LEVERBRIDGE_WORKERS, LEVERBRIDGE_MAIL_WORKERS, LEVERBRIDGE_GRADING_WORKERS).
    Worker {
        /// The lanes to work, comma-separated: lever, mail, grading, or all.
        #[arg(long, default_value = "all")]
        lanes: String,
    },
    /// Run a self-contained demo on ./data/demo.db with a seeded organization and users.
    ///
    /// Prints the URL and the logins. Needs no settings.
    Demo,
    /// Apply pending database migrations and exit.
    ///
    /// Uses LEVERBRIDGE_DATABASE_URL (default sqlite://data/leverbridge.db).
    Migrate,
    /// Create a user, or reset an existing user's password and role.
    ///
    /// The organization is created when its short name is new. The password is read from
    /// --password-file, or asked for twice at the prompt.
    CreateUser {
        /// The user's e-mail address (their login).
        #[arg(long)]
        email: String,
        /// The organization's short name (lowercase letters, digits, dashes); not for support.
        #[arg(long)]
        org: Option<String>,
        /// The organization's display name, when it is created now (default: the short name).
        #[arg(long)]
        org_name: Option<String>,
        /// admin (configures the organization), reviewer (scores assessments) or support
        /// (the vendor's staff: reads every organization).
        #[arg(long)]
        role: String,
        /// Read the password from the first line of this file instead of prompting.
        #[arg(long)]
        password_file: Option<std::path::PathBuf>,
    },
    /// Run the Lever simulator alone: Lever's API under /v1, its webhooks, and a control page
    /// at /_sim (the stand-in for Lever's own screens).
    LeverSim {
        /// Port to listen on (127.0.0.1).
        #[arg(long, default_value_t = 4000)]
        port: u16,
        /// Create the demo company (users, stages, postings, candidates) and print its API key.
        #[arg(long)]
        seed: bool,
    },
}

fn main() -> ExitCode {
    // A warm sandbox's pid 1 (README, "Running code"): before anything else starts, as it
    // runs inside the sandbox with nothing but its control socket.
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == "sandbox-launcher") {
        match args.next().and_then(|fd| fd.to_str()?.parse().ok()) {
            Some(fd) => leverbridge::sandbox::launcher::main(fd),
            None => {
                eprintln!("error: sandbox-launcher takes its control socket's descriptor");
                return ExitCode::FAILURE;
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: the async runtime could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve_command())
}

async fn serve_command() -> ExitCode {
    init_tracing();
    match run(Cli::parse().command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let settings = Settings::from_env()?;
            let app = Application::build(settings.clone()).await?;
            tracing::info!(port = app.port(), public_url = %settings.public_url, "leverbridge is listening");
            // On stdout too, so whoever started it with port 0 learns the port it was given.
            let bound = std::net::SocketAddr::new(settings.bind.ip(), app.port());
            println!("leverbridge is listening on http://{bound}");
            app.run_until_stopped().await?;
            tracing::info!("leverbridge stopped");
            Ok(())
        }
        Command::Worker { lanes } => {
            let lanes = config::parse_lanes(&lanes)?;
            let settings = Settings::from_env()?;
            leverbridge::startup::run_workers(settings, &lanes).await?;
            tracing::info!("leverbridge workers stopped");
            Ok(())
        }
        Command::Demo => leverbridge::commands::demo::run().await,
        Command::Migrate => {
            let url = config::database_url_from_env()?;
            let applied = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
                let db = leverbridge::db::Db::connect(&url)?;
                Ok(db.migrate()?)
            })
            .await??;
            if applied.is_empty() {
                println!("The database is up to date.");
            } else {
                println!(
                    "Applied {} migration(s): {}",
                    applied.len(),
                    applied.join(", ")
                );
            }
            Ok(())
        }
        Command::LeverSim { port, seed } => {
            leverbridge::lever_sim::run_standalone(port, seed).await
        }
        Command::CreateUser {
            email,
            org,
            org_name,
            role,
            password_file,
        } => {
            let password = read_password(password_file.as_deref())?;
            let url = config::database_url_from_env()?;
            let message = tokio::task::spawn_blocking(move || {
                create_user(
                    &url,
                    NewUser {
                        email,
                        org,
                        org_name,
                        role,
                        password,
                    },
                )
            })
            .await??;
            println!("{message}");
            Ok(())
        }
    }
}

fn read_password(file: Option<&std::path::Path>) -> anyhow::Result<String> {
    if let Some(path) = file {
        let raw = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!("could not read the password file {}: {e}", path.display())
        })?;
        return Ok(raw.lines().next().unwrap_or("").to_owned());
    }
    let first = rpassword::prompt_password("Password: ")?;
    let second = rpassword::prompt_password("Password again: ")?;
    if first != second {
        anyhow::bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
