//! A throw-away PostgreSQL cluster for the tests: `initdb` and `pg_ctl` into a temporary
//! directory on a free port (as the `postgres` user when run as root), stopped and removed
//! when the test process ends. `STOREFRONT_TEST_POSTGRES` (a server URL whose user may create
//! databases) is used instead when set. Each test gets a database of its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;
use tokio::sync::OnceCell;

/// What the tests say when PostgreSQL is not here.
pub const MISSING: &str = "these tests need PostgreSQL's initdb and pg_ctl (apt-get install -y postgresql), \
     or STOREFRONT_TEST_POSTGRES=postgres://USER:PASSWORD@HOST:PORT naming a server where USER may create databases";

/// The cluster's URL without a database: `postgres://postgres@127.0.0.1:PORT`.
async fn server() -> &'static str {
    static SERVER: OnceCell<String> = OnceCell::const_new();
    SERVER
        .get_or_init(|| async {
            match std::env::var("STOREFRONT_TEST_POSTGRES") {
                Ok(url) if !url.is_empty() => url.trim_end_matches('/').to_owned(),
                _ => tokio::task::spawn_blocking(start_cluster)
                    .await
                    .expect("the cluster starts"),
            }
        })
        .await
}

/// The throw-away cluster's socket directory, once it is started.
static SOCKET_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The same database reached over the server's Unix socket instead of TCP, written as the
/// README writes it (`postgres:///DB?host=DIR&port=PORT&user=USER`). The throw-away
/// cluster's socket directory, or `STOREFRONT_TEST_POSTGRES_SOCKET` for a server named by
/// `STOREFRONT_TEST_POSTGRES`.
pub fn over_socket(database_url: &str) -> String {
    let dir = std::env::var_os("STOREFRONT_TEST_POSTGRES_SOCKET")
        .map(PathBuf::from)
        .or_else(|| SOCKET_DIR.get().cloned())
        .expect(
            "the server's socket directory: STOREFRONT_TEST_POSTGRES_SOCKET=DIR beside \
             STOREFRONT_TEST_POSTGRES (the throw-away cluster knows its own)",
        );
    let rest = database_url
        .strip_prefix("postgres://")
        .expect("a postgres:// URL");
    let (credentials, rest) = rest.rsplit_once('@').expect("a URL with user@host");
    let (_host, rest) = rest.split_once(':').expect("a URL with host:port");
    let (port, database) = rest.split_once('/').expect("a URL with /database");
    let (user, password) = match credentials.split_once(':') {
        Some((user, password)) => (user, format!("&password={password}")),
        None => (credentials, String::new()),
    };
    format!(
        "postgres:///{database}?host={}&port={port}&user={user}{password}",
        dir.display()
    )
}

/// A new, empty database; its URL.
pub async fn fresh_database() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let server = server().await;
    let name = format!(
        "storefront_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("the test cluster accepts connections");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("a test database is created");
    admin.close().await.ok();
    format!("{server}/{name}")
}

/// Where `initdb` and `pg_ctl` are: on the PATH, else Debian's versioned directory.
fn bin_dir() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A command run as the `postgres` user when we are root (PostgreSQL refuses root).
fn as_owner(root: bool, program: &Path) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("an address").port()
}

fn start_cluster() -> String {
    let bin = bin_dir().unwrap_or_else(|| panic!("{MISSING}"));
    let root = is_root();
    let dir = tempfile::Builder::new()
        .prefix("storefront-pg-")
        .tempdir()
        .expect("a temporary directory")
        .keep();
    if root {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("chown runs");
        assert!(
            status.success(),
            "cannot hand {} to postgres",
            dir.display()
        );
    }
    let data = dir.join("data");
    let status = as_owner(root, &bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("initdb runs");
    assert!(status.success(), "initdb failed in {}", dir.display());
    let port = free_port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=400 -c max_wal_size=64MB -c min_wal_size=32MB",
        dir.display()
    );
    let status = as_owner(root, &bin.join("pg_ctl"))
        .arg("-D")
        .arg(&data)
        .args(["-o", &options, "-w", "-l"])
        .arg(dir.join("log"))
        .arg("start")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("pg_ctl runs");
    assert!(
        status.success(),
        "the cluster did not start: see {}",
        dir.join("log").display()
    );
    SOCKET_DIR.set(dir.clone()).ok();
    // When this process ends, however it ends, stop the cluster and remove it.
    let stop = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {pg_ctl} -D {data} -m immediate stop; rm -rf {dir}",
        pid = std::process::id(),
        pg_ctl = if root {
            format!("runuser -u postgres -- {}", bin.join("pg_ctl").display())
        } else {
            bin.join("pg_ctl").display().to_string()
        },
        data = data.display(),
        dir = dir.display(),
    );
    // It outlives this process on purpose: nobody waits for it.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .args(["-c", &stop])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the cluster's watchdog starts");
    format!("postgres://postgres@127.0.0.1:{port}")
}
