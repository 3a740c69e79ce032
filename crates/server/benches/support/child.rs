//! A benchmark's server in a process of its own: the benchmark run again with the arguments
//! given, its origin read from the `listening on` line it prints, killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct ChildServer {
    child: Child,
    pub origin: String,
}

impl ChildServer {
    /// Runs this benchmark again with `args` (which make it serve) and waits until it listens.
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> ChildServer {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let origin = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the server did not start: {line:?}"))
            .to_owned();
        ChildServer { child, origin }
    }

    /// The server's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
