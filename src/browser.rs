//! Opening the hosted checkout page in a browser, without blocking the interface.

use std::process::Stdio;

/// Opens `url` with `command` (the URL as its last argument), or the system's opener when
/// `command` is empty. The browser's own output never reaches the terminal we draw on.
pub async fn open(command: &str, url: &str) -> Result<(), String> {
    let command = command.trim();
    if command.is_empty() {
        let url = url.to_owned();
        return tokio::task::spawn_blocking(move || open::that_detached(&url))
            .await
            .map_err(|err| err.to_string())?
            .map_err(|err| format!("the system's opener failed: {err}"));
    }
    let mut words = command.split_whitespace();
    let program = words.next().unwrap_or_default();
    tokio::process::Command::new(program)
        .args(words)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|err| format!("{program}: {err}"))
}
