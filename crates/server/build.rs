//! Rebuilds when a migration is added (`sqlx::migrate!` embeds the files at compile time, and
//! cargo does not otherwise look at the folder), and tells the tests whether this machine has
//! a real SMTP server to start (aiosmtpd): the e-mail tests run wherever it is present and
//! are ignored, saying why, where it is not.

use std::process::{Command, Stdio};

fn has_aiosmtpd(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn main() {
    println!("cargo::rerun-if-changed=migrations");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rustc-check-cfg=cfg(have_aiosmtpd)");
    if has_aiosmtpd("python3") || has_aiosmtpd("/usr/bin/python3") {
        println!("cargo::rustc-cfg=have_aiosmtpd");
    }
}
