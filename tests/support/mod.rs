//! Shared by the end-to-end tests: the tools they need, the release binary, and a backend
//! started as its own process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Whether `program` runs here.
pub fn have(program: &str, version_flag: &str) -> bool {
    Command::new(program)
        .arg(version_flag)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Checks that a tool an end-to-end test needs is here; without it the test fails and says
/// how to install it. These tests are `#[ignore]`d: `cargo test -- --include-ignored` (and
/// `.ci/run`, which installs the tools) runs them.
pub fn require(program: &str, version_flag: &str, install: &str) {
    assert!(
        have(program, version_flag),
        "this test needs {program}, which is not installed. Install it with: {install}"
    );
}

/// The release binary, built on first use (the terminal tests run it as a person would).
pub fn release_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let mut build = Command::new(cargo);
            // What cargo sets for this test would make the nested build look different from
            // a plain `cargo build` and rebuild its dependencies every time the two alternate.
            for (name, _) in std::env::vars_os() {
                let name = name.to_string_lossy();
                if name.starts_with("CARGO_PKG_")
                    || name.starts_with("CARGO_MANIFEST_")
                    || name.starts_with("CARGO_CRATE_")
                    || name.starts_with("CARGO_BIN_")
                    || name == "CARGO_PRIMARY_PACKAGE"
                    || name == "CARGO_TARGET_TMPDIR"
                {
                    build.env_remove(name.as_ref());
                }
            }
            let status = build
                .current_dir(root)
                .args(["build", "--release", "--locked", "--bin", "storefront"])
                .status()
                .expect("cargo runs");
            assert!(status.success(), "the release build failed");
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target"));
            target.join("release/storefront")
        })
        .clone()
}

/// The origin a `storefront serve` child says it listens on: its first line on stdout
/// (piped), which it prints once it takes connections. `logs` says where to look if it
/// does not.
pub fn listening_origin(child: &mut Child, logs: &str) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a first line");
    line.trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("not serving; its first line: {line:?} ({logs})"))
        .to_owned()
}

/// `storefront serve` as a child process on a free port; killed when dropped.
pub struct Backend {
    child: Child,
    pub origin: String,
}

impl Backend {
    pub fn start(binary: &Path, catalog: &Path, dir: &Path) -> Backend {
        let mut child = Command::new(binary)
            .args(["serve", "--bind", "127.0.0.1:0", "--catalog"])
            .arg(catalog)
            .env("RUST_LOG", "warn")
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("storefront serve starts");
        let origin = listening_origin(&mut child, "its stderr is not kept");
        Backend { child, origin }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A catalog with two venues, ticket types, and a cart waiting for `ann@example.com`.
pub const CATALOG: &str = r#"
[[users]]
email = "ann@example.com"
password = "ann-pass"
name = "Ann Example"

[[users]]
email = "box@example.com"
password = "box-pass"
name = "Box Office"
role = "kiosk"

[[users]]
email = "door@example.com"
password = "door-pass"
name = "Dee Door"
role = "staff"

[[users]]
email = "max@example.com"
password = "max-pass"
name = "Max Manager"
role = "manager"

[[pages]]
slug = "granary"
title = "The Old Granary"

[[pages]]
slug = "riverside"
title = "Riverside Jazz Club"

[[readers]]
name = "door-1"
id = "rdr_e2e_door1"

[[calendars]]
slug = "barn"
name = "Barn Stage"
page = "granary"

[[calendars]]
slug = "river"
name = "River Stage"
page = "riverside"

[[events]]
slug = "wren-duo"
calendar = "barn"
name = "Wren Duo: Winter Songs"
starts_at = "+3d 19:30"
ticket_count = 80
[[events.ticket_types]]
name = "Standard"
cost = "14.00"
[[events.ticket_types]]
name = "Concession"
cost = "10.00"

[[events]]
slug = "late-jazz"
calendar = "river"
name = "Late Night Jazz Session"
starts_at = "+5d 21:00"
ticket_price = "12.50"
ticket_count = 60

[[products]]
slug = "membership"
title = "Riverside membership"
price = "25.00"
page = "riverside"

[[cart]]
user = "ann@example.com"
product = "membership"
quantity = 1
"#;

/// A shell script that "opens" a page the way a paying buyer would: it presses Pay.
pub fn paying_browser(dir: &Path) -> PathBuf {
    let script = dir.join("pay-in-browser.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ncurl -s -X POST -d outcome=pay \"$1\" > /dev/null\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}
