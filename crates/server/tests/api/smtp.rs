//! A real SMTP server for the tests: Debian's `python3-aiosmtpd` in a process of its own,
//! with a handler that keeps each message as a file and refuses, with `550`, any recipient
//! whose address begins with `bounce`. A message to an address beginning with `slow` is kept
//! at once but answered only after five seconds: a sender killed meanwhile has sent an
//! e-mail it never marked as sent.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HANDLER: &str = r#"
import asyncio, os, time

class Catcher:
    def __init__(self, folder):
        self.folder = folder

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(args[0])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith('bounce'):
            return '550 5.1.1 <%s>: no such mailbox here' % address
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.folder, '%020d.eml' % time.time_ns())
        with open(name + '.part', 'wb') as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(name + '.part', name)
        if any(to.startswith('slow') for to in envelope.rcpt_tos):
            await asyncio.sleep(5)
        return '250 Message accepted for delivery'
"#;

/// The Python that has aiosmtpd: `python3` on the path, else Debian's own.
pub fn python_with_aiosmtpd() -> Option<String> {
    ["python3", "/usr/bin/python3"]
        .into_iter()
        .find(|python| {
            Command::new(python)
                .args(["-c", "import aiosmtpd"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(str::to_owned)
}

/// Whether the tests can start an SMTP server here; `.ci/run` installs what they need.
pub fn have_aiosmtpd() -> bool {
    python_with_aiosmtpd().is_some()
}

/// A free loopback port (free a moment ago).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An SMTP server process, ended when dropped.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    folder: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts one on `port`, and waits until it takes connections.
    pub fn start_on(port: u16) -> SmtpServer {
        let python = python_with_aiosmtpd().expect(
            "this test needs aiosmtpd: apt-get install -y python3-aiosmtpd (.ci/run installs it)",
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("smtp_catcher.py"), HANDLER).unwrap();
        let folder = dir.path().join("mail");
        std::fs::create_dir(&folder).unwrap();
        let child = Command::new(python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "smtp_catcher.Catcher",
                folder.to_str().unwrap(),
            ])
            .env("PYTHONPATH", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the SMTP server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer {
            child,
            port,
            folder,
            _dir: dir,
        }
    }

    pub fn start() -> SmtpServer {
        SmtpServer::start_on(free_port())
    }

    /// `smtp://127.0.0.1:PORT`: plain, on loopback.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message taken so far, oldest first, as sent.
    pub fn messages(&self) -> Vec<String> {
        messages_in(&self.folder)
    }

    /// Waits until at least `count` messages are taken, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "waited in vain for {count} e-mail(s); got {messages:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn messages_in(folder: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A message's parts decoded (base64 or quoted-printable, as lettre chose for each), so that
/// a test can look for a code or a link in it.
pub fn decoded(message: &str) -> String {
    use base64::Engine;
    let message = message.replace("\r\n", "\n");
    let mut out = String::new();
    for part in message.split("\n--") {
        let (head, body) = part.split_once("\n\n").unwrap_or((part, ""));
        let head = head.to_ascii_lowercase();
        if head.contains("content-transfer-encoding: base64") {
            let compact: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_default();
            out.push_str(&String::from_utf8_lossy(&bytes));
        } else if head.contains("content-transfer-encoding: quoted-printable") {
            out.push_str(&quoted_printable(body));
        } else {
            out.push_str(body);
        }
        out.push('\n');
    }
    out
}

fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A header's value (the first), unfolded, its encoded words (RFC 2047) decoded.
pub fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\r\n\r\n").next().unwrap_or(message);
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| encoded_words(value.trim()))
    })
}

/// `=?utf-8?b?...?=` and `=?utf-8?q?...?=` words read as text; the spaces between two encoded
/// words dropped, as RFC 2047 says.
fn encoded_words(value: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut last_encoded = false;
    for word in value.split(' ') {
        let lower = word.to_ascii_lowercase();
        let decoded = if lower.starts_with("=?utf-8?b?") && word.ends_with("?=") {
            base64::engine::general_purpose::STANDARD
                .decode(&word[10..word.len() - 2])
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        } else if lower.starts_with("=?utf-8?q?") && word.ends_with("?=") {
            Some(quoted_printable(
                &word[10..word.len() - 2].replace('_', " "),
            ))
        } else {
            None
        };
        match decoded {
            Some(text) => {
                if !last_encoded && !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&text);
                last_encoded = true;
            }
            None => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(word);
                last_encoded = false;
            }
        }
    }
    out
}
