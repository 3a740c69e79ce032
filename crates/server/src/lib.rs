//! storefront's reference backend: the contract's HTTP API over SQLite (or PostgreSQL).

mod box_office;
mod capacity;
pub mod catalog;
mod credentials;
mod error;
mod hashing;
mod html;
mod http;
pub mod mail;
mod payments;
mod pricing;
mod routes;
pub mod sandbox;
mod state;
mod store;
pub mod sumup;
mod time;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::catalog::{Catalog, CatalogError};
pub use crate::payments::{Timing, webhook_url};
pub use crate::routes::{api_routes, router};
pub use crate::state::AppState;
pub use crate::store::{Backend, OpenError, Store, connect_database};
pub use crate::sumup::SumUpConfig;

/// The allocator a process that serves uses: `#[global_allocator] static ALLOCATOR:
/// storefront_server::Allocator = storefront_server::Allocator;`. A request allocates and
/// frees many small values, often on another thread than the one that made them (SQLite's
/// writer, tokio's workers); glibc's allocator spent an eighth of the machine on that under
/// load, and a SQLite file sells about a tenth more a second with this one.
pub use mimalloc::MiMalloc as Allocator;

/// How long a stopping server waits for the notices it is handling.
const NOTICES_AT_STOP: Duration = Duration::from_secs(5);

/// The demo catalog, compiled into the binary.
pub const DEMO_CATALOG: &str = include_str!("../../../assets/demo-catalog.toml");

/// Everything `storefront serve` needs to start.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub database_url: String,
    /// A catalog's TOML text, applied at start (to an empty database, or as a sync).
    pub catalog: Option<String>,
    /// The origin buyers' browsers and SumUp reach us at; `http://<bound address>` if unset.
    pub public_url: Option<String>,
    /// The real SumUp (or any service speaking its API); `None` mounts the sandbox.
    pub sumup: Option<SumUpConfig>,
    /// While a long-poll waits for an order, SumUp is asked about it this often (webhooks
    /// wake it sooner).
    pub order_poll_interval: Duration,
    /// SumUp's signing secret for webhooks: with it, only notifications signed with it (and
    /// at most 5 minutes old) are taken. The sandbox signs with it too.
    pub webhook_secret: Option<String>,
    /// A refund SumUp could not take for the moment (network, 5xx, 429) is tried again after
    /// this wait, doubling with each failure up to an hour.
    pub refund_retry: Duration,
    /// Due refunds are looked for this often, so that none waits for a buyer to look.
    pub refund_sweep_interval: Duration,
    /// How the sandbox (mounted when `sumup` is `None`) notifies and retries.
    pub sandbox: sandbox::SandboxOptions,
    /// The IANA zone of venues without one of their own (`--timezone`).
    pub timezone: String,
    /// How e-mail is sent (`--smtp-url`, `--mail-from`; the demo's catcher); `None`: no
    /// e-mail, and no password reset.
    pub mail: Option<mail::MailConfig>,
    /// Buyers may make accounts of their own (`serve --no-signup` turns it off).
    pub signup: bool,
    /// Threads hashing passwords, each with a queue of 32; `None`: one per core.
    pub password_hashers: Option<usize>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite::memory:".to_owned(),
            catalog: None,
            public_url: None,
            sumup: None,
            order_poll_interval: Duration::from_secs(1),
            webhook_secret: None,
            refund_retry: Duration::from_secs(10),
            refund_sweep_interval: Duration::from_secs(30),
            sandbox: sandbox::SandboxOptions::default(),
            timezone: "UTC".to_owned(),
            mail: None,
            signup: true,
            password_hashers: None,
        }
    }
}

/// Says in the log what applying a catalog changed.
fn log_catalog(applied: &catalog::Applied) {
    for warning in &applied.warnings {
        tracing::warn!(warning, "catalog");
    }
    let holds = applied.holds;
    if !applied.applied {
        tracing::info!(
            pages = holds.pages,
            events = holds.events,
            users = holds.users,
            readers = holds.readers,
            products = holds.products,
            "the catalog is as the database holds it: nothing to change"
        );
        return;
    }
    let count = |change| {
        applied
            .changes
            .iter()
            .filter(|c| c.change == change)
            .count()
    };
    tracing::info!(
        pages = holds.pages,
        events = holds.events,
        users = holds.users,
        readers = holds.readers,
        products = holds.products,
        added = count(catalog::ChangeKind::Added),
        changed = count(catalog::ChangeKind::Changed),
        retired = count(catalog::ChangeKind::Retired),
        "catalog applied"
    );
    for change in &applied.changes {
        tracing::info!(
            kind = %change.kind,
            key = %change.key,
            change = %change.change,
            detail = %change.detail,
            "catalog change"
        );
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("cannot read the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the catalog was not applied: {0}")]
    Catalog(#[from] CatalogError),
    #[error("--timezone: {0}")]
    Timezone(String),
    #[error("cannot make an HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Mail(#[from] mail::MailConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A server running on a tokio task; dropped or stopped, it shuts down gracefully.
pub struct RunningServer {
    addr: SocketAddr,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, the origin the API is served from.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Applies a catalog to the running server's database (`SIGHUP` with `serve --catalog`);
    /// refused as a whole with nothing changed, as at start.
    pub async fn apply_catalog(&self, text: &str) -> Result<catalog::Applied, CatalogError> {
        let applied = catalog::apply_catalog(self.state.store(), text, None).await?;
        log_catalog(&applied);
        self.state.refresh_currency().await;
        Ok(applied)
    }

    /// Returns once every SumUp notice this server has answered is handled (they are
    /// handled after the answer, on tasks of their own).
    pub async fn notices_handled(&self) {
        self.state.payments().notices_handled().await;
    }

    /// Stops accepting connections, lets open requests finish, and closes the database.
    pub async fn stop(mut self) {
        self.state.stop();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        // A notice answered just before the stop is applied before the store closes.
        let _ = tokio::time::timeout(NOTICES_AT_STOP, self.notices_handled()).await;
        self.state.store().close().await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.state.stop();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Opens the database, loads the catalog into it if it is empty, and starts serving.
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    let timezone = time::zone(&config.timezone).map_err(StartError::Timezone)?;
    // Bound first: a port in use must not leave a catalog applied by a start that failed.
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;
    // Checked before anything is written: a mail setting in error leaves no catalog applied.
    let mail_sandbox = mail::sandbox::MailSandbox::new();
    let mailer = match &config.mail {
        Some(mail) => Some(std::sync::Arc::new(mail::sender::Mailer::new(
            mail,
            &mail_sandbox,
        )?)),
        None => None,
    };
    let store = connect_database(&config.database_url)
        .await?
        .with_mail(mailer.is_some());
    if let Some(text) = &config.catalog {
        let applied = catalog::apply_catalog(&store, text, None).await?;
        log_catalog(&applied);
    }
    let local_origin = format!("http://{addr}");
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| local_origin.clone());
    let (sumup_config, sandbox) = match &config.sumup {
        Some(sumup) => (sumup.clone(), None),
        None => (
            SumUpConfig {
                // The server reaches its own sandbox over loopback, whatever the public URL.
                base_url: format!("{local_origin}{}", sandbox::SANDBOX_PATH),
                api_key: "sandbox".to_owned(),
                merchant_code: sandbox::SANDBOX_MERCHANT.to_owned(),
                timeout: std::time::Duration::from_secs(10),
            },
            Some(sandbox::SandboxState::new(
                store.clone(),
                &public_url,
                &webhook_url(&public_url),
                config.webhook_secret.as_deref(),
                config.sandbox.clone(),
            )?),
        ),
    };
    let sumup = sumup::SumUpClient::new(&sumup_config)?;
    let payments = payments::Payments::new(
        store,
        sumup,
        &public_url,
        Timing {
            poll_interval: config.order_poll_interval,
            refund_retry: config.refund_retry,
            refund_sweep_interval: config.refund_sweep_interval,
        },
    );
    let state = AppState::new(payments.clone(), config.webhook_secret.clone(), timezone)
        .await?
        .with_signup(config.signup)
        .with_hashes(match config.password_hashers {
            Some(threads) => hashing::HashPool::new(threads, threads * hashing::QUEUE_PER_THREAD),
            None => hashing::HashPool::for_this_machine(),
        });
    let given = state
        .store()
        .give_ticket_pages(credentials::new_ticket_secret)
        .await?;
    if given > 0 {
        tracing::info!(
            given,
            "ticket pages given to orders paid before they existed"
        );
    }
    // The workers beside the server: they end when it stops.
    tokio::spawn(
        payments
            .clone()
            .listen_to_other_servers(state.subscribe_stopping()),
    );
    tokio::spawn(payments::refund::run_refund_worker(
        payments,
        state.subscribe_stopping(),
    ));
    tokio::spawn(state.clone().follow_catalog());
    if state.store().backend() == store::Backend::Postgres {
        tokio::spawn(
            state
                .store()
                .clone()
                .fold_counts_until(state.subscribe_stopping()),
        );
    }
    if let Some(mailer) = &mailer {
        tokio::spawn(mail::sender::run_outbox(
            state.clone(),
            mailer.clone(),
            state.subscribe_stopping(),
        ));
    }
    let mut mounted = Vec::new();
    if let Some(sandbox) = sandbox {
        mounted.push((sandbox::SANDBOX_PATH, sandbox::router(sandbox)));
    }
    if matches!(
        config.mail.as_ref().map(|m| &m.transport),
        Some(mail::MailTransport::Sandbox)
    ) {
        mounted.push((
            mail::sandbox::MAIL_SANDBOX_PATH,
            mail::sandbox::router(mail_sandbox.clone()),
        ));
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(state.clone(), mounted);
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        })
        .await
    });
    Ok(RunningServer {
        addr,
        state,
        stop: Some(stop),
        task: Some(task),
    })
}
