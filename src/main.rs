//! `storefront`: the command line (the backend with `serve`, the whole thing with `demo`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use std::time::Duration;

use storefront_server::{DEMO_CATALOG, RunningServer, ServerConfig, SumUpConfig};

#[derive(Debug, Parser)]
#[command(
    name = "storefront",
    version,
    about = "A keyboard-driven terminal storefront for event tickets"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the reference backend.
    Serve(ServeArgs),
    /// Run the backend in-process with the demo catalog, on a free loopback port.
    Demo,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// sqlite://PATH, sqlite::memory: or postgres://...
    #[arg(long, default_value = "sqlite::memory:")]
    database: String,
    /// A catalog (TOML) to load into an empty database.
    #[arg(long, conflicts_with = "demo")]
    catalog: Option<PathBuf>,
    /// Load the built-in demo catalog into an empty database.
    #[arg(long)]
    demo: bool,
    /// The origin buyers' browsers and SumUp reach this server at (default: the bound address).
    #[arg(long)]
    public_url: Option<String>,
    /// SumUp's API (https://api.sumup.com); without it a local SumUp sandbox is mounted.
    #[arg(long)]
    sumup_base_url: Option<String>,
    /// SumUp API key (needed with --sumup-base-url).
    #[arg(long, env = "SUMUP_API_KEY", hide_env_values = true)]
    sumup_api_key: Option<String>,
    /// The merchant paid when a page has no merchant code of its own.
    #[arg(long, env = "SUMUP_MERCHANT_CODE")]
    sumup_merchant_code: Option<String>,
}

impl ServeArgs {
    fn sumup(&self) -> Result<Option<SumUpConfig>, String> {
        let Some(base_url) = &self.sumup_base_url else {
            return Ok(None);
        };
        let api_key = self.sumup_api_key.clone().filter(|k| !k.is_empty()).ok_or(
            "--sumup-base-url needs an API key: pass --sumup-api-key or set SUMUP_API_KEY",
        )?;
        let merchant_code = self.sumup_merchant_code.clone().filter(|m| !m.is_empty()).ok_or(
            "--sumup-base-url needs a merchant code: pass --sumup-merchant-code or set SUMUP_MERCHANT_CODE",
        )?;
        Ok(Some(SumUpConfig {
            base_url: base_url.clone(),
            api_key,
            merchant_code,
            timeout: Duration::from_secs(15),
        }))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        // The terminal client is not part of this build yet.
        let _ = <Cli as clap::CommandFactory>::command().print_help();
        return ExitCode::SUCCESS;
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("storefront: cannot start: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Serve(args) => serve(args).await,
            Command::Demo => demo().await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("storefront: {message}");
            ExitCode::FAILURE
        }
    }
}

fn log_to_stderr() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    log_to_stderr();
    let catalog = match (&args.catalog, args.demo) {
        (Some(path), _) => Some(
            std::fs::read_to_string(path)
                .map_err(|err| format!("cannot read the catalog {}: {err}", path.display()))?,
        ),
        (None, true) => Some(DEMO_CATALOG.to_owned()),
        (None, false) => None,
    };
    let sumup = args.sumup()?;
    let server = storefront_server::start(ServerConfig {
        bind: args.bind,
        database_url: args.database,
        catalog,
        public_url: args.public_url,
        sumup,
    })
    .await
    .map_err(|err| err.to_string())?;
    println!("listening on {}", server.origin());
    run_until_signal(server).await
}

async fn demo() -> Result<(), String> {
    log_to_stderr();
    let server = storefront_server::start(ServerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        database_url: "sqlite::memory:".to_owned(),
        catalog: Some(DEMO_CATALOG.to_owned()),
        ..ServerConfig::default()
    })
    .await
    .map_err(|err| err.to_string())?;
    println!("listening on {}", server.origin());
    println!("demo backend ready: sign in as demo@example.com with password demo");
    println!("  curl {}/api/v1/events", server.origin());
    run_until_signal(server).await
}

/// Serves until Ctrl-C or SIGTERM, then shuts down gracefully.
async fn run_until_signal(server: RunningServer) -> Result<(), String> {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    server.stop().await;
    Ok(())
}
