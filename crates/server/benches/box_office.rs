//! The box office at scale: `GET /admin/events` for 200 events and order search, with
//! 1,000,000 tickets sold, measured from another process over HTTP with keep-alive.
//!
//! The benchmark makes a SQLite file: a server loads a catalog of 200 events and a manager
//! into it, then 1,000,000 paid tickets (in 333,334 orders of 100,000 buyers) are written
//! straight into the database, the kept counts following by the same triggers as every
//! sale. A server is then started on the file in a child process (this same binary with
//! `--serve`), and the benchmark asks it, one request at a time on one kept-alive
//! connection, printing p50 / p99 / max of each kind of request.
//!
//! `cargo bench -p storefront-server --bench box_office`, or `-- --tickets 100000
//! --requests 200`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// Each benchmark uses what it needs of it.
#[allow(dead_code)]
#[path = "support/child.rs"]
mod child;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;
use storefront_server::ServerConfig;

use child::ChildServer;

const EVENTS: usize = 200;
const BUYERS: i64 = 100_000;

fn catalog() -> String {
    let mut catalog = String::from(
        "[[users]]\nemail = \"max@example.com\"\npassword = \"max-pass\"\nname = \"Max\"\n\
         role = \"manager\"\n\
         [[pages]]\nslug = \"hall\"\ntitle = \"Hall\"\n\
         [[calendars]]\nslug = \"main\"\nname = \"Main\"\npage = \"hall\"\n",
    );
    for i in 0..EVENTS {
        catalog.push_str(&format!(
            "[[events]]\nslug = \"night-{i}\"\ncalendar = \"main\"\nname = \"Night {i}\"\n\
             starts_at = \"+{}d 19:00\"\nticket_count = 100000\n\
             [[events.ticket_types]]\nname = \"Standard\"\ncost = \"12.50\"\n\
             [[events.ticket_types]]\nname = \"Concession\"\ncost = \"8.00\"\n",
            1 + i % 60
        ));
    }
    catalog
}

/// Serves the database until killed (the child process).
fn serve(database_url: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = storefront_server::start(ServerConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            database_url: database_url.to_owned(),
            ..ServerConfig::default()
        })
        .await
        .expect("the server starts");
        println!("listening on {}", server.origin());
        std::future::pending::<()>().await;
    });
}

/// Loads the catalog with a server, then writes the buyers, orders and tickets.
async fn fill(database_url: &str, tickets: i64) {
    let server = storefront_server::start(ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.to_owned(),
        catalog: Some(catalog()),
        ..ServerConfig::default()
    })
    .await
    .expect("the server starts");
    server.stop().await;
    let started = Instant::now();
    let mut db = sqlx::SqliteConnection::connect(database_url).await.unwrap();
    let orders = (tickets + 2) / 3;
    let statements = [
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {BUYERS}) \
             INSERT INTO users (email, name, password_hash, created_at) \
             SELECT printf('buyer%d@example.com', i), printf('Buyer %d Example', i), 'x', 0 FROM n"
        ),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {orders}) \
             INSERT INTO orders (id, user_id, status, total, created_at, paid_at, currency, \
                                 page_id, tickets_secret) \
             SELECT 1000 + i, (SELECT MIN(id) FROM users WHERE email LIKE 'buyer%') \
                      + ((i - 1) % {BUYERS}), 'paid', 3750, 1700000000 + i, 1700000000 + i, 'GBP', \
                    1, printf('secret-%d', i) FROM n"
        ),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {tickets} - 1) \
             INSERT INTO tickets (code, event_id, user_id, ticket_type_id, cost, state, order_id, \
                                  created_at) \
             SELECT printf('K%03X-%04X', i / 65536, i % 65536), 1 + i % {EVENTS}, \
                    (SELECT user_id FROM orders WHERE id = 1000 + i / 3 + 1), \
                    (SELECT MIN(id) FROM ticket_types WHERE event_id = 1 + i % {EVENTS}), \
                    1250, 'confirmed', 1000 + i / 3 + 1, 1700000000 + i FROM n"
        ),
    ];
    let mut tx = db.begin().await.unwrap();
    for statement in statements {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&mut db).await.unwrap();
    println!(
        "{tickets} tickets in {orders} orders of {BUYERS} buyers written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn percentile(times: &mut [Duration], p: f64) -> f64 {
    times.sort();
    let at = ((times.len() as f64 - 1.0) * p).round() as usize;
    times[at].as_secs_f64() * 1000.0
}

async fn measure(
    http: &reqwest::Client,
    name: &str,
    requests: usize,
    url: impl Fn(usize) -> String,
    token: &str,
    check: impl Fn(&Value),
) {
    let mut times = Vec::with_capacity(requests);
    for i in 0..requests {
        let started = Instant::now();
        let answer = http.get(url(i)).bearer_auth(token).send().await.unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        times.push(started.elapsed());
        assert!(status.is_success(), "{status}: {body}");
        check(&body);
    }
    let most = times.iter().max().copied().unwrap_or_default();
    println!(
        "| {name:<36} | {requests:>5} | {:>6.2} | {:>6.2} | {:>6.2} |",
        percentile(&mut times, 0.5),
        percentile(&mut times, 0.99),
        most.as_secs_f64() * 1000.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--serve") {
        return serve(&args[at + 1]);
    }
    let mut tickets: i64 = 1_000_000;
    let mut requests = 500;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--tickets" => tickets = rest.next().unwrap().parse().unwrap(),
            "--requests" => requests = rest.next().unwrap().parse().unwrap(),
            "--bench" => {}
            other => panic!("unknown option {other:?}"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("box-office.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(fill(&database_url, tickets));

    let child = ChildServer::spawn(&["--serve", &database_url]);
    let origin = child.origin.clone();
    runtime.block_on(async {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .unwrap();
        let login: Value = http
            .post(format!("{origin}/api/v1/auth/login"))
            .json(&json!({"email": "max@example.com", "password": "max-pass"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().unwrap().to_owned();
        println!(
            "\n{tickets} tickets sold over {EVENTS} events; one request at a time, one kept-alive \
             connection, from another process; times in ms on {} cores\n",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!("| request                              |     n |    p50 |    p99 |    max |");
        println!("|--------------------------------------|-------|--------|--------|--------|");
        let api = |path: String| format!("{origin}/api/v1{path}");
        let sold = tickets as u64;
        measure(
            &http,
            "GET /admin/events (200 events)",
            requests,
            |_| api("/admin/events".into()),
            &token,
            |body| {
                let events = body["events"].as_array().unwrap();
                assert_eq!(events.len(), EVENTS);
                let total: u64 = events.iter().map(|e| e["sold"].as_u64().unwrap()).sum();
                assert_eq!(total, sold, "every ticket counted");
            },
        )
        .await;
        let orders = (tickets + 2) / 3;
        // The buyers who have orders.
        let buyers = orders.min(BUYERS);
        measure(
            &http,
            "GET /admin/orders?q=<order number>",
            requests,
            |i| {
                api(format!(
                    "/admin/orders?q={}",
                    1001 + (i as i64 * 7919) % orders
                ))
            },
            &token,
            |body| assert_eq!(body["orders"].as_array().unwrap().len(), 1),
        )
        .await;
        measure(
            &http,
            "GET /admin/orders?q=<ticket code>",
            requests,
            |i| {
                let n = (i as i64 * 104_729) % tickets;
                api(format!(
                    "/admin/orders?q=k{:03x}{:04x}",
                    n / 65536,
                    n % 65536
                ))
            },
            &token,
            |body| assert_eq!(body["orders"].as_array().unwrap().len(), 1),
        )
        .await;
        measure(
            &http,
            "GET /admin/orders?q=<e-mail>",
            requests,
            |i| {
                api(format!(
                    "/admin/orders?q=buyer{}%40example",
                    1 + (i as i64 * 7919) % buyers
                ))
            },
            &token,
            |body| assert!(!body["orders"].as_array().unwrap().is_empty()),
        )
        .await;
        measure(
            &http,
            "GET /admin/orders?q=<part of a name>",
            requests,
            |i| {
                api(format!(
                    "/admin/orders?q=Buyer%20{}%20Ex",
                    1 + (i as i64 * 31) % buyers
                ))
            },
            &token,
            |body| assert!(!body["orders"].as_array().unwrap().is_empty()),
        )
        .await;
        measure(
            &http,
            "GET /admin/orders (newest)",
            requests,
            |_| api("/admin/orders".into()),
            &token,
            |body| assert_eq!(body["orders"].as_array().unwrap().len(), 50),
        )
        .await;
    });
}
