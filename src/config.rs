//! The client's settings: command-line flags, then the environment, then the config file,
//! then defaults (`config.example.toml` documents every key).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    #[default]
    Dark,
    Light,
    Mono,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileConfig {
    server: Option<String>,
    session: SessionSection,
    checkout: CheckoutSection,
    kiosk: KioskSection,
    ui: UiSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SessionSection {
    remember: bool,
}

impl Default for SessionSection {
    fn default() -> Self {
        SessionSection { remember: true }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CheckoutSection {
    open_browser: Option<bool>,
    browser: String,
    poll_timeout_secs: u64,
}

impl Default for CheckoutSection {
    fn default() -> Self {
        CheckoutSection {
            open_browser: None,
            browser: String::new(),
            poll_timeout_secs: 900,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct KioskSection {
    enabled: bool,
    idle_timeout_secs: u64,
    reset_after_purchase_secs: u64,
    title: Option<String>,
    exit_pin: Option<String>,
    account: Option<String>,
    password_file: Option<PathBuf>,
    terminal: Option<String>,
    reader: Option<String>,
    page: Option<String>,
}

impl Default for KioskSection {
    fn default() -> Self {
        KioskSection {
            enabled: false,
            idle_timeout_secs: 90,
            reset_after_purchase_secs: 30,
            title: None,
            exit_pin: None,
            account: None,
            password_file: None,
            terminal: None,
            reader: None,
            page: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct UiSection {
    mouse: bool,
    theme: ThemeName,
    /// Addresses as OSC 8 links; unset means where the terminal is likely to take them.
    hyperlinks: Option<bool>,
}

impl Default for UiSection {
    fn default() -> Self {
        UiSection {
            mouse: true,
            theme: ThemeName::Dark,
            hyperlinks: None,
        }
    }
}

/// Everything the client runs with, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub server: String,
    /// Keep the sign-in token between runs (never in kiosk mode).
    pub remember_session: bool,
    /// Open the hosted checkout page in a browser.
    pub open_browser: bool,
    /// The command to open it with (the URL is its last argument); empty = the system's opener.
    pub browser: String,
    pub poll_timeout: Duration,
    pub kiosk: bool,
    pub kiosk_idle_timeout: Duration,
    pub kiosk_reset_after_purchase: Duration,
    /// The venue's name on the start screen; `None` = the first page's title.
    pub kiosk_title: Option<String>,
    /// With a PIN, F10 then the PIN exits the kiosk; without one, only a signal does.
    pub kiosk_exit_pin: Option<String>,
    /// The venue's box-office account a kiosk signs in as, so that customers need none.
    pub kiosk_account: Option<(String, Password)>,
    /// This kiosk's name (`X-Terminal`): each terminal on one account has its own cart.
    pub kiosk_terminal: Option<String>,
    /// The card reader (its name in the server's catalog) this kiosk takes cards on.
    pub kiosk_reader: Option<String>,
    /// The venue (its page's slug) a kiosk sells for: its events and products only.
    pub kiosk_page: Option<String>,
    /// At the door: door staff check tickets in (`--checkin`).
    pub checkin: bool,
    /// The box office, for managers (`--box-office`).
    pub box_office: bool,
    pub mouse: bool,
    pub theme: ThemeName,
    /// Addresses are drawn as OSC 8 links (clickable where the terminal supports them).
    pub hyperlinks: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings::from_file(FileConfig::default(), false)
    }
}

/// What the command line says.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub server: Option<String>,
    pub config: Option<PathBuf>,
    pub kiosk: bool,
    pub checkin: bool,
    pub box_office: bool,
}

/// A config problem, said so that it can be fixed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("the kiosk is not set up: {0}")]
    Kiosk(String),
    #[error("{0}")]
    Server(String),
}

/// The server's address as the client needs it: `http(s)://HOST[:PORT]`, without the API's
/// path (which the client adds). Said plainly when it is not.
pub fn check_server(server: &str) -> Result<String, ConfigError> {
    let server = server.trim().trim_end_matches('/');
    let Some((scheme, rest)) = server.split_once("://") else {
        return Err(ConfigError::Server(format!(
            "the server address {server:?} has no scheme: write http://{server} or https://{server}"
        )));
    };
    if scheme != "http" && scheme != "https" {
        return Err(ConfigError::Server(format!(
            "the server address {server:?} must start with http:// or https://"
        )));
    }
    if rest.is_empty() || rest.starts_with('/') {
        return Err(ConfigError::Server(format!(
            "the server address {server:?} names no host"
        )));
    }
    if let Some((host, path)) = rest.split_once('/') {
        let base = format!("{scheme}://{host}");
        let hint = if path.trim_end_matches('/') == "api/v1" {
            format!(" (the client adds /{path} itself)")
        } else {
            String::new()
        };
        return Err(ConfigError::Server(format!(
            "the server address {server:?} has a path: give the server's origin, {base}{hint}"
        )));
    }
    Ok(server.to_owned())
}

/// A password that never appears in a log or a debug print.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(text: impl Into<String>) -> Password {
        Password(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<hidden>")
    }
}

/// The kiosk's password from its file, which only the kiosk's user may read.
fn read_password_file(path: &Path) -> Result<Password, ConfigError> {
    let refuse = |why: String| ConfigError::Kiosk(format!("{}: {why}", path.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|err| refuse(err.to_string()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(refuse(format!(
                "others can read it (mode {:o}); make it readable by the kiosk's user only (chmod 600)",
                mode & 0o777
            )));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|err| refuse(err.to_string()))?;
    let password = text.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(refuse("it is empty".to_owned()));
    }
    Ok(Password::new(password))
}

/// The default config file: `storefront/config.toml` in the user's config directory.
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "storefront")
        .map(|dirs| dirs.config_dir().join("config.toml"))
}

impl Settings {
    /// Resolves flags, then `env` (a lookup, so tests need not touch the process), then the
    /// config file, then defaults.
    pub fn resolve(
        flags: &Flags,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let explicit = flags.config.clone().or_else(|| {
            env("STOREFRONT_CONFIG")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
        });
        let file = match &explicit {
            Some(path) => read_config(path)?,
            None => match default_config_path() {
                Some(path) if path.exists() => read_config(&path)?,
                _ => FileConfig::default(),
            },
        };
        let kiosk = flags.kiosk || file.kiosk.enabled;
        let server_from_file = file.server.clone();
        let kiosk_account = match (&file.kiosk.account, &file.kiosk.password_file) {
            (Some(account), Some(path)) if kiosk => {
                Some((account.clone(), read_password_file(path)?))
            }
            (Some(_), None) if kiosk => {
                return Err(ConfigError::Kiosk(
                    "[kiosk] account needs password_file, a file holding its password".to_owned(),
                ));
            }
            _ => None,
        };
        let kiosk_terminal = file.kiosk.terminal.clone().filter(|t| !t.trim().is_empty());
        // Terminals that do not know OSC 8 ignore it, except the Linux console and dumb
        // terminals; a kiosk shows QR codes, not links.
        let hyperlinks = file.ui.hyperlinks.unwrap_or_else(|| {
            !kiosk
                && env("TERM").is_some_and(|term| !matches!(term.as_str(), "linux" | "dumb" | ""))
        });
        let mut settings = Settings::from_file(file, kiosk);
        settings.checkin = flags.checkin && !kiosk;
        settings.box_office = flags.box_office && !kiosk && !flags.checkin;
        settings.kiosk_account = kiosk_account;
        settings.kiosk_terminal = kiosk_terminal;
        settings.hyperlinks = hyperlinks;
        settings.server = flags
            .server
            .clone()
            .or_else(|| env("STOREFRONT_SERVER").filter(|s| !s.is_empty()))
            .or(server_from_file)
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        settings.server = check_server(&settings.server)?;
        if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            settings.theme = ThemeName::Mono;
        }
        Ok(settings)
    }

    fn from_file(file: FileConfig, kiosk: bool) -> Settings {
        Settings {
            server: file.server.unwrap_or_else(|| DEFAULT_SERVER.to_owned()),
            remember_session: file.session.remember && !kiosk,
            // In kiosk mode the QR code is the way to pay; a browser only when asked for.
            open_browser: file.checkout.open_browser.unwrap_or(!kiosk),
            browser: file.checkout.browser,
            poll_timeout: Duration::from_secs(file.checkout.poll_timeout_secs.max(1)),
            kiosk,
            kiosk_idle_timeout: Duration::from_secs(file.kiosk.idle_timeout_secs.max(10)),
            kiosk_reset_after_purchase: Duration::from_secs(
                file.kiosk.reset_after_purchase_secs.max(1),
            ),
            kiosk_title: file.kiosk.title.filter(|t| !t.trim().is_empty()),
            kiosk_exit_pin: file.kiosk.exit_pin.filter(|p| !p.is_empty()),
            kiosk_account: None,
            kiosk_terminal: None,
            kiosk_reader: file.kiosk.reader.filter(|r| !r.trim().is_empty() && kiosk),
            kiosk_page: file
                .kiosk
                .page
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty() && kiosk),
            checkin: false,
            box_office: false,
            mouse: file.ui.mouse,
            hyperlinks: file.ui.hyperlinks.unwrap_or(false),
            theme: file.ui.theme,
        }
    }
}

fn read_config(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|err| ConfigError::Invalid {
        path: path.to_owned(),
        message: err.message().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_address_is_an_origin_with_a_scheme() {
        assert_eq!(
            check_server("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            check_server("https://shop.example").unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            check_server("shop.example").unwrap_err().to_string(),
            "the server address \"shop.example\" has no scheme: write http://shop.example or \
             https://shop.example"
        );
        assert_eq!(
            check_server("http://shop.example/api/v1")
                .unwrap_err()
                .to_string(),
            "the server address \"http://shop.example/api/v1\" has a path: give the server's \
             origin, http://shop.example (the client adds /api/v1 itself)"
        );
        assert!(check_server("ftp://shop.example").is_err());
        assert!(check_server("http://").is_err());
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn the_example_config_is_valid_and_says_the_defaults() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
        let flags = Flags {
            config: Some(example.into()),
            ..Flags::default()
        };
        let settings = Settings::resolve(&flags, no_env).unwrap();
        assert_eq!(settings, Settings::default());
    }

    #[test]
    fn flags_beat_environment_beat_file() {
        let file = write("server = \"http://file:1\"\n[ui]\ntheme = \"light\"\n");
        let env = |name: &str| (name == "STOREFRONT_SERVER").then(|| "http://env:2".to_owned());
        let mut flags = Flags {
            config: Some(file.path().into()),
            ..Flags::default()
        };
        assert_eq!(
            Settings::resolve(&flags, no_env).unwrap().server,
            "http://file:1"
        );
        assert_eq!(
            Settings::resolve(&flags, env).unwrap().server,
            "http://env:2"
        );
        flags.server = Some("http://flag:3".into());
        let settings = Settings::resolve(&flags, env).unwrap();
        assert_eq!(settings.server, "http://flag:3");
        assert_eq!(settings.theme, ThemeName::Light);
    }

    #[cfg(unix)]
    #[test]
    fn the_kiosk_password_file_must_be_the_kiosks_alone() {
        use std::os::unix::fs::PermissionsExt;
        let password = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(password.path(), "s3cret\n").unwrap();
        let config = write(&format!(
            "[kiosk]\nenabled = true\naccount = \"box@example.com\"\npassword_file = \"{}\"\nterminal = \"door-1\"\n",
            password.path().display()
        ));
        let flags = Flags {
            config: Some(config.path().into()),
            ..Flags::default()
        };
        std::fs::set_permissions(password.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Settings::resolve(&flags, no_env).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(password.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        let settings = Settings::resolve(&flags, no_env).unwrap();
        let (account, secret) = settings.kiosk_account.clone().unwrap();
        assert_eq!(
            (account.as_str(), secret.expose()),
            ("box@example.com", "s3cret")
        );
        assert_eq!(settings.kiosk_terminal.as_deref(), Some("door-1"));
        assert!(!format!("{settings:?}").contains("s3cret"), "never printed");
    }

    #[test]
    fn the_config_file_can_come_from_the_environment() {
        let file = write("[ui]\nmouse = false\n");
        let path = file.path().to_string_lossy().into_owned();
        let env = move |name: &str| (name == "STOREFRONT_CONFIG").then(|| path.clone());
        assert!(!Settings::resolve(&Flags::default(), env).unwrap().mouse);
    }

    #[test]
    fn no_color_means_mono() {
        let env = |name: &str| (name == "NO_COLOR").then(|| "1".to_owned());
        assert_eq!(
            Settings::resolve(&Flags::default(), env).unwrap().theme,
            ThemeName::Mono
        );
    }

    #[test]
    fn kiosk_mode_never_remembers_and_prefers_the_qr_code() {
        let flags = Flags {
            kiosk: true,
            ..Flags::default()
        };
        let settings = Settings::resolve(&flags, no_env).unwrap();
        assert!(!settings.remember_session);
        assert!(!settings.open_browser);
        let file = write("[kiosk]\nenabled = true\n[checkout]\nopen_browser = true\n");
        let flags = Flags {
            config: Some(file.path().into()),
            ..Flags::default()
        };
        let settings = Settings::resolve(&flags, no_env).unwrap();
        assert!(settings.kiosk && settings.open_browser);
    }

    #[test]
    fn a_kiosk_sells_for_its_venue_when_one_is_named() {
        let file = write("[kiosk]\nenabled = true\npage = \" old-granary \"\n");
        let flags = Flags {
            config: Some(file.path().into()),
            ..Flags::default()
        };
        let settings = Settings::resolve(&flags, no_env).unwrap();
        assert_eq!(settings.kiosk_page.as_deref(), Some("old-granary"));
        // Not a kiosk: every venue's events.
        let file = write("[kiosk]\npage = \"old-granary\"\n");
        let flags = Flags {
            config: Some(file.path().into()),
            ..Flags::default()
        };
        assert_eq!(Settings::resolve(&flags, no_env).unwrap().kiosk_page, None);
    }

    #[test]
    fn a_card_reader_is_a_kiosks_alone() {
        let file = write("[kiosk]\nenabled = true\nreader = \"door-1\"\n");
        let flags = Flags {
            config: Some(file.path().into()),
            ..Flags::default()
        };
        let settings = Settings::resolve(&flags, no_env).unwrap();
        assert_eq!(settings.kiosk_reader.as_deref(), Some("door-1"));
        // An ordinary client pays on the hosted page, whatever the file says.
        let file = write("[kiosk]\nreader = \"door-1\"\n");
        let flags = Flags {
            config: Some(file.path().into()),
            ..Flags::default()
        };
        assert_eq!(
            Settings::resolve(&flags, no_env).unwrap().kiosk_reader,
            None
        );
    }

    #[test]
    fn bad_files_are_named_with_the_problem() {
        let file = write("[ui]\ntheme = \"neon\"\n");
        let flags = Flags {
            config: Some(file.path().into()),
            ..Flags::default()
        };
        let err = Settings::resolve(&flags, no_env).unwrap_err().to_string();
        assert!(
            err.contains("is not valid") && err.contains("neon"),
            "{err}"
        );
        let typo = write("[ui]\nmouse_ = true\n");
        let flags = Flags {
            config: Some(typo.path().into()),
            ..Flags::default()
        };
        let err = Settings::resolve(&flags, no_env).unwrap_err().to_string();
        assert!(err.contains("mouse_"), "{err}");
        let flags = Flags {
            config: Some("/nonexistent/storefront.toml".into()),
            ..Flags::default()
        };
        assert!(
            Settings::resolve(&flags, no_env)
                .unwrap_err()
                .to_string()
                .contains("cannot read")
        );
    }
}
