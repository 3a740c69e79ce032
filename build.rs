//! Tells the tests which tools this machine has: the terminal end-to-end tests (tmux, curl)
//! run wherever their tools are present, and are ignored, saying why, where they are not.

use std::process::{Command, Stdio};

fn have(program: &str, version_flag: &str) -> bool {
    Command::new(program)
        .arg(version_flag)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(have_tmux_and_curl)");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-changed=build.rs");
    if have("tmux", "-V") && have("curl", "--version") {
        println!("cargo::rustc-cfg=have_tmux_and_curl");
    }
}
