//! The load benchmark: N buyers, each signed in once, buy a ticket, check out, pay on the
//! sandbox's page and long-poll until the order is paid, again and again for a fixed time.
//! It starts the servers itself and prints purchases per second and the p50/p99 of each
//! step, and checks that the tickets sold equal the purchases completed.
//!
//! A shared machine's speed drifts by more than the differences worth measuring, so each
//! concurrency is run in rounds, every setup once per round in turn, and the round with the
//! median purchases/s is shown beside the slowest and fastest.
//!
//! `cargo bench -p storefront-server --bench load`, or with options after `--`:
//! `--secs 10`, `--rounds 3`, `--concurrency 1,8,32`,
//! `--setups sqlite-file,sqlite-memory,postgres,postgres-socket,postgres-2,postgres-sumup-apart`,
//! `--sold 100000` (tickets of the event sold before the run: a purchase must cost the same
//! after them), `--in-process`.
//!
//! Each server runs in a process of its own (this benchmark run again with `--serve`), driven
//! over HTTP with keep-alive as a load tester does; `--in-process` runs them in this process
//! instead, for profiling both sides at once.
//! PostgreSQL runs on a throw-away cluster, or on `STOREFRONT_TEST_POSTGRES`, over TCP, and
//! (`postgres-socket`) over its Unix socket, as a server on the same machine reaches it.
//!
//! SumUp is the sandbox each server mounts, which keeps its checkouts in the shop's database,
//! except in `postgres-sumup-apart`: there SumUp's stand-in runs apart from the shop, as SumUp
//! does for a shop that is deployed (in the buyers' process, on a SQLite database in memory,
//! still on the same cores), and the shop reaches it over HTTP as it reaches SumUp.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// Each benchmark uses what it needs of it.
#[allow(dead_code)]
#[path = "support/child.rs"]
mod child;
#[path = "../tests/api/postgres.rs"]
mod postgres;
#[allow(dead_code)]
#[path = "../tests/api/smtp.rs"]
mod smtp;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use storefront_server::{RunningServer, ServerConfig};

use child::ChildServer;

// The server's own allocator, as `storefront serve` runs it.
#[global_allocator]
static ALLOCATOR: storefront_server::Allocator = storefront_server::Allocator;

const PASSWORD: &str = "load-pass";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setup {
    SqliteFile,
    /// A SQLite file, every paid order e-mailed through a local SMTP server (aiosmtpd).
    SqliteFileMail,
    SqliteMemory,
    Postgres,
    /// PostgreSQL over its Unix socket, as a server on the same machine reaches it.
    PostgresSocket,
    PostgresTwo,
    /// PostgreSQL, with SumUp's stand-in (the sandbox) apart from the shop and its database.
    PostgresSumUpApart,
}

impl Setup {
    fn name(self) -> &'static str {
        match self {
            Setup::SqliteFile => "sqlite-file",
            Setup::SqliteFileMail => "sqlite-file-mail",
            Setup::SqliteMemory => "sqlite-memory",
            Setup::Postgres => "postgres",
            Setup::PostgresSocket => "postgres-socket",
            Setup::PostgresTwo => "postgres-2",
            Setup::PostgresSumUpApart => "postgres-sumup-apart",
        }
    }

    fn parse(text: &str) -> Setup {
        match text {
            "sqlite-file" => Setup::SqliteFile,
            "sqlite-file-mail" => Setup::SqliteFileMail,
            "sqlite-memory" => Setup::SqliteMemory,
            "postgres" => Setup::Postgres,
            "postgres-socket" => Setup::PostgresSocket,
            "postgres-2" => Setup::PostgresTwo,
            "postgres-sumup-apart" => Setup::PostgresSumUpApart,
            other => refuse(&format!("unknown setup {other:?}")),
        }
    }
}

struct Options {
    secs: u64,
    /// Tickets of the event already sold when the run starts.
    sold: i64,
    /// The servers run in this process (for profiling) rather than in processes of their own.
    in_process: bool,
    rounds: usize,
    concurrency: Vec<usize>,
    setups: Vec<Setup>,
}

const USAGE: &str = "\
usage: cargo bench -p storefront-server --bench load -- [OPTIONS]
  --secs N              each run's length in seconds (5)
  --rounds N            rounds of every setup in turn (3)
  --concurrency N,N     buyers at once (1,8,32)
  --setups S,S          sqlite-file, sqlite-file-mail, sqlite-memory, postgres,
                        postgres-socket, postgres-2, postgres-sumup-apart (SumUp's
                        stand-in apart from the shop; all but sqlite-file-mail)
  --sold N              tickets of the event sold before the run (0)
  --in-process          the servers in this process, for profiling both sides at once
PostgreSQL runs on a throw-away cluster, or on STOREFRONT_TEST_POSTGRES (its socket's
directory in STOREFRONT_TEST_POSTGRES_SOCKET).";

/// Says what is wrong with the command line, and how it goes, and ends.
fn refuse(what: &str) -> ! {
    eprintln!("load: {what}\n{USAGE}");
    std::process::exit(2);
}

/// The value after `option`, read as a `T`.
fn value<T: std::str::FromStr>(option: &str, value: Option<&String>) -> T {
    value
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| refuse(&format!("{option} takes a number")))
}

fn options() -> Options {
    let mut options = Options {
        secs: 5,
        sold: 0,
        in_process: false,
        rounds: 3,
        concurrency: vec![1, 8, 32],
        setups: vec![
            Setup::SqliteFile,
            Setup::SqliteMemory,
            Setup::Postgres,
            Setup::PostgresSocket,
            Setup::PostgresTwo,
            Setup::PostgresSumUpApart,
        ],
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secs" => options.secs = value(arg, args.next()),
            "--sold" => options.sold = value(arg, args.next()),
            "--in-process" => options.in_process = true,
            "--rounds" => options.rounds = value(arg, args.next()),
            "--concurrency" => {
                let list = args.next().map_or("", String::as_str);
                options.concurrency = list
                    .split(',')
                    .map(|n| value(arg, Some(&n.to_owned())))
                    .collect();
            }
            "--setups" => {
                let list = args.next().map_or("", String::as_str);
                options.setups = list.split(',').map(Setup::parse).collect();
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            // What cargo bench passes along.
            "--bench" => {}
            other => refuse(&format!("unknown option {other:?}")),
        }
    }
    options
}

/// One event with a capacity no run reaches (so every payment runs the sold-out rule, and
/// nothing sells out) and a buyer per concurrent client.
fn catalog(buyers: usize) -> String {
    let mut catalog = String::from(
        "[[pages]]\nslug = \"hall\"\ntitle = \"Hall\"\n\
         [[calendars]]\nslug = \"main\"\nname = \"Main\"\npage = \"hall\"\n\
         [[events]]\nslug = \"big-night\"\ncalendar = \"main\"\nname = \"Big Night\"\n\
         starts_at = \"+3d 19:00\"\nticket_price = \"12.50\"\nmax_per_order = 10\nticket_count = 10000000\n",
    );
    for i in 0..buyers {
        catalog.push_str(&format!(
            "[[users]]\nemail = \"buyer{i}@example.com\"\npassword = \"{PASSWORD}\"\nname = \"Buyer {i}\"\n"
        ));
    }
    catalog
}

/// A server the buyers use: in this process, or in a process of its own.
enum Server {
    InProcess(Box<RunningServer>),
    Child(ChildServer),
}

impl Server {
    fn origin(&self) -> String {
        match self {
            Server::InProcess(server) => server.origin(),
            Server::Child(child) => child.origin.clone(),
        }
    }

    /// Its process, when it has one of its own.
    fn process(&self) -> Option<u32> {
        match self {
            Server::InProcess(_) => None,
            Server::Child(child) => Some(child.id()),
        }
    }

    async fn stop(self) {
        match self {
            Server::InProcess(server) => server.stop().await,
            // Killed when dropped.
            Server::Child(child) => drop(child),
        }
    }
}

/// What a server of a run is started with (also passed to a child as its arguments).
struct Serve {
    database_url: String,
    buyers: usize,
    smtp: Option<String>,
    presold: i64,
    /// SumUp's base URL, when it is not the server's own sandbox.
    sumup: Option<String>,
}

impl Serve {
    fn args(&self) -> Vec<String> {
        vec![
            "--serve".to_owned(),
            self.database_url.clone(),
            self.buyers.to_string(),
            self.smtp.clone().unwrap_or_else(|| "-".to_owned()),
            self.presold.to_string(),
            self.sumup.clone().unwrap_or_else(|| "-".to_owned()),
        ]
    }

    fn from_args(args: &[String]) -> Serve {
        Serve {
            database_url: args[0].clone(),
            buyers: args[1].parse().unwrap(),
            smtp: (args[2] != "-").then(|| args[2].clone()),
            presold: args[3].parse().unwrap(),
            sumup: (args[4] != "-").then(|| args[4].clone()),
        }
    }

    /// Starts the server in this process, and sells the tickets asked for before it.
    async fn start(&self) -> RunningServer {
        let server = storefront_server::start(ServerConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            database_url: self.database_url.clone(),
            catalog: Some(catalog(self.buyers)),
            mail: self.smtp.as_ref().map(|url| {
                storefront_server::mail::MailConfig::new(
                    storefront_server::mail::MailTransport::Smtp { url: url.clone() },
                    "Load <load@bench.example>",
                )
            }),
            sumup: self
                .sumup
                .as_ref()
                .map(|base_url| storefront_server::SumUpConfig {
                    base_url: base_url.clone(),
                    api_key: "load".to_owned(),
                    merchant_code: storefront_server::sandbox::SANDBOX_MERCHANT.to_owned(),
                    timeout: Duration::from_secs(10),
                }),
            ..ServerConfig::default()
        })
        .await
        .expect("the server starts");
        presell(&server, self.presold).await;
        server
    }

    /// Starts the server in a process of its own.
    fn spawn(&self) -> Server {
        Server::Child(ChildServer::spawn(&self.args()))
    }
}

/// A server of a run in this process (`--serve DATABASE BUYERS SMTP|- SOLD SUMUP|-`), until
/// killed.
fn serve(args: &[String]) {
    let serve = Serve::from_args(args);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = serve.start().await;
        println!("listening on {}", server.origin());
        std::future::pending::<()>().await;
    });
}

/// SumUp's stand-in apart from the shop: the sandbox on a database of its own, in this
/// process, until dropped.
struct SumUpApart {
    listener: Option<tokio::net::TcpListener>,
    origin: String,
    serving: Option<tokio::task::JoinHandle<()>>,
}

impl SumUpApart {
    /// Takes its address (the shop is started with it).
    async fn bind() -> SumUpApart {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        SumUpApart {
            origin: format!("http://{}", listener.local_addr().unwrap()),
            listener: Some(listener),
            serving: None,
        }
    }

    /// SumUp's base URL, as the shop is configured with it.
    fn base_url(&self) -> String {
        format!(
            "{}{}",
            self.origin,
            storefront_server::sandbox::SANDBOX_PATH
        )
    }

    /// Serves, notifying the shop at `shop` as SumUp would (its `return_url` callbacks and
    /// its event notifications).
    async fn serve(&mut self, shop: &str) {
        let listener = self.listener.take().expect("served once");
        let store = storefront_server::connect_database("sqlite::memory:")
            .await
            .unwrap();
        let sandbox = storefront_server::sandbox::SandboxState::new(
            store,
            &self.origin,
            &storefront_server::webhook_url(shop),
            None,
            storefront_server::sandbox::SandboxOptions::default(),
        )
        .unwrap();
        let app = axum::Router::new().nest_service(
            storefront_server::sandbox::SANDBOX_PATH,
            storefront_server::sandbox::router(sandbox),
        );
        self.serving = Some(tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        }));
    }
}

impl Drop for SumUpApart {
    fn drop(&mut self) {
        if let Some(serving) = &self.serving {
            serving.abort();
        }
    }
}

async fn start(
    setup: Setup,
    buyers: usize,
    dir: &tempfile::TempDir,
    smtp: Option<&smtp::SmtpServer>,
    presold: i64,
    in_process: bool,
) -> (Vec<Server>, Option<SumUpApart>) {
    let database_url = match setup {
        Setup::SqliteFile | Setup::SqliteFileMail => {
            format!("sqlite://{}", dir.path().join("load.db").display())
        }
        Setup::SqliteMemory => "sqlite::memory:".to_owned(),
        Setup::Postgres | Setup::PostgresTwo | Setup::PostgresSumUpApart => {
            postgres::fresh_database().await
        }
        Setup::PostgresSocket => postgres::over_socket(&postgres::fresh_database().await),
    };
    // An in-memory database lives in its process: the buyers' process holds it.
    let in_process = in_process || setup == Setup::SqliteMemory;
    let count = if setup == Setup::PostgresTwo { 2 } else { 1 };
    let mut sumup = match setup {
        Setup::PostgresSumUpApart => Some(SumUpApart::bind().await),
        _ => None,
    };
    let mut servers = Vec::new();
    for i in 0..count {
        let serve = Serve {
            database_url: database_url.clone(),
            buyers,
            smtp: smtp.map(|smtp| smtp.url()),
            // Sold once, by the first server.
            presold: if i == 0 { presold } else { 0 },
            sumup: sumup.as_ref().map(SumUpApart::base_url),
        };
        servers.push(if in_process {
            Server::InProcess(Box::new(serve.start().await))
        } else {
            serve.spawn()
        });
    }
    if let Some(sumup) = &mut sumup {
        sumup.serve(&servers[0].origin()).await;
    }
    (servers, sumup)
}

/// Times of each step of the purchases one buyer completed.
#[derive(Default)]
struct Times {
    buy: Vec<Duration>,
    checkout: Vec<Duration>,
    pay: Vec<Duration>,
    paid: Vec<Duration>,
}

impl Times {
    fn extend(&mut self, other: Times) {
        self.buy.extend(other.buy);
        self.checkout.extend(other.checkout);
        self.pay.extend(other.pay);
        self.paid.extend(other.paid);
    }
}

/// Sends requests to the servers in turn.
struct RoundRobin {
    origins: Vec<String>,
    next: usize,
}

impl RoundRobin {
    fn url(&mut self, path: &str) -> String {
        let origin = &self.origins[self.next % self.origins.len()];
        self.next += 1;
        format!("{origin}/api/v1{path}")
    }
}

async fn timed<T>(into: &mut Vec<Duration>, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = work.await;
    into.push(started.elapsed());
    out
}

/// Signs buyer `index` in (before the clock starts: a buyer signs in once).
async fn sign_in(http: &reqwest::Client, origin: &str, index: usize) -> String {
    let login: Value = http
        .post(format!("{origin}/api/v1/auth/login"))
        .json(&json!({"email": format!("buyer{index}@example.com"), "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["token"].as_str().unwrap().to_owned()
}

async fn buyer(
    http: reqwest::Client,
    origins: Vec<String>,
    index: usize,
    token: String,
    until: Instant,
) -> Times {
    let mut servers = RoundRobin {
        origins,
        next: index,
    };
    let mut times = Times::default();
    while Instant::now() < until {
        let bought = timed(
            &mut times.buy,
            http.post(servers.url("/events/1/tickets"))
                .bearer_auth(&token)
                .json(&json!({"quantity": 1}))
                .send(),
        )
        .await
        .unwrap();
        assert_eq!(bought.status(), 201, "{}", bought.text().await.unwrap());
        let checkout: Value = timed(&mut times.checkout, async {
            let answer = http
                .post(servers.url("/checkout"))
                .bearer_auth(&token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 201);
            answer.json().await.unwrap()
        })
        .await;
        let order_id = checkout["order"]["id"].as_i64().unwrap();
        let page = checkout["checkout_url"].as_str().unwrap().to_owned();
        let paid = timed(
            &mut times.pay,
            http.post(&page).form(&[("outcome", "pay")]).send(),
        )
        .await
        .unwrap();
        assert!(paid.status().is_success());
        timed(&mut times.paid, async {
            loop {
                let order: Value = http
                    .get(servers.url(&format!("/orders/{order_id}?wait=10")))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if order["status"] == "paid" {
                    break;
                }
            }
        })
        .await;
    }
    times
}

fn percentile(times: &mut [Duration], p: f64) -> f64 {
    if times.is_empty() {
        return 0.0;
    }
    times.sort();
    let at = ((times.len() as f64 - 1.0) * p).round() as usize;
    times[at].as_secs_f64() * 1000.0
}

/// CPU time taken so far, in clock ticks (Linux's `/proc`): by the whole machine (every core's
/// busy time), by the servers' processes and by this one (the buyers, and whatever runs in
/// this process: SQLite in memory's server, SumUp apart).
#[derive(Clone, Copy, Default)]
struct Cpu {
    machine: u64,
    servers: u64,
    buyers: u64,
}

impl Cpu {
    fn now(servers: &[Server]) -> Cpu {
        // user, nice, system, idle, iowait, irq, softirq, steal: all but idle and iowait.
        let machine = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|stat| {
                let line = stat.lines().next()?.to_owned();
                let ticks: Vec<u64> = line
                    .split_whitespace()
                    .skip(1)
                    .take(8)
                    .filter_map(|n| n.parse().ok())
                    .collect();
                (ticks.len() == 8).then(|| ticks.iter().sum::<u64>() - ticks[3] - ticks[4])
            })
            .unwrap_or(0);
        Cpu {
            machine,
            servers: servers
                .iter()
                .filter_map(Server::process)
                .map(|pid| process_ticks(&pid.to_string()))
                .sum(),
            buyers: process_ticks("self"),
        }
    }

    /// Milliseconds of the machine per purchase, `all = servers + buyers + rest` (the rest:
    /// PostgreSQL, and the kernel's work outside these processes).
    fn per_purchase(self, before: Cpu, purchases: usize) -> String {
        let ms = |ticks: u64| ticks as f64 * 1000.0 / TICKS_PER_SECOND / purchases.max(1) as f64;
        let (machine, servers, buyers) = (
            self.machine.saturating_sub(before.machine),
            self.servers.saturating_sub(before.servers),
            self.buyers.saturating_sub(before.buyers),
        );
        format!(
            "{:.2} = {:.2} + {:.2} + {:.2}",
            ms(machine),
            ms(servers),
            ms(buyers),
            ms(machine.saturating_sub(servers + buyers))
        )
    }
}

/// A process's user and system time so far, in clock ticks (0 when it cannot be read).
fn process_ticks(pid: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // After the command's name, which may hold spaces: fields 14 and 15 (utime, stime).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// What `/proc` counts times in: Linux's `USER_HZ`, 100 a second on the machines it runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// One run's figures: purchases/s, and the rest of its row.
struct Measured {
    rate: f64,
    steps: String,
}

/// Sells `sold` tickets of the event before the run, as paid tickets of the first buyer, in
/// one statement (the kept counts follow them, as for any ticket), and leaves the database as
/// a venue's is after selling that many over weeks: on PostgreSQL, once the server has folded
/// the million entries of its journal into the counts (the time it took is printed), the
/// tickets are analyzed, as autovacuum does within its minute after so many new rows. Without
/// that, the planner, knowing nothing of them, scans the buyer's cart by bitmap, which steps
/// over every earlier version of it (an index scan marks those dead as it passes).
async fn presell(server: &RunningServer, sold: i64) {
    if sold == 0 {
        return;
    }
    let mut conn = server.state().store().connection().await.unwrap();
    sqlx::query(
        "INSERT INTO tickets (code, event_id, user_id, cost, state, created_at) \
         SELECT 'SOLD-' || CAST(n AS TEXT), (SELECT id FROM events WHERE slug = 'big-night'), \
                (SELECT MIN(id) FROM users), 1250, 'confirmed', 0 \
         FROM (WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $1) \
               SELECT n FROM s) AS numbers",
    )
    .bind(sold)
    .execute(&mut *conn)
    .await
    .unwrap();
    if server.state().store().backend() != storefront_server::Backend::Postgres {
        return;
    }
    let folding = Instant::now();
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ticket_count_deltas")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "  {sold} sold: the server folded them into the counts in {:.1} s",
        folding.elapsed().as_secs_f64()
    );
    sqlx::query("ANALYZE tickets")
        .execute(&mut *conn)
        .await
        .unwrap();
}

async fn run(
    setup: Setup,
    concurrency: usize,
    secs: u64,
    presold: i64,
    in_process: bool,
) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let smtp = (setup == Setup::SqliteFileMail).then(|| {
        assert!(
            smtp::have_aiosmtpd(),
            "sqlite-file-mail needs aiosmtpd: apt-get install -y python3-aiosmtpd"
        );
        smtp::SmtpServer::start()
    });
    let (servers, sumup) =
        start(setup, concurrency, &dir, smtp.as_ref(), presold, in_process).await;
    let origins: Vec<String> = servers.iter().map(|s| s.origin()).collect();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let mut tokens = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        tokens.push(sign_in(&http, &origins[i % origins.len()], i).await);
    }
    let cpu_before = Cpu::now(&servers);
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let buyers: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| tokio::spawn(buyer(http.clone(), origins.clone(), i, token, until)))
        .collect();
    let mut times = Times::default();
    for buyer in buyers {
        times.extend(buyer.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let completed = times.paid.len();
    let cpu = Cpu::now(&servers).per_purchase(cpu_before, completed);
    if let Some(smtp) = &smtp {
        // The outbox's throughput: every paid order's e-mail, taken by the SMTP server.
        let waiting = completed.saturating_sub(smtp.messages().len());
        let drain = Instant::now();
        while smtp.messages().len() < completed && drain.elapsed() < Duration::from_secs(300) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let sent = smtp.messages().len();
        let total = started.elapsed().as_secs_f64();
        println!(
            "  mail: {sent} e-mails for {completed} purchases; {waiting} waited when buying stopped, \
             sent {:.1} s later; {:.0} e-mails/s over the run",
            drain.elapsed().as_secs_f64(),
            sent as f64 / total
        );
    }
    let event: Value = http
        .get(format!("{}/api/v1/events/1", origins[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sold = event["sold"].as_u64().unwrap() as usize - presold as usize;
    let steps = format!(
        "{:>5.1} / {:>5.1} | {:>5.1} / {:>5.1} | {:>5.1} / {:>5.1} | {:>5.1} / {:>5.1} | {:<25} | {}",
        percentile(&mut times.buy, 0.5),
        percentile(&mut times.buy, 0.99),
        percentile(&mut times.checkout, 0.5),
        percentile(&mut times.checkout, 0.99),
        percentile(&mut times.pay, 0.5),
        percentile(&mut times.pay, 0.99),
        percentile(&mut times.paid, 0.5),
        percentile(&mut times.paid, 0.99),
        cpu,
        if sold == completed {
            format!("{sold} = {completed}")
        } else {
            format!("MISMATCH: {sold} sold, {completed} completed")
        },
    );
    assert_eq!(
        sold, completed,
        "every completed purchase sold exactly one ticket"
    );
    for server in servers {
        server.stop().await;
    }
    drop(sumup);
    Measured {
        rate: completed as f64 / elapsed,
        steps,
    }
}

/// Prints the row of the round with the median purchases/s, and the range of all rounds.
fn print_row(setup: Setup, concurrency: usize, mut rounds: Vec<Measured>) {
    rounds.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    let (slowest, fastest) = (rounds[0].rate, rounds[rounds.len() - 1].rate);
    let median = &rounds[rounds.len() / 2];
    println!(
        "| {:<20} | {:>3} | {:>7.1} | {:>5.0}–{:<5.0} | {} |",
        setup.name(),
        concurrency,
        median.rate,
        slowest,
        fastest,
        median.steps
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--serve") {
        return serve(&args[at + 1..]);
    }
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{} s per run, {} rounds on {} cores, {} tickets sold before each run, the servers {}; \
         times in ms (p50 / p99) of the median round; cpu: ms of the machine per purchase, \
         all = servers + buyers (this process) + the rest (PostgreSQL, the kernel's other work)\n",
        options.secs,
        options.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        options.sold,
        if options.in_process {
            "in this process"
        } else {
            "in processes of their own (sqlite-memory: in this one)"
        },
    );
    println!(
        "| setup                |   N | purch/s | slow–fast   | buy p50/p99   | checkout p50/p99 | pay p50/p99   | paid p50/p99  | cpu ms/purchase           | sold = completed |"
    );
    println!(
        "|----------------------|-----|---------|-------------|---------------|------------------|---------------|---------------|---------------------------|------------------|"
    );
    runtime.block_on(async {
        for &concurrency in &options.concurrency {
            let mut measured: Vec<Vec<Measured>> =
                options.setups.iter().map(|_| Vec::new()).collect();
            for _ in 0..options.rounds.max(1) {
                for (setup, rounds) in options.setups.iter().zip(&mut measured) {
                    rounds.push(
                        run(
                            *setup,
                            concurrency,
                            options.secs,
                            options.sold,
                            options.in_process,
                        )
                        .await,
                    );
                }
            }
            for (setup, rounds) in options.setups.iter().zip(measured) {
                print_row(*setup, concurrency, rounds);
            }
        }
    });
}
