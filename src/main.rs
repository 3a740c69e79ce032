//! `storefront`: the terminal client, the backend (`serve`), or both on one machine (`demo`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use std::time::Duration;

use storefront::app::App;
use storefront::config::{Flags, Settings};
use storefront::session::SessionStore;
use storefront_server::mail::{MailConfig, MailTransport};
use storefront_server::sandbox::SANDBOX_PATH;
use storefront_server::{DEMO_CATALOG, RunningServer, ServerConfig, StartError, SumUpConfig};

// The allocator the server is measured with (the client allocates little either way).
#[global_allocator]
static ALLOCATOR: storefront_server::Allocator = storefront_server::Allocator;

/// The demo catalog's card reader: its name, and its id at the sandbox.
const DEMO_READER: &str = "door-1";
const DEMO_READER_ID: &str = "rdr_demo_door1";

#[derive(Debug, Parser)]
#[command(
    name = "storefront",
    version,
    about = "A keyboard-driven terminal storefront for event tickets",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The storefront server (default: the config file's, else http://127.0.0.1:8080).
    #[arg(long, env = "STOREFRONT_SERVER")]
    server: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

/// What the client runs as; `demo` takes the same.
#[derive(Debug, Args)]
struct ClientArgs {
    /// The client's config file (default: storefront/config.toml in your config directory).
    #[arg(long, env = "STOREFRONT_CONFIG")]
    config: Option<PathBuf>,
    /// Run as an unattended ticket terminal (see the README's kiosk section).
    #[arg(long)]
    kiosk: bool,
    /// Check tickets in at the door (door staff): choose the event, then scan or type codes.
    #[arg(long, conflicts_with = "kiosk")]
    checkin: bool,
    /// The box office, for the venue's managers: sales live, any order, refunds, guest lists
    /// and the accountant's CSV.
    #[arg(long, conflicts_with_all = ["kiosk", "checkin"])]
    box_office: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the reference backend.
    Serve(Box<ServeArgs>),
    /// Run the backend in-process (demo catalog, in-memory database, SumUp sandbox) and the
    /// client against it.
    Demo(ClientArgs),
    /// Check a catalog against a database, or apply it (the venue's catalog, live).
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Pair a SumUp Solo card reader by the code it shows, or list the paired readers
    /// (SumUp's Readers API).
    #[command(subcommand)]
    Readers(ReadersCommand),
}

#[derive(Debug, Subcommand)]
enum ReadersCommand {
    /// Pair the reader showing CODE on its screen, under NAME (say door-1).
    Pair {
        /// The 8 or 9 letters and digits the reader shows.
        #[arg(long)]
        code: String,
        /// What the reader is called (the name `[[readers]]` in the catalog gives it).
        #[arg(long)]
        name: String,
        #[command(flatten)]
        sumup: SumUpArgs,
    },
    /// List the merchant's paired readers with their status (online, battery, busy).
    List {
        #[command(flatten)]
        sumup: SumUpArgs,
    },
}

/// SumUp's API and the merchant's credentials, as for `serve`.
#[derive(Debug, Args)]
struct SumUpArgs {
    /// SumUp's API (a server's sandbox answers at http://HOST:PORT/sumup-sandbox).
    #[arg(long, default_value = "https://api.sumup.com")]
    sumup_base_url: String,
    /// SumUp API key.
    #[arg(long, env = "SUMUP_API_KEY", hide_env_values = true)]
    sumup_api_key: Option<String>,
    /// The merchant whose readers these are.
    #[arg(long, env = "SUMUP_MERCHANT_CODE")]
    sumup_merchant_code: Option<String>,
}

impl SumUpArgs {
    fn client(&self) -> Result<storefront_server::sumup::SumUpClient, String> {
        let api_key = self
            .sumup_api_key
            .clone()
            .filter(|k| !k.is_empty())
            .ok_or("a SumUp API key is needed: pass --sumup-api-key or set SUMUP_API_KEY")?;
        let merchant_code = self
            .sumup_merchant_code
            .clone()
            .filter(|m| !m.is_empty())
            .ok_or(
                "a merchant code is needed: pass --sumup-merchant-code or set SUMUP_MERCHANT_CODE",
            )?;
        storefront_server::sumup::SumUpClient::new(&SumUpConfig {
            base_url: self.sumup_base_url.clone(),
            api_key,
            merchant_code,
            timeout: Duration::from_secs(15),
        })
        .map_err(|err| format!("cannot make an HTTP client: {err}"))
    }
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Print what the catalog would change (or why it is refused); change nothing. Exits 0
    /// when it would apply, 1 when refused.
    Check {
        /// The catalog (TOML).
        file: PathBuf,
        /// The database to compare with (default: an empty one).
        #[arg(long)]
        database: Option<String>,
    },
    /// Apply the catalog to the database in one transaction (same output as check).
    Apply {
        /// The catalog (TOML).
        file: PathBuf,
        /// The database to apply it to (sqlite://PATH or postgres://...).
        #[arg(long)]
        database: String,
    },
}

const SERVE_HELP: &str = "\
Production: SQLite (--database sqlite:///var/lib/storefront/shop.db) serves one process.
--database postgres://USER:PASSWORD@HOST/DB lets several servers share one database behind a
reverse proxy; give them all the same --public-url (where buyers and SumUp reach the shop).
Each server opens up to 1 connection per core + 4: size PostgreSQL's max_connections to match.
SumUp's webhook is <public url>/api/v1/webhooks/sumup, and any server may take it.
Back up with: sqlite3 shop.db \"VACUUM INTO 'backup.db'\"  or  pg_dump.
The README's \"Running in production\" section has an nginx example and a systemd unit.";

#[derive(Debug, Args)]
#[command(after_help = SERVE_HELP)]
struct ServeArgs {
    /// Address to listen on (HOST:PORT; a name like localhost is looked up); port 0 picks a
    /// free one.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// sqlite://PATH, sqlite::memory: or postgres://USER:PASSWORD@HOST/DB
    #[arg(long, default_value = "sqlite::memory:")]
    database: String,
    /// A catalog (TOML) to apply at start (filling an empty database, or syncing a live one)
    /// and again on SIGHUP.
    #[arg(long, conflicts_with = "demo")]
    catalog: Option<PathBuf>,
    /// Apply the built-in demo catalog.
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
    /// SumUp's webhook signing secret: only notifications signed with it are taken (the
    /// sandbox signs with it too).
    #[arg(long, env = "SUMUP_WEBHOOK_SECRET", hide_env_values = true)]
    sumup_webhook_secret: Option<String>,
    /// Logs (to stderr) as plain text lines, or as one JSON object a line for log shippers.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// The IANA time zone (Europe/London) of venues whose page names none of its own.
    #[arg(long, env = "STOREFRONT_TIMEZONE", default_value = "UTC")]
    timezone: String,
    /// The SMTP server buyers' e-mails go through: smtps://USER:PASS@HOST:465 (TLS),
    /// smtp://USER:PASS@HOST:587?tls=required (STARTTLS), or plain smtp://127.0.0.1:PORT on
    /// this machine only. Without it (and without --demo, which catches them at
    /// /mail-sandbox/) no e-mail is sent.
    #[arg(long, env = "STOREFRONT_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// Who the e-mails are from: "Venue <box@venue.example>" (needed with --smtp-url).
    #[arg(long, env = "STOREFRONT_MAIL_FROM")]
    mail_from: Option<String>,
    /// After a crash, how long the e-mails a server was sending wait before another server
    /// (or this one, restarted) sends them again, the same e-mails; longer than sending a
    /// batch of 32 can take.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    mail_claim_secs: u64,
    /// No sign-up: only the catalog's users have accounts (a private shop).
    #[arg(long)]
    no_signup: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Who the demo's e-mails are from.
const DEMO_MAIL_FROM: &str = "Storefront demo <tickets@demo.storefront.example>";

impl ServeArgs {
    /// How e-mail is sent: through --smtp-url, or caught in the sandbox for --demo.
    fn mail(&self) -> Result<Option<MailConfig>, String> {
        let mail = self.mail_transport()?.map(|mut mail| {
            mail.claim_lapse = Duration::from_secs(self.mail_claim_secs);
            mail
        });
        Ok(mail)
    }

    fn mail_transport(&self) -> Result<Option<MailConfig>, String> {
        match (&self.smtp_url, &self.mail_from) {
            (Some(url), Some(from)) => Ok(Some(MailConfig::new(
                MailTransport::Smtp { url: url.clone() },
                from.clone(),
            ))),
            (Some(_), None) => Err(
                "--smtp-url needs --mail-from \"Venue <box@venue.example>\" (or STOREFRONT_MAIL_FROM)"
                    .to_owned(),
            ),
            (None, _) if self.demo => Ok(Some(MailConfig::new(
                MailTransport::Sandbox,
                self.mail_from.clone().unwrap_or_else(|| DEMO_MAIL_FROM.to_owned()),
            ))),
            (None, Some(_)) => Err("--mail-from needs --smtp-url".to_owned()),
            (None, None) => Ok(None),
        }
    }

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

/// The client draws on a terminal and reads keys from it; without one it says so and stops.
fn has_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runs_client = !matches!(
        cli.command,
        Some(Command::Serve(_) | Command::Catalog(_) | Command::Readers(_))
    );
    if runs_client && !has_terminal() {
        eprintln!(
            "storefront: the client needs a terminal (stdin and stdout must be one); \
             to run only the backend, use `storefront serve`"
        );
        return ExitCode::from(2);
    }
    let flags = |server: Option<String>, args: &ClientArgs| Flags {
        server,
        config: args.config.clone(),
        kiosk: args.kiosk,
        checkin: args.checkin,
        box_office: args.box_office,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("storefront: cannot start: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), String> = runtime.block_on(async {
        match cli.command {
            None => client(&flags(cli.server.clone(), &cli.client)).await,
            Some(Command::Serve(args)) => serve(*args).await,
            Some(Command::Catalog(command)) => catalog(command).await,
            Some(Command::Readers(command)) => readers(command).await,
            // The demo runs its own server: none is named.
            Some(Command::Demo(args)) => demo(&flags(None, &args)).await,
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

/// The server's logs go to stderr: coloured only on a terminal (journald gets plain text), or
/// as JSON lines.
fn log_to_stderr(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => logs.json().try_init(),
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    log_to_stderr(args.log_format);
    let catalog = match (&args.catalog, args.demo) {
        (Some(path), _) => Some(
            std::fs::read_to_string(path)
                .map_err(|err| format!("cannot read the catalog {}: {err}", path.display()))?,
        ),
        (None, true) => Some(DEMO_CATALOG.to_owned()),
        (None, false) => None,
    };
    let sumup = args.sumup()?;
    let mail = args.mail()?;
    let catalog_path = args.catalog.clone();
    let bind = bind_address(&args.bind).await?;
    let server = storefront_server::start(ServerConfig {
        bind,
        database_url: args.database,
        catalog,
        public_url: args.public_url,
        sumup,
        webhook_secret: args.sumup_webhook_secret.filter(|s| !s.is_empty()),
        timezone: args.timezone,
        mail,
        signup: !args.no_signup,
        ..ServerConfig::default()
    })
    .await
    .map_err(|err| match (&args.catalog, &err) {
        // Say which file the catalog's problem is in.
        (Some(path), StartError::Catalog(_)) => format!("{}: {err}", path.display()),
        _ => err.to_string(),
    })?;
    // Listened to before saying so: a signal sent the moment we say it is not missed.
    let signals = Signals::listen(catalog_path.is_some());
    println!("listening on {}", server.origin());
    run_until_signal(server, catalog_path, signals).await
}

/// Ctrl-C, SIGTERM and (with a catalog file) SIGHUP, listened to from the moment this is made
/// (tokio's `ctrl_c()` would listen only once first awaited).
struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn listen(catalog: bool) -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
                hangup: catalog.then(|| signal(SignalKind::hangup()).ok()).flatten(),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = catalog;
            Signals {}
        }
    }
}

/// Waits for a signal the stream may never give (none when it could not be listened to).
#[cfg(unix)]
async fn next_of(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// `--bind HOST:PORT`, a name looked up (the first address it has).
async fn bind_address(bind: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = bind.parse() {
        return Ok(addr);
    }
    let not_an_address = |why: String| {
        format!(
            "--bind {bind:?} is not an address to listen on ({why}); write HOST:PORT, like 127.0.0.1:8080 or localhost:8080"
        )
    };
    tokio::net::lookup_host(bind)
        .await
        .map_err(|err| not_an_address(err.to_string()))?
        .next()
        .ok_or_else(|| not_an_address("the name has no address".to_owned()))
}

/// `storefront readers pair|list`: through SumUp's Readers API.
async fn readers(command: ReadersCommand) -> Result<(), String> {
    match command {
        ReadersCommand::Pair { code, name, sumup } => {
            let reader = sumup
                .client()?
                .pair_reader(code.trim(), name.trim())
                .await
                .map_err(|err| format!("the reader was not paired: {err}"))?;
            println!(
                "paired {} as {:?} (id {}); name it in the catalog's [[readers]] with this id",
                reader.device.identifier, reader.name, reader.id
            );
            Ok(())
        }
        ReadersCommand::List { sumup } => {
            let readers = sumup
                .client()?
                .readers()
                .await
                .map_err(|err| format!("cannot list the readers: {err}"))?;
            if readers.is_empty() {
                println!("no reader is paired: storefront readers pair --code CODE --name NAME");
            }
            for (reader, status) in readers {
                println!("{}", reader_line(&reader, status.as_ref()));
            }
            Ok(())
        }
    }
}

/// One reader as `readers list` prints it: name, id, and how it is now.
fn reader_line(
    reader: &storefront_server::sumup::Reader,
    status: Option<&storefront_server::sumup::ReaderStatusNow>,
) -> String {
    let now = match status {
        None => "status unknown".to_owned(),
        Some(status) => {
            // SumUp's own words (`WAITING_FOR_CARD`), as a person reads them.
            let said = |value: serde_json::Value| {
                storefront::text::sanitize(value.as_str().unwrap_or("?"))
                    .to_lowercase()
                    .replace('_', " ")
            };
            let mut words = vec![said(serde_json::json!(status.status))];
            if let Some(battery) = status.battery_level {
                words.push(format!("battery {battery:.0} %"));
            }
            if let Some(state) = &status.state {
                words.push(said(serde_json::json!(state)));
            }
            words.join(", ")
        }
    };
    format!(
        "{:<20} {:<30} {}",
        storefront::text::sanitize(&reader.name),
        storefront::text::sanitize(&reader.id),
        now
    )
}

/// `storefront catalog check|apply`: prints the changes or the refusals.
async fn catalog(command: CatalogCommand) -> Result<(), String> {
    let (file, database, apply) = match command {
        CatalogCommand::Check { file, database } => (
            file,
            database.unwrap_or_else(|| "sqlite::memory:".to_owned()),
            false,
        ),
        CatalogCommand::Apply { file, database } => (file, database, true),
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|err| format!("cannot read the catalog {}: {err}", file.display()))?;
    let store = storefront_server::connect_database(&database)
        .await
        .map_err(|err| err.to_string())?;
    let result = if apply {
        storefront_server::catalog::apply_catalog(&store, &text, None).await
    } else {
        storefront_server::catalog::check_catalog(&store, &text).await
    };
    store.close().await;
    println!("{}", storefront_server::catalog::report(&result));
    match result {
        Ok(_) => Ok(()),
        Err(_) => Err(format!("{}: the catalog was refused", file.display())),
    }
}

fn settings(flags: &Flags) -> Result<Settings, String> {
    Settings::resolve(flags, |name| std::env::var(name).ok()).map_err(|err| err.to_string())
}

/// Logs go to a file in the user's state directory: never to the terminal we draw on.
fn log_to_file() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dirs = directories::ProjectDirs::from("", "", "storefront")?;
    let dir = dirs
        .state_dir()
        .unwrap_or_else(|| dirs.data_local_dir())
        .to_owned();
    std::fs::create_dir_all(&dir).ok()?;
    let (writer, guard) =
        tracing_appender::non_blocking(tracing_appender::rolling::never(dir, "storefront.log"));
    let filter = tracing_subscriber::EnvFilter::try_from_env("STOREFRONT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

async fn client(flags: &Flags) -> Result<(), String> {
    let settings = settings(flags)?;
    let _logs = log_to_file();
    let store = if settings.remember_session {
        SessionStore::default_location()
    } else {
        SessionStore::none()
    };
    let token = store.load(&settings.server);
    let (app, effects) = App::new(settings, token, tokio::time::Instant::now());
    storefront::terminal::run(app, effects, store)
        .await
        .map_err(|err| format!("the terminal failed: {err}"))
}

async fn demo(flags: &Flags) -> Result<(), String> {
    let mut settings = settings(flags)?;
    let _logs = log_to_file();
    let server = storefront_server::start(ServerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        database_url: "sqlite::memory:".to_owned(),
        catalog: Some(DEMO_CATALOG.to_owned()),
        // The sandbox signs its notifications and the server checks them, as in production.
        webhook_secret: Some(uuid::Uuid::new_v4().simple().to_string()),
        // E-mails are caught, shown at /mail-sandbox/.
        mail: Some(MailConfig::new(MailTransport::Sandbox, DEMO_MAIL_FROM)),
        ..ServerConfig::default()
    })
    .await
    .map_err(|err| err.to_string())?;
    tracing::info!(origin = %server.origin(), "demo server started");
    // A regular's paid orders: tickets for the door to check in, sales for the box office.
    let demo_codes = match storefront::api::ApiClient::new(&server.origin()) {
        Ok(api) => storefront::demo::seed_sales(&api)
            .await
            .unwrap_or_else(|err| {
                tracing::warn!(error = %err, "the demo's sales were not made");
                Vec::new()
            }),
        Err(err) => return Err(format!("cannot make an HTTP client for the demo: {err}")),
    };
    settings.server = server.origin();
    // The demo's session is thrown away with its in-memory shop.
    settings.remember_session = false;
    if settings.kiosk && settings.kiosk_account.is_none() {
        // A demo kiosk sells as the demo's box office: no customer account is needed.
        settings.kiosk_account = Some((
            "box-office@example.com".to_owned(),
            storefront::config::Password::new("box-office"),
        ));
        settings
            .kiosk_terminal
            .get_or_insert_with(|| "demo-kiosk".to_owned());
        // It stands at the first venue's door, and sells that venue's events and products.
        settings
            .kiosk_page
            .get_or_insert_with(|| "old-granary".to_owned());
    }
    // A demo kiosk takes cards on the sandbox's virtual Solo, a web page.
    let demo_reader_page = (settings.kiosk && settings.kiosk_reader.is_none()).then(|| {
        settings.kiosk_reader = Some(DEMO_READER.to_owned());
        format!("{}{SANDBOX_PATH}/readers/{DEMO_READER_ID}", server.origin())
    });
    let kiosk = settings.kiosk;
    let (mut app, effects) = App::new(settings, None, tokio::time::Instant::now());
    let (email, password) = if app.is_door() {
        ("door@example.com", "door")
    } else if app.is_office() {
        ("manager@example.com", "manager")
    } else {
        ("demo@example.com", "demo")
    };
    app.demo_hint = Some((email.to_owned(), password.to_owned()));
    if !app.is_door() && !app.is_office() && !kiosk {
        app.demo_note = Some("Its cart already holds 2 items (£33.50).".to_owned());
    }
    app.demo_reader_page = demo_reader_page;
    app.demo_mail_page = Some(format!("{}/mail-sandbox/", server.origin()));
    app.demo_codes = demo_codes;
    if !kiosk {
        // At a kiosk no previous email is ever shown.
        app.signin.email = email.into();
    }
    let result = storefront::terminal::run(app, effects, SessionStore::none()).await;
    server.stop().await;
    result.map_err(|err| format!("the terminal failed: {err}"))
}

/// Applies the catalog file again whenever the process gets SIGHUP (with `serve --catalog`).
#[cfg(unix)]
async fn reload_on_hangup(
    server: &RunningServer,
    catalog: Option<PathBuf>,
    hangups: Option<tokio::signal::unix::Signal>,
) {
    let (Some(path), Some(mut hangups)) = (catalog, hangups) else {
        return std::future::pending().await;
    };
    while hangups.recv().await.is_some() {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) => {
                tracing::error!(file = %path.display(), error = %err, "cannot read the catalog");
                continue;
            }
        };
        match server.apply_catalog(&text).await {
            Ok(applied) => tracing::info!(
                file = %path.display(),
                changes = applied.changes.len(),
                "catalog applied on SIGHUP"
            ),
            Err(err) => tracing::error!(
                file = %path.display(),
                error = %err,
                "the catalog was refused on SIGHUP; nothing changed"
            ),
        }
    }
}

/// Serves until Ctrl-C or SIGTERM, then shuts down gracefully; SIGHUP applies the catalog
/// file again.
async fn run_until_signal(
    server: RunningServer,
    catalog: Option<PathBuf>,
    signals: Signals,
) -> Result<(), String> {
    #[cfg(unix)]
    {
        let Signals {
            mut interrupt,
            mut terminate,
            hangup,
        } = signals;
        tokio::select! {
            _ = next_of(&mut interrupt) => {}
            _ = next_of(&mut terminate) => {}
            _ = reload_on_hangup(&server, catalog, hangup) => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (catalog, signals);
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping: finishing the requests in flight");
    server.stop().await;
    eprintln!("storefront: stopped");
    Ok(())
}
