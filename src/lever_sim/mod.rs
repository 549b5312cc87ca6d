//! The Lever simulator: a faithful fake of the Lever API subset leverbridge uses and of
//! Lever's webhook delivery, for the tests and the demo. It shares no code with
//! `crate::lever`: the wire format is written twice, once per side, so a misunderstanding
//! in one is caught by the other.
//!
//! - `/v1/…`: Lever's API (Basic auth with an API key and its permissions, or an OAuth Bearer
//!   token and its scopes; `perform_as`, paging, rate limit, faults).
//! - `/authorize`, `/oauth/token`, `/oauth/revoke`: Lever's OAuth (its Auth0 host), with a
//!   consent page, rotating refresh tokens and JWT access tokens (`oauth*`).
//! - `/_sim/api/…`: the control API (JSON) to set up accounts, register OAuth apps and read
//!   back their state.
//! - `/_sim`: pages listing candidates, with a button per stage, each candidate's own page
//!   with its notes, feedback and files, and each account's connected apps with a
//!   *Revoke access* button.

mod actions;
mod api;
mod api_endpoints;
mod api_feedback;
mod api_notes_files;
mod api_opportunities;
mod api_reference;
mod auth;
mod control;
mod control_events;
mod control_oauth;
mod error;
mod faults;
mod oauth;
mod oauth_authorize;
mod oauth_jwt;
mod oauth_token;
mod page;
mod page_candidate;
mod page_feedback;
mod page_layout;
mod page_lifecycle;
mod page_mailbox;
mod page_oauth;
mod paging;
mod query;
mod rate_limit;

pub use rate_limit::RateLimit;
mod seed;
mod state;
mod webhooks;
mod wire;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;

pub use seed::{seed_company, seed_demo, DemoSeed};

use state::{SimState, World};

/// The tag `run_standalone --seed` gives the demo's backend posting.
pub const STANDALONE_DEMO_TAG: &str = "leverbridge-demo";

/// How to run a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// The first gap between webhook delivery retries (Lever's is about a minute); each
    /// following gap doubles.
    pub retry_base: Duration,
    /// How long a webhook receiver may take to answer before the attempt counts as failed.
    pub delivery_timeout: Duration,
    /// Each API key's (and OAuth grant's) token bucket: Lever's 10 requests/s with bursts of
    /// 20 unless a test asks for a faster account.
    pub rate_limit: RateLimit,
    /// The mail receiver running beside the simulator (the demo's), shown at `/_sim/mailbox`
    /// and linked from the simulator's page.
    pub mailbox: Option<crate::mailbox::Mailbox>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            retry_base: Duration::from_secs(60),
            delivery_timeout: Duration::from_secs(10),
            rate_limit: RateLimit::LEVER,
            mailbox: None,
        }
    }
}

/// A running simulator.
pub struct SimHandle {
    base_url: String,
    port: u16,
    state: Arc<SimState>,
    server: actix_web::dev::ServerHandle,
}

impl SimHandle {
    /// E.g. `http://127.0.0.1:PORT`: the API is at `base_url() + "/v1"`, the control API at
    /// `base_url() + "/_sim/api"`, the page at `base_url() + "/_sim"`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server gracefully.
    pub async fn stop(&self) {
        self.server.stop(true).await;
    }
}

/// Binds, starts the simulator on the current tokio runtime and returns at once.
pub async fn spawn_sim(config: SimConfig) -> anyhow::Result<SimHandle> {
    let listener = std::net::TcpListener::bind(config.bind)
        .with_context(|| format!("Failed to bind the Lever simulator to {}", config.bind))?;
    let local = listener
        .local_addr()
        .context("Failed to read the simulator's address")?;
    let host = if local.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        local.ip()
    };
    let base_url = format!("http://{}", SocketAddr::new(host, local.port()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .context("Failed to build the webhook delivery client")?;
    let state = Arc::new(SimState {
        world: Mutex::new(World::default()),
        config,
        base_url: base_url.clone(),
        http,
    });
    let data = web::Data::from(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .service(web::scope("/v1").default_service(web::to(api::dispatch)))
            .service(web::scope("/_sim/api").configure(control::routes))
            .service(web::scope("/_sim").configure(page::routes))
            .configure(oauth_authorize::routes)
            .configure(oauth_token::routes)
            .route(
                "/",
                web::get().to(|| async {
                    HttpResponse::SeeOther()
                        .insert_header(("Location", "/_sim"))
                        .finish()
                }),
            )
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .context("Failed to start the Lever simulator")?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(SimHandle {
        base_url,
        port: local.port(),
        state,
        server: handle,
    })
}

/// `leverbridge lever-sim --port N [--seed]`: serves until Ctrl-C.
pub async fn run_standalone(port: u16, seed: bool) -> anyhow::Result<()> {
    let config = SimConfig {
        bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
        ..SimConfig::default()
    };
    let sim = spawn_sim(config).await?;
    println!("Lever simulator listening on {}", sim.base_url());
    println!("  page:        {}/_sim", sim.base_url());
    println!("  Lever API:   {}/v1", sim.base_url());
    println!("  control API: {}/_sim/api", sim.base_url());
    println!("  OAuth:       {}/authorize, /oauth/token", sim.base_url());
    if seed {
        let demo = seed_demo(&sim, STANDALONE_DEMO_TAG).await?;
        println!(
            "Seeded demo account \"Acme Robotics\" ({})",
            demo.account_id
        );
        println!("  API key (all permissions): {}", demo.api_key);
        println!("  default user (perform_as): {}", demo.default_user_id);
        println!("  demo tag: {STANDALONE_DEMO_TAG}");
    }
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .context("Failed to wait for Ctrl-C")?;
    sim.stop().await;
    Ok(())
}
