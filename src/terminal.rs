//! The terminal side: raw mode and the alternate screen (restored on exit, panic and
//! signals), one channel merging keys, ticks, signals and replies, and a draw after each burst.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream};
use crossterm::{cursor, execute};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::api::ApiClient;
use crate::app::effect::{KeyMaker, Outside, perform};
use crate::app::{App, Effect, Msg};
use crate::session::SessionStore;

/// The spinner and timers advance this often.
const TICK: Duration = Duration::from_millis(200);

/// Puts the terminal back as it was: cooked mode, main screen, no mouse capture, a cursor.
pub fn restore() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        crossterm::terminal::LeaveAlternateScreen,
        cursor::Show
    );
    let _ = io::stdout().flush();
}

/// Restores the terminal before a panic's message is printed, so that it can be read.
fn restore_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Runs effects on tasks; their replies come back on the channel.
#[derive(Clone)]
struct Runner {
    outside: Arc<Outside>,
    tx: mpsc::UnboundedSender<Msg>,
}

impl Runner {
    fn run(&self, effects: Vec<Effect>) {
        for effect in effects {
            let runner = self.clone();
            tokio::spawn(async move {
                if let Some(reply) = perform(&runner.outside, effect).await {
                    let _ = runner.tx.send(Msg::from(reply));
                }
            });
        }
    }
}

/// Runs the client until the user quits or a signal asks it to stop.
pub async fn run(mut app: App, effects: Vec<Effect>, session: SessionStore) -> io::Result<()> {
    restore_on_panic();
    let mut terminal = ratatui::init();
    if app.settings.mouse {
        let _ = execute!(io::stdout(), EnableMouseCapture);
    }
    let result = event_loop(&mut terminal, &mut app, effects, session).await;
    restore();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    effects: Vec<Effect>,
    session: SessionStore,
) -> io::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let runner = Runner {
        outside: Arc::new(Outside {
            api: ApiClient::new(&app.settings.server)
                .map_err(|err| io::Error::other(format!("cannot make an HTTP client: {err}")))?
                .with_terminal(app.settings.kiosk_terminal.clone()),
            session,
            keys: KeyMaker::new(),
        }),
        tx: tx.clone(),
    };
    spawn_input(tx.clone());
    spawn_ticks(tx.clone());
    spawn_signals(tx);
    let size = terminal.size()?;
    app.size = (size.width, size.height);
    runner.run(effects);
    loop {
        terminal.draw(|frame| crate::ui::view(app, frame))?;
        let Some(msg) = rx.recv().await else {
            return Ok(());
        };
        runner.run(app.update(msg));
        // Everything already waiting is applied before the next frame is drawn.
        while let Ok(msg) = rx.try_recv() {
            runner.run(app.update(msg));
        }
        if app.quit {
            return Ok(());
        }
    }
}

fn spawn_input(tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(event) = events.next().await {
            let msg = match event {
                Ok(Event::Key(key)) => Msg::Key(key),
                Ok(Event::Mouse(mouse)) => Msg::Mouse(mouse),
                Ok(Event::Resize(width, height)) => Msg::Resize(width, height),
                Ok(_) => continue,
                Err(err) => {
                    tracing::error!(error = %err, "terminal input failed");
                    Msg::Signal
                }
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
}

fn spawn_ticks(tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let now = interval.tick().await;
            if tx.send(Msg::Tick(now)).is_err() {
                return;
            }
        }
    });
}

/// SIGTERM, SIGHUP and SIGINT end the client cleanly (the terminal is restored).
fn spawn_signals(tx: mpsc::UnboundedSender<Msg>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
        }
        let _ = tx.send(Msg::Signal);
    });
    #[cfg(not(unix))]
    drop(tx);
}
