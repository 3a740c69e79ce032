//! A burst of sign-ins against a server in another process: `--burst` (300) at once, half
//! with the right password, half for addresses with no account; an answer `503` is tried
//! again after its `Retry-After`, as a client does. Prints how long the burst took, how many
//! were told to come back, each sign-in's time until it was answered for good, and the
//! server's memory (resident, and its peak) before and after, read from `/proc`.
//!
//! `cargo bench -p storefront-server --bench sign_in_burst` (`-- --burst 300 --rounds 3`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/child.rs"]
mod child;

use std::time::{Duration, Instant};

use serde_json::json;
use storefront_server::ServerConfig;

use child::ChildServer;

// The server's own allocator, as `storefront serve` runs it.
#[global_allocator]
static ALLOCATOR: storefront_server::Allocator = storefront_server::Allocator;

const CATALOG: &str = r#"
[[users]]
email = "buyer@example.com"
password = "buyer-pass"
name = "Buyer"
"#;

/// The server, in this process (run as `--serve DATABASE`).
fn serve(database_url: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = storefront_server::start(ServerConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            database_url: database_url.to_owned(),
            catalog: Some(CATALOG.to_owned()),
            ..ServerConfig::default()
        })
        .await
        .expect("the server starts");
        println!("listening on {}", server.origin());
        std::future::pending::<()>().await;
    });
}

/// The process's resident memory and its peak, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentile(times: &mut [Duration], p: f64) -> f64 {
    times.sort();
    let at = ((times.len() as f64 - 1.0) * p).round() as usize;
    times[at].as_secs_f64() * 1000.0
}

/// One sign-in, tried again while the server is busy; its time, and how often it was busy.
async fn sign_in(http: &reqwest::Client, url: &str, i: usize) -> (Duration, u32) {
    let body = if i.is_multiple_of(2) {
        json!({"email": "buyer@example.com", "password": "buyer-pass"})
    } else {
        json!({"email": format!("nobody{i}@example.com"), "password": "a guess"})
    };
    let started = Instant::now();
    let mut busy = 0;
    loop {
        let response = http.post(url).json(&body).send().await.unwrap();
        match response.status().as_u16() {
            200 | 401 => return (started.elapsed(), busy),
            503 => {
                busy += 1;
                let wait: u64 = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            other => panic!("sign-in answered {other}"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--serve") {
        return serve(&args[at + 1]);
    }
    let mut burst = 300;
    let mut rounds = 3;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--burst" => burst = rest.next().unwrap().parse().unwrap(),
            "--rounds" => rounds = rest.next().unwrap().parse().unwrap(),
            "--bench" => {}
            other => panic!("unknown option {other:?}"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("burst.db").display());
    let child = ChildServer::spawn(&["--serve", &database_url]);
    let origin = child.origin.clone();
    let pid = child.id();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (rss, _) = memory(pid);
    println!(
        "\n{burst} sign-ins at once (half wrong), from another process, on {} cores; the server \
         at rest: {rss:.0} MiB\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "| round | took (s) | told 503 | p50 (ms) | p99 (ms) | max (ms) | RSS after (MiB) | peak RSS (MiB) |"
    );
    println!(
        "|-------|----------|----------|----------|----------|----------|-----------------|----------------|"
    );
    for round in 1..=rounds {
        let (took, mut times, busy) = runtime.block_on(async {
            // A connection per sign-in, as that many clients would have.
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(burst)
                .build()
                .unwrap();
            let url = format!("{origin}/api/v1/auth/login");
            let started = Instant::now();
            let answers =
                futures::future::join_all((0..burst).map(|i| sign_in(&http, &url, i))).await;
            let took = started.elapsed();
            let busy: u32 = answers.iter().map(|(_, busy)| busy).sum();
            let times: Vec<Duration> = answers.into_iter().map(|(time, _)| time).collect();
            (took, times, busy)
        });
        let (rss, peak) = memory(pid);
        println!(
            "| {round:>5} | {:>8.2} | {busy:>8} | {:>8.0} | {:>8.0} | {:>8.0} | {rss:>15.0} | {peak:>14.0} |",
            took.as_secs_f64(),
            percentile(&mut times, 0.5),
            percentile(&mut times, 0.99),
            percentile(&mut times, 1.0),
        );
    }
}
