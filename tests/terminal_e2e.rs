//! The release binary in a real terminal (tmux), against `storefront serve` in its own
//! process, driven only with the keys of the contract, waiting for text on screen.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{Backend, CATALOG, paying_browser, release_binary, require};

/// One tmux server of our own (its own socket), one window.
struct Terminal {
    socket: PathBuf,
}

impl Terminal {
    fn start(dir: &Path, width: u16, height: u16) -> Terminal {
        let terminal = Terminal {
            socket: dir.join("tmux.sock"),
        };
        terminal.tmux(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "sh",
        ]);
        terminal
    }

    fn tmux(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Presses keys by tmux's names (`Enter`, `Tab`, `Down`, `C-c`).
    fn press(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits until `text` shows (never a fixed sleep), and returns the screen.
    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?} to appear"), |screen| {
            screen.contains(text)
        })
    }

    /// Waits until the screen satisfies `done`, and returns it once it has settled.
    ///
    /// A capture may catch a frame half drawn: its top rows new, the rest still the frame
    /// before. The screen is returned when two captures a moment apart are the same (or, on
    /// a screen that keeps moving, the last one that satisfied `done` after two seconds).
    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut satisfied: Option<(String, Instant)> = None;
        loop {
            let screen = self.screen();
            if done(&screen) {
                match satisfied {
                    Some((before, since))
                        if before == screen || since.elapsed() > Duration::from_secs(2) =>
                    {
                        return screen;
                    }
                    Some((_, since)) => satisfied = Some((screen.clone(), since)),
                    None => satisfied = Some((screen.clone(), Instant::now())),
                }
            } else {
                satisfied = None;
            }
            assert!(
                Instant::now() < deadline,
                "waited in vain for {what} on:\n{screen}"
            );
            // Longer once satisfied: a frame written in parts on a busy machine is not taken
            // for a settled one.
            let pause = if satisfied.is_some() { 150 } else { 50 };
            std::thread::sleep(Duration::from_millis(pause));
        }
    }

    fn cursor_visible(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", "t", "#{cursor_flag}"])
            .trim()
            == "1"
    }

    /// The client has exited, and the shell is back, in cooked mode, with a visible cursor.
    fn assert_clean_shell(&self) {
        // Printed by the command line once the client ends; typing before that would be
        // read by the client.
        self.wait_for("client-exited-7");
        // The marker the shell prints differs from the command typed, which the screen shows too.
        self.type_text("stty -a | grep -o -- '-\\?icanon' ; echo shell-$((40+2))-back");
        self.press(&["Enter"]);
        let screen = self.wait_for("shell-42-back");
        let lines: Vec<&str> = screen
            .lines()
            .filter(|l| l.trim() == "icanon" || l.trim() == "-icanon")
            .collect();
        assert_eq!(
            lines.last().map(|l| l.trim()),
            Some("icanon"),
            "not back in cooked mode:\n{screen}"
        );
        assert!(self.cursor_visible(), "the cursor is hidden");
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

/// A config and a private home for the client, so that nothing of the user's is touched.
fn client_command(
    binary: &Path,
    dir: &Path,
    backend: &Backend,
    extra: &str,
    flags: &str,
) -> String {
    let config = dir.join("client.toml");
    std::fs::write(
        &config,
        format!(
            "server = \"{}\"\n[session]\nremember = false\n[ui]\nmouse = false\n{extra}",
            backend.origin
        ),
    )
    .unwrap();
    format!(
        "HOME={dir} XDG_CONFIG_HOME={dir}/config XDG_DATA_HOME={dir}/data XDG_STATE_HOME={dir}/state TERM=xterm-256color {bin} --config {cfg} {flags}; echo client-exited-$((3+4))",
        dir = dir.display(),
        bin = binary.display(),
        cfg = config.display(),
    )
}

/// The `[kiosk]` lines of a kiosk that sells as the box office at `terminal` (its password in
/// a file only its user can read).
fn box_office(dir: &Path, terminal: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let password = dir.join("kiosk-password");
    std::fs::write(&password, "box-pass\n").unwrap();
    std::fs::set_permissions(&password, std::fs::Permissions::from_mode(0o600)).unwrap();
    format!(
        "account = \"box@example.com\"\npassword_file = \"{}\"\nterminal = \"{terminal}\"\n",
        password.display()
    )
}

/// A box-office kiosk (terminal `terminal`, `[kiosk]` lines `extra` besides its account) in
/// a `width`×`height` window, on its start screen.
fn start_kiosk(
    binary: &Path,
    dir: &Path,
    backend: &Backend,
    (width, height): (u16, u16),
    terminal: &str,
    extra: &str,
) -> Terminal {
    let kiosk = Terminal::start(dir, width, height);
    kiosk.type_text(&client_command(
        binary,
        dir,
        backend,
        &format!("[kiosk]\n{extra}{}", box_office(dir, terminal)),
        "--kiosk",
    ));
    kiosk.press(&["Enter"]);
    kiosk.wait_for("Press any key to start");
    kiosk
}

/// A walk-up buyer at a kiosk on its start screen: the first event's ticket, into the cart
/// with no sign-in, paid on the hosted page as a phone would. The confirmation on screen.
fn walk_up_sale(kiosk: &Terminal) -> String {
    kiosk.press(&["Enter"]);
    kiosk.wait_for("start over");
    kiosk.press(&["Enter"]);
    kiosk.wait_for("adds the tickets to your cart");
    kiosk.press(&["Enter"]);
    let cart = kiosk.wait_for("Total · 1 item");
    assert!(!cart.contains("Sign in"), "{cart}");
    kiosk.press(&["Enter"]);
    // The address is drawn under the QR code: a capture may catch the code before it.
    let payment_address = |screen: &str| {
        screen
            .split_whitespace()
            .find(|w| w.starts_with("http://") && w.contains("/pay/"))
            .map(str::to_owned)
    };
    let screen = kiosk.wait_until("the QR code and the payment address under it", |screen| {
        screen.contains("Scan to pay") && payment_address(screen).is_some()
    });
    let url = payment_address(&screen).expect("the screen waited for shows the address");
    let paid = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-X",
            "POST",
            "-d",
            "outcome=pay",
            &url,
        ])
        .status()
        .unwrap();
    assert!(paid.success());
    // Whole: a capture may catch the screen between its first lines and its last.
    kiosk.wait_until(
        "the confirmation with its ticket page and codes",
        |screen| {
            screen.contains("Thank you!")
                && screen.contains("/t/")
                && !ticket_codes(screen).is_empty()
        },
    )
}

fn tools() {
    require("tmux", "-V", "apt-get install -y tmux");
    require("curl", "--version", "apt-get install -y curl");
}

fn setup() -> (tempfile::TempDir, PathBuf, Backend) {
    let dir = tempfile::tempdir().unwrap();
    let binary = release_binary();
    let catalog = dir.path().join("catalog.toml");
    std::fs::write(&catalog, CATALOG).unwrap();
    let backend = Backend::start(&binary, &catalog, dir.path());
    (dir, binary, backend)
}

fn sign_in(terminal: &Terminal) {
    terminal.wait_for("Sign in");
    terminal.type_text("ann@example.com");
    terminal.press(&["Tab"]);
    terminal.type_text("ann-pass");
    terminal.press(&["Enter"]);
    terminal.wait_for("Signed in as Ann Example.");
}

#[test]
#[cfg_attr(
    not(have_tmux_and_curl),
    ignore = "needs tmux and curl (apt-get install -y tmux curl); .ci/run installs them and runs it"
)]
fn a_purchase_from_sign_in_to_ticket_codes_at_120x40() {
    tools();
    let (dir, binary, backend) = setup();
    let browser = paying_browser(dir.path());
    let terminal = Terminal::start(dir.path(), 120, 40);
    let command = client_command(
        &binary,
        dir.path(),
        &backend,
        &format!("[checkout]\nbrowser = \"{}\"\n", browser.display()),
        "",
    );
    terminal.type_text(&command);
    terminal.press(&["Enter"]);

    sign_in(&terminal);
    terminal.wait_for("Late Night Jazz Session");
    terminal.press(&["/"]);
    terminal.type_text("wren");
    terminal.press(&["Enter"]);
    terminal.wait_until("the filter to apply", |screen| {
        screen.contains("Wren Duo") && !screen.contains("Late Night Jazz Session")
    });
    terminal.press(&["Enter"]);
    terminal.wait_for("adds the tickets to your cart");
    terminal.press(&["+", "a"]);
    terminal.wait_for("2 tickets added to your cart. If the event sells out before payment, you will be refunded.");

    terminal.press(&["c"]);
    // The cart's own notice, under its total (the status line may still say it too).
    let cart = terminal.wait_until(
        "the whole cart, the refund notice under its total",
        |screen| {
            let mut lines = screen
                .lines()
                .skip_while(|l| !l.contains("Total · 3 items"));
            lines.next().is_some()
                && lines.next().is_some_and(|l| {
                    l.contains("If the event sells out before payment, you will be refunded.")
                })
        },
    );
    let riverside = cart
        .find("Riverside Jazz Club")
        .expect("the Riverside group");
    let granary = cart.find("The Old Granary").expect("the Old Granary group");
    assert!(riverside < granary, "groups are in title order:\n{cart}");
    assert!(
        cart.contains("2 × Wren Duo: Winter Songs · Concession"),
        "{cart}"
    );
    assert!(cart.contains("£45.00"), "25.00 + 2 × 10.00:\n{cart}");

    terminal.press(&["P"]);
    let confirmation = terminal.wait_for("Payment received");
    let codes = confirmation
        .split_whitespace()
        .filter(|w| {
            w.len() == 9
                && w.as_bytes()[4] == b'-'
                && w.chars().all(|c| c == '-' || c.is_ascii_alphanumeric())
        })
        .count();
    assert!(codes >= 2, "two ticket codes on:\n{confirmation}");

    terminal.press(&["o"]);
    terminal.wait_for("Orders and tickets");
    terminal.wait_for("Paid");
    terminal.press(&["L"]);
    terminal.wait_for("Signed out.");
    terminal.press(&["Escape"]);
    terminal.wait_for("Not signed in");
    terminal.press(&["q"]);
    terminal.assert_clean_shell();
}

#[test]
#[cfg_attr(
    not(have_tmux_and_curl),
    ignore = "needs tmux and curl (apt-get install -y tmux curl); .ci/run installs them and runs it"
)]
fn a_small_terminal_at_80x24_signs_in_and_quits_cleanly() {
    tools();
    let (dir, binary, backend) = setup();
    let terminal = Terminal::start(dir.path(), 80, 24);
    terminal.type_text(&client_command(&binary, dir.path(), &backend, "", ""));
    terminal.press(&["Enter"]);
    sign_in(&terminal);
    terminal.press(&["c"]);
    terminal.wait_for("Riverside membership");
    terminal.press(&["?"]);
    terminal.wait_for("Keys");
    terminal.press(&["Escape"]);
    terminal.press(&["C-c"]);
    terminal.assert_clean_shell();
}

#[test]
#[cfg_attr(
    not(have_tmux_and_curl),
    ignore = "needs tmux and curl (apt-get install -y tmux curl); .ci/run installs them and runs it"
)]
fn a_kiosk_sells_resets_and_cannot_be_quit_by_customers() {
    tools();
    let (dir, binary, backend) = setup();
    let terminal = start_kiosk(
        &binary,
        dir.path(),
        &backend,
        (120, 40),
        "door-1",
        "idle_timeout_secs = 10\nreset_after_purchase_secs = 3\ntitle = \"Door 1\"\n",
    );
    terminal.wait_for("Door 1");
    // Customers cannot leave.
    terminal.press(&["q"]);
    terminal.press(&["C-c"]);
    terminal.press(&["C-z"]);
    terminal.wait_for("Press any key to start");

    // A walk-up buyer: no account, no sign-in.
    walk_up_sale(&terminal);
    terminal.wait_for("Back to the start in");
    terminal.wait_for("Press any key to start");

    // Idle: the countdown, then the start screen again.
    terminal.press(&["Enter"]);
    terminal.wait_for("start over");
    terminal.wait_for("Still there?");
    terminal.wait_for("Press any key to start");

    // The operator stops it from outside; the terminal is restored.
    let shell = terminal.tmux(&["display-message", "-p", "-t", "t", "#{pane_pid}"]);
    let shell = shell.trim();
    let children =
        std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap_or_default();
    let pid = children
        .split_whitespace()
        .next()
        .expect("the kiosk's process")
        .to_owned();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    terminal.assert_clean_shell();
}

/// Presents a card (`pay`) or declines on the sandbox's virtual Solo, for the payment
/// waiting on it, as a customer at the reader would.
fn at_the_reader(backend: &Backend, reader_id: &str, outcome: &str) {
    let page_url = format!("{}/sumup-sandbox/readers/{reader_id}", backend.origin);
    let page = Command::new("curl")
        .args(["-s", &page_url])
        .output()
        .unwrap();
    let page = String::from_utf8_lossy(&page.stdout);
    let checkout = page
        .split("name=\"checkout\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no payment waits on the reader:\n{page}"));
    let done = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-X", "POST"])
        .args(["-d", &format!("checkout={checkout}&outcome={outcome}")])
        .arg(&page_url)
        .status()
        .unwrap();
    assert!(done.success());
}

#[test]
#[cfg_attr(
    not(have_tmux_and_curl),
    ignore = "needs tmux and curl (apt-get install -y tmux curl); .ci/run installs them and runs it"
)]
fn a_walk_up_buyer_pays_by_card_on_the_reader_after_a_decline() {
    tools();
    let (dir, binary, backend) = setup();
    let kiosk = start_kiosk(
        &binary,
        dir.path(),
        &backend,
        (100, 30),
        "door-3",
        "reset_after_purchase_secs = 600\nreader = \"door-1\"\n",
    );
    kiosk.press(&["Enter"]);
    kiosk.wait_for("start over");
    kiosk.press(&["Enter"]);
    kiosk.wait_for("adds the tickets to your cart");
    kiosk.press(&["Enter"]);
    let cart = kiosk.wait_for("Total · 1 item");
    assert!(!cart.contains("Sign in"), "{cart}");
    kiosk.press(&["Enter"]);
    // The amount goes on the reader; no QR code, no sign-in.
    let card = kiosk.wait_for("Tap, insert or swipe your card on the reader · £10.00");
    assert!(!card.contains("Scan to pay"), "{card}");

    at_the_reader(&backend, "rdr_e2e_door1", "decline");
    kiosk.wait_for("Your card was declined");
    kiosk.press(&["Enter"]);
    kiosk.wait_for("Tap, insert or swipe");
    at_the_reader(&backend, "rdr_e2e_door1", "pay");
    // Until the screen is drawn whole (a capture can catch it midway): the one ticket's code.
    kiosk.wait_until("thanks and the ticket's one code", |screen| {
        screen.contains("Thank you!") && ticket_codes(screen).len() == 1
    });
}

/// The ticket codes (`7KQ2-M9XD`) on a screen.
fn ticket_codes(screen: &str) -> Vec<String> {
    screen
        .split_whitespace()
        .filter(|w| {
            w.len() == 9
                && w.as_bytes()[4] == b'-'
                && w.chars().all(|c| c == '-' || c.is_ascii_alphanumeric())
        })
        .map(str::to_owned)
        .collect()
}

#[test]
#[cfg_attr(
    not(have_tmux_and_curl),
    ignore = "needs tmux and curl (apt-get install -y tmux curl); .ci/run installs them and runs it"
)]
fn a_ticket_bought_at_the_kiosk_is_checked_in_once_at_the_door() {
    tools();
    let (dir, binary, backend) = setup();
    let kiosk_dir = dir.path().join("kiosk");
    let door_dir = dir.path().join("door");
    std::fs::create_dir_all(&kiosk_dir).unwrap();
    std::fs::create_dir_all(&door_dir).unwrap();

    // At the kiosk: one ticket for the first event, paid on the hosted page.
    let kiosk = start_kiosk(
        &binary,
        &kiosk_dir,
        &backend,
        (120, 40),
        "door-2",
        "reset_after_purchase_secs = 600\n",
    );
    let confirmation = walk_up_sale(&kiosk);
    assert!(
        confirmation.contains("/t/"),
        "the ticket link:\n{confirmation}"
    );
    let code = ticket_codes(&confirmation)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("a ticket code on:\n{confirmation}"));

    // At the door: staff sign in, choose the same event, and scan.
    let door = Terminal::start(&door_dir, 100, 30);
    door.type_text(&client_command(
        &binary,
        &door_dir,
        &backend,
        "",
        "--checkin",
    ));
    door.press(&["Enter"]);
    door.wait_for("Sign in");
    door.type_text("door@example.com");
    door.press(&["Tab"]);
    door.type_text("door-pass");
    door.press(&["Enter"]);
    door.wait_for("Choose the event");
    door.press(&["Enter"]);
    door.wait_for("Check-in ·");
    door.wait_for(" in ");
    // Typed as a person might: lower case, no dash.
    door.type_text(&code.replace('-', "").to_lowercase());
    door.press(&["Enter"]);
    door.wait_for("Welcome");
    door.type_text(&code);
    door.press(&["Enter"]);
    door.wait_for("Already checked in at");
    door.press(&["C-c"]);
    door.assert_clean_shell();
}

#[test]
#[cfg_attr(
    not(have_tmux_and_curl),
    ignore = "needs tmux and curl (apt-get install -y tmux curl); .ci/run installs them and runs it"
)]
fn the_box_office_refunds_a_ticket_and_the_door_refuses_it() {
    tools();
    let (dir, binary, backend) = setup();
    let kiosk_dir = dir.path().join("kiosk");
    let office_dir = dir.path().join("office");
    let door_dir = dir.path().join("door");
    for dir in [&kiosk_dir, &office_dir, &door_dir] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let kiosk = start_kiosk(
        &binary,
        &kiosk_dir,
        &backend,
        (120, 40),
        "door-3",
        "reset_after_purchase_secs = 600\n",
    );
    let confirmation = walk_up_sale(&kiosk);
    let code = ticket_codes(&confirmation)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("a ticket code on:\n{confirmation}"));

    // The manager finds the order by the ticket's code and refunds the ticket.
    let office = Terminal::start(&office_dir, 120, 40);
    office.type_text(&client_command(
        &binary,
        &office_dir,
        &backend,
        "",
        "--box-office",
    ));
    office.press(&["Enter"]);
    office.wait_for("Sign in");
    office.type_text("max@example.com");
    office.press(&["Tab"]);
    office.type_text("max-pass");
    office.press(&["Enter"]);
    office.wait_for("Box office · sales, live");
    let sales = office.wait_for("All events: 1 sold");
    assert!(sales.contains("1/"), "the sale as a bar:\n{sales}");
    office.press(&["/"]);
    office.type_text(&code.to_lowercase());
    office.wait_for("1 ticket ·");
    office.press(&["Enter"]);
    office.wait_for(&format!("{code}  valid"));
    office.press(&["R"]);
    office.wait_for("Refund £");
    office.type_text("Lost their phone and went home");
    office.press(&["Enter"]);
    let refunded = office.wait_for("Refunded £");
    assert!(
        refunded.contains(&format!("{code}  refunded")),
        "{refunded}"
    );
    assert!(refunded.contains("refunded through SumUp"), "{refunded}");
    office.press(&["Escape"]);
    office.press(&["Escape"]);
    office.wait_for("All events: 0 sold");

    // At the door the ticket is refused by name.
    let door = Terminal::start(&door_dir, 100, 30);
    door.type_text(&client_command(
        &binary,
        &door_dir,
        &backend,
        "",
        "--checkin",
    ));
    door.press(&["Enter"]);
    door.wait_for("Sign in");
    door.type_text("door@example.com");
    door.press(&["Tab"]);
    door.type_text("door-pass");
    door.press(&["Enter"]);
    door.wait_for("Choose the event");
    door.press(&["Enter"]);
    door.wait_for("Check-in ·");
    door.type_text(&code);
    door.press(&["Enter"]);
    let refused = door.wait_for("NOT IN");
    assert!(refused.contains("Refunded"), "{refused}");
    door.press(&["C-c"]);
    door.assert_clean_shell();
    office.press(&["q"]);
    office.assert_clean_shell();
}
