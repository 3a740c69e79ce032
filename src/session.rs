//! The remembered sign-in: a token kept in a file only the user can read.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Saved {
    server: String,
    token: String,
}

/// Where the token lives; `None` keeps nothing (kiosks, `remember = false`, the demo).
#[derive(Clone, Debug, Default)]
pub struct SessionStore {
    path: Option<PathBuf>,
}

impl SessionStore {
    pub fn none() -> SessionStore {
        SessionStore { path: None }
    }

    pub fn at(path: impl Into<PathBuf>) -> SessionStore {
        SessionStore {
            path: Some(path.into()),
        }
    }

    /// `session.json` in the user's local data directory.
    pub fn default_location() -> SessionStore {
        SessionStore {
            path: directories::ProjectDirs::from("", "", "storefront")
                .map(|dirs| dirs.data_local_dir().join("session.json")),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The token saved for this server, if any.
    pub fn load(&self, server: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.path.as_ref()?).ok()?;
        let saved: Saved = serde_json::from_str(&text).ok()?;
        (saved.server == server).then_some(saved.token)
    }

    pub fn save(&self, server: &str, token: &str) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string(&Saved {
            server: server.to_owned(),
            token: token.to_owned(),
        })?;
        // Written whole to a private file, then moved into place.
        let temp = path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    }

    pub fn clear(&self) -> std::io::Result<()> {
        match &self.path {
            Some(path) => match std::fs::remove_file(path) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_per_server_in_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::at(dir.path().join("nested/session.json"));
        assert_eq!(store.load("http://a"), None);
        store.save("http://a", "tok").unwrap();
        assert_eq!(store.load("http://a").as_deref(), Some("tok"));
        assert_eq!(store.load("http://b"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store.clear().unwrap();
        assert_eq!(store.load("http://a"), None);
        store.clear().unwrap();
    }

    #[test]
    fn no_store_keeps_nothing() {
        let store = SessionStore::none();
        store.save("http://a", "tok").unwrap();
        assert_eq!(store.load("http://a"), None);
    }
}
