//! The door (`storefront --checkin`): door staff choose the event, then scan. A barcode
//! scanner types the code and Enter like a keyboard; a person can type it too. Each scan is
//! answered at once and never holds up the next. Without the network the door keeps going:
//! scans are decided against the event's list of valid codes (fetched when the scanner
//! opens, then every minute), a code scanned twice is caught here, and the check-ins are
//! uploaded when the server is back.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use storefront_contract::{
    CheckinBatchResult, CheckinOutcome, CheckinResult, EventCheckins, OfflineScan, TicketState,
    normalize_ticket_code,
};
use tokio::time::Instant;

use super::keys::Action;
use super::{App, Effect, Screen, StatusKind};
use crate::api::{ApiError, ApiResult};

/// The event's list of codes is fetched again this often.
const LIST_REFRESH: Duration = Duration::from_secs(60);
/// While offline, waiting check-ins are offered to the server this often.
const UPLOAD_RETRY: Duration = Duration::from_secs(5);
/// Scans shown under the latest one.
const SCANS_KEPT: usize = 8;

/// How a scan reads at the door.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Green: in you go.
    Welcome,
    /// Red (and the bell): not in.
    Refused,
    /// Amber: a real ticket, for another event.
    Elsewhere,
    /// Sent, no answer yet.
    Checking,
}

/// One scan as the door shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanLine {
    pub id: u64,
    pub code: String,
    pub verdict: Verdict,
    /// "Welcome · Standard · Ada Lovelace", "Already checked in at 19:42".
    pub text: String,
    /// Decided here without the server; uploaded later.
    pub offline: bool,
}

#[derive(Clone, Debug)]
pub struct DoorState {
    pub event_id: Option<i64>,
    pub event_name: String,
    /// What is being typed or scanned.
    pub input: String,
    /// Every code that can be checked in (or was), as last fetched and since scanned here.
    pub codes: HashMap<String, TicketState>,
    pub list_loaded: bool,
    pub checked_in: u32,
    pub sold: u32,
    /// Newest first.
    pub scans: VecDeque<ScanLine>,
    /// Check-ins decided offline, waiting to be uploaded.
    pub waiting: Vec<OfflineScan>,
    /// How many of `waiting` are on their way up now.
    pub uploading: usize,
    pub offline: bool,
    next_refresh: Option<Instant>,
    next_upload: Option<Instant>,
    /// The wall clock at an instant, to stamp offline scans.
    clock: (Instant, DateTime<Utc>),
    last_scan_id: u64,
}

impl DoorState {
    pub fn new(now: Instant, wall: DateTime<Utc>) -> DoorState {
        DoorState {
            event_id: None,
            event_name: String::new(),
            input: String::new(),
            codes: HashMap::new(),
            list_loaded: false,
            checked_in: 0,
            sold: 0,
            scans: VecDeque::new(),
            waiting: Vec::new(),
            uploading: 0,
            offline: false,
            next_refresh: None,
            next_upload: None,
            clock: (now, wall),
            last_scan_id: 0,
        }
    }

    fn wall(&self, now: Instant) -> DateTime<Utc> {
        let elapsed = now.saturating_duration_since(self.clock.0);
        self.clock.1 + chrono::Duration::from_std(elapsed).unwrap_or_default()
    }

    fn push(&mut self, line: ScanLine) {
        self.scans.push_front(line);
        self.scans.truncate(SCANS_KEPT);
    }

    fn line_mut(&mut self, id: u64) -> Option<&mut ScanLine> {
        self.scans.iter_mut().find(|line| line.id == id)
    }

    /// Decides a scan from the list alone (the server cannot be asked).
    fn decide_offline(
        &mut self,
        code: &str,
        at: DateTime<Utc>,
        event_id: i64,
    ) -> (Verdict, String) {
        match self.codes.get(code) {
            Some(TicketState::Confirmed) => {
                self.codes.insert(code.to_owned(), TicketState::CheckedIn);
                self.checked_in += 1;
                self.waiting.push(OfflineScan {
                    code: code.to_owned(),
                    event_id,
                    scanned_at: at,
                });
                (Verdict::Welcome, "Welcome (checked offline)".to_owned())
            }
            Some(TicketState::Refunded) => (Verdict::Refused, "Refunded".to_owned()),
            Some(_) => (Verdict::Refused, "Already checked in".to_owned()),
            None if !self.list_loaded => (
                Verdict::Refused,
                "Cannot check: offline, and this event's list has not been fetched".to_owned(),
            ),
            None => (
                Verdict::Refused,
                "Not on this event's list (checked offline)".to_owned(),
            ),
        }
    }
}

/// How one answer of the server reads at the door.
fn read_result(
    result: &CheckinResult,
    when: impl Fn(DateTime<Utc>) -> String,
) -> (Verdict, String) {
    let ticket = result.ticket.as_ref();
    match result.outcome {
        CheckinOutcome::CheckedIn => {
            let mut text = "Welcome".to_owned();
            if let Some(ticket) = ticket {
                if let Some(kind) = &ticket.ticket_type_name {
                    text.push_str(&format!(" · {kind}"));
                }
                text.push_str(&format!(" · {}", ticket.holder_name));
            }
            (Verdict::Welcome, text)
        }
        CheckinOutcome::AlreadyCheckedIn => (
            Verdict::Refused,
            match result.checked_in_at {
                Some(at) => format!("Already checked in at {}", when(at)),
                None => "Already checked in".to_owned(),
            },
        ),
        CheckinOutcome::WrongEvent => (
            Verdict::Elsewhere,
            match ticket {
                Some(t) => format!("Not for this event: the ticket is for {}", t.event_name),
                None => "Not for this event".to_owned(),
            },
        ),
        CheckinOutcome::NotPaid => (Verdict::Refused, "Not paid".to_owned()),
        CheckinOutcome::Cancelled => (Verdict::Refused, "Cancelled or refunded".to_owned()),
        CheckinOutcome::Refunded => (Verdict::Refused, "Refunded".to_owned()),
        CheckinOutcome::Unknown => (Verdict::Refused, "Unknown code".to_owned()),
    }
}

impl App {
    /// Whether this client runs at the door.
    pub fn is_door(&self) -> bool {
        self.settings.checkin
    }

    /// The event was chosen: the scanner opens and fetches the event's list.
    pub(super) fn open_scanner(&mut self, event_id: i64, name: String) -> Vec<Effect> {
        let Some(token) = self.require_session(Screen::Events) else {
            return Vec::new();
        };
        if self.door.event_id != Some(event_id) {
            let clock = self.door.clock;
            self.door = DoorState::new(clock.0, clock.1);
            self.door.event_id = Some(event_id);
            self.door.event_name = name;
        }
        self.screen = Screen::Scanner;
        self.door.next_refresh = Some(self.now + LIST_REFRESH);
        vec![Effect::LoadDoorList { token, event_id }]
    }

    pub(super) fn door_list_loaded(
        &mut self,
        event_id: i64,
        result: ApiResult<EventCheckins>,
    ) -> Vec<Effect> {
        if self.door.event_id != Some(event_id) {
            return Vec::new();
        }
        match result {
            Ok(list) => {
                self.connected();
                let door = &mut self.door;
                door.codes = list.codes.into_iter().map(|c| (c.code, c.state)).collect();
                // Offline check-ins not yet uploaded still count here.
                for scan in &door.waiting {
                    door.codes.insert(scan.code.clone(), TicketState::CheckedIn);
                }
                door.checked_in =
                    list.checked_in + u32::try_from(door.waiting.len()).unwrap_or(u32::MAX);
                door.sold = list.sold;
                door.list_loaded = true;
                door.offline = false;
                self.upload_waiting()
            }
            Err(ApiError::Network { .. }) => {
                self.door.offline = true;
                Vec::new()
            }
            Err(err) => self.on_error(err, None),
        }
    }

    pub(super) fn scanner_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Scan => self.scan(),
            Action::Back if !self.door.input.is_empty() => {
                self.door.input.clear();
                Vec::new()
            }
            Action::Back => {
                self.screen = Screen::Events;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Keys the scanner's table does not bind are typed into the code.
    pub(super) fn scanner_text(&mut self, key: crossterm::event::KeyEvent) -> Vec<Effect> {
        use crossterm::event::KeyCode;
        match key.code {
            KeyCode::Char(c) if !c.is_control() && self.door.input.chars().count() < 64 => {
                self.door.input.push(c);
            }
            KeyCode::Backspace => {
                self.door.input.pop();
            }
            _ => {}
        }
        Vec::new()
    }

    /// Enter: the code typed or scanned is checked in, online or off.
    fn scan(&mut self) -> Vec<Effect> {
        let typed = std::mem::take(&mut self.door.input);
        if typed.trim().is_empty() {
            return Vec::new();
        }
        let (Some(event_id), Some(token)) = (self.door.event_id, self.token().map(str::to_owned))
        else {
            return Vec::new();
        };
        self.door.last_scan_id += 1;
        let id = self.door.last_scan_id;
        let Some(code) = normalize_ticket_code(&typed) else {
            self.door.push(ScanLine {
                id,
                code: typed.trim().to_owned(),
                verdict: Verdict::Refused,
                text: "Not a ticket code".to_owned(),
                offline: false,
            });
            return vec![Effect::Bell];
        };
        let at = self.door.wall(self.now);
        if self.door.offline {
            return self.scan_offline(id, code, event_id, at);
        }
        self.door.push(ScanLine {
            id,
            code: code.clone(),
            verdict: Verdict::Checking,
            text: "Checking…".to_owned(),
            offline: false,
        });
        vec![Effect::CheckIn {
            token,
            event_id,
            code,
            scan: id,
            scanned_at: at,
        }]
    }

    fn scan_offline(
        &mut self,
        id: u64,
        code: String,
        event_id: i64,
        at: DateTime<Utc>,
    ) -> Vec<Effect> {
        let (verdict, text) = self.door.decide_offline(&code, at, event_id);
        self.door.push(ScanLine {
            id,
            code,
            verdict,
            text,
            offline: true,
        });
        if self.door.next_upload.is_none() {
            self.door.next_upload = Some(self.now + UPLOAD_RETRY);
        }
        bell_for(verdict)
    }

    pub(super) fn checked_in(
        &mut self,
        scan: u64,
        event_id: i64,
        code: String,
        scanned_at: DateTime<Utc>,
        result: ApiResult<CheckinResult>,
    ) -> Vec<Effect> {
        if self.door.event_id != Some(event_id) {
            return Vec::new();
        }
        match result {
            Ok(result) => {
                self.connected();
                self.door.offline = false;
                let (verdict, text) = read_result(&result, |at| self.clock_time(at));
                if result.outcome == CheckinOutcome::CheckedIn {
                    self.door.checked_in += 1;
                    self.door.codes.insert(code, TicketState::CheckedIn);
                }
                if let Some(line) = self.door.line_mut(scan) {
                    line.verdict = verdict;
                    line.text = text;
                }
                bell_for(verdict)
            }
            Err(ApiError::Network { .. }) => {
                // The door goes on without the server.
                self.door.offline = true;
                let (verdict, text) = self.door.decide_offline(&code, scanned_at, event_id);
                if let Some(line) = self.door.line_mut(scan) {
                    line.verdict = verdict;
                    line.text = text;
                    line.offline = true;
                }
                if self.door.next_upload.is_none() {
                    self.door.next_upload = Some(self.now + UPLOAD_RETRY);
                }
                bell_for(verdict)
            }
            Err(err) => {
                if let Some(line) = self.door.line_mut(scan) {
                    line.verdict = Verdict::Refused;
                    line.text = format!("Not checked: {err}");
                }
                let mut effects = self.on_error(err, None);
                effects.push(Effect::Bell);
                effects
            }
        }
    }

    /// Offers the check-ins made offline to the server.
    fn upload_waiting(&mut self) -> Vec<Effect> {
        let door = &mut self.door;
        if door.waiting.is_empty() || door.uploading > 0 {
            return Vec::new();
        }
        let Some(token) = self.session.as_ref().map(|s| s.token.clone()) else {
            return Vec::new();
        };
        door.uploading = door.waiting.len();
        door.next_upload = None;
        vec![Effect::UploadScans {
            token,
            scans: door.waiting.clone(),
        }]
    }

    pub(super) fn scans_uploaded(&mut self, result: ApiResult<CheckinBatchResult>) -> Vec<Effect> {
        let sent = std::mem::take(&mut self.door.uploading);
        match result {
            Ok(answer) => {
                self.connected();
                let uploaded: Vec<OfflineScan> = self.door.waiting.drain(..sent).collect();
                self.door.offline = false;
                let mut effects = Vec::new();
                // A code welcomed here while another door had already let it in.
                for (scan, result) in uploaded.iter().zip(&answer.results) {
                    if result.outcome != CheckinOutcome::CheckedIn {
                        let (_, text) = read_result(result, |at| self.clock_time(at));
                        self.door.last_scan_id += 1;
                        let id = self.door.last_scan_id;
                        self.door.push(ScanLine {
                            id,
                            code: scan.code.clone(),
                            verdict: Verdict::Refused,
                            text: format!("Let in offline, but: {text}"),
                            offline: false,
                        });
                        self.door.checked_in = self.door.checked_in.saturating_sub(1);
                        effects.push(Effect::Bell);
                    }
                }
                self.set_status(
                    StatusKind::Success,
                    format!(
                        "{} offline check-in{} uploaded.",
                        uploaded.len(),
                        if uploaded.len() == 1 { "" } else { "s" }
                    ),
                );
                effects.extend(self.upload_waiting());
                effects
            }
            Err(ApiError::Network { .. }) => {
                self.door.offline = true;
                self.door.next_upload = Some(self.now + UPLOAD_RETRY);
                Vec::new()
            }
            Err(err) => {
                self.door.next_upload = Some(self.now + UPLOAD_RETRY);
                self.on_error(err, None)
            }
        }
    }

    /// The scanner's timers: the list every minute, waiting uploads while offline.
    pub(super) fn door_tick(&mut self) -> Vec<Effect> {
        if self.screen != Screen::Scanner {
            return Vec::new();
        }
        let (Some(event_id), Some(token)) = (self.door.event_id, self.token().map(str::to_owned))
        else {
            return Vec::new();
        };
        let mut effects = Vec::new();
        if self.door.next_refresh.is_some_and(|at| self.now >= at) {
            self.door.next_refresh = Some(self.now + LIST_REFRESH);
            effects.push(Effect::LoadDoorList {
                token: token.clone(),
                event_id,
            });
        }
        if self.door.next_upload.is_some_and(|at| self.now >= at) {
            self.door.next_upload = None;
            effects.extend(self.upload_waiting());
            if self.door.uploading == 0 && !self.door.waiting.is_empty() {
                self.door.next_upload = Some(self.now + UPLOAD_RETRY);
            }
        }
        effects
    }

    /// `19:42`, in the viewer's zone.
    fn clock_time(&self, at: DateTime<Utc>) -> String {
        match self.zone {
            super::Zone::Local => at.with_timezone(&chrono::Local).format("%H:%M").to_string(),
            super::Zone::Fixed(offset) => at.with_timezone(&offset).format("%H:%M").to_string(),
        }
    }
}

fn bell_for(verdict: Verdict) -> Vec<Effect> {
    if verdict == Verdict::Refused {
        vec![Effect::Bell]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Msg;
    use crate::app::effect::Reply;
    use crate::app::tests::{ch, door, key, scan};
    use crossterm::event::KeyCode;

    fn sent_scan(effects: &[Effect]) -> (u64, String, DateTime<Utc>) {
        match effects {
            [
                Effect::CheckIn {
                    scan,
                    code,
                    scanned_at,
                    ..
                },
            ] => (*scan, code.clone(), *scanned_at),
            other => panic!("not one scan sent: {other:?}"),
        }
    }

    fn answer(
        app: &mut App,
        sent: (u64, String, DateTime<Utc>),
        result: ApiResult<CheckinResult>,
    ) -> Vec<Effect> {
        let event_id = app.door.event_id.unwrap();
        app.update(Msg::from(Reply::CheckedIn {
            scan: sent.0,
            event_id,
            code: sent.1,
            scanned_at: sent.2,
            result,
        }))
    }

    fn offline() -> ApiResult<CheckinResult> {
        Err(ApiError::Network {
            server: "http://door".into(),
        })
    }

    #[test]
    fn a_scan_is_sent_normalized_and_its_answer_shown() {
        let mut app = door(100, 30);
        assert_eq!(app.screen, Screen::Scanner);
        // Letters that are no command at the door: `q`, `e`, `c`, `o` are typed, not obeyed.
        let effects = scan(&mut app, "7kq2 m9xd");
        let sent = sent_scan(&effects);
        assert_eq!(sent.1, "7KQ2-M9XD");
        assert!(!app.quit);
        assert_eq!(app.door.scans[0].verdict, Verdict::Checking);
        assert!(app.door.input.is_empty(), "ready for the next scan at once");
        let effects = answer(&mut app, sent, Ok(result(CheckinOutcome::CheckedIn)));
        assert!(effects.is_empty());
        assert_eq!(app.door.scans[0].verdict, Verdict::Welcome);
        assert_eq!(app.door.checked_in, 3);
        let again = sent_scan(&scan(&mut app, "7KQ2-M9XD"));
        let effects = answer(
            &mut app,
            again,
            Ok(result(CheckinOutcome::AlreadyCheckedIn)),
        );
        assert_eq!(effects, [Effect::Bell], "red rings the bell");
        assert_eq!(app.door.scans[0].text, "Already checked in at 19:42");
    }

    #[test]
    fn a_second_scan_does_not_wait_for_the_first() {
        let mut app = door(100, 30);
        let first = sent_scan(&scan(&mut app, "7KQ2-M9XD"));
        let second = sent_scan(&scan(&mut app, "Q4RT-88ZC"));
        answer(&mut app, second, Ok(result(CheckinOutcome::WrongEvent)));
        answer(&mut app, first, Ok(result(CheckinOutcome::CheckedIn)));
        assert_eq!(app.door.scans[0].code, "Q4RT-88ZC");
        assert_eq!(app.door.scans[0].verdict, Verdict::Elsewhere);
        assert_eq!(app.door.scans[1].verdict, Verdict::Welcome);
    }

    #[test]
    fn offline_the_door_goes_on_and_uploads_when_the_server_is_back() {
        let mut app = door(100, 30);
        let sent = sent_scan(&scan(&mut app, "7KQ2-M9XD"));
        answer(&mut app, sent, offline());
        assert!(app.door.offline);
        assert_eq!(app.door.scans[0].verdict, Verdict::Welcome);
        assert!(app.door.scans[0].offline);
        // Offline, scans are decided here at once; a double scan is caught.
        assert_eq!(scan(&mut app, "7KQ2-M9XD"), [Effect::Bell]);
        assert_eq!(app.door.scans[0].verdict, Verdict::Refused);
        assert!(scan(&mut app, "Q4RT-88ZC").is_empty());
        assert_eq!(scan(&mut app, "ZZZZ-ZZZZ"), [Effect::Bell]);
        assert_eq!(app.door.waiting.len(), 2);
        assert_eq!(app.door.checked_in, 4);

        // Five seconds on, the waiting check-ins are offered to the server.
        let later = app.now + UPLOAD_RETRY;
        let effects = app.update(Msg::Tick(later));
        let scans = match effects.as_slice() {
            [Effect::UploadScans { scans, .. }] => scans.clone(),
            other => panic!("no upload: {other:?}"),
        };
        assert_eq!(scans.len(), 2);
        assert_eq!(scans[0].code, "7KQ2-M9XD");
        // Still down: kept, and tried again later.
        app.update(Msg::from(Reply::ScansUploaded(Err(ApiError::Network {
            server: "http://door".into(),
        }))));
        assert_eq!(app.door.waiting.len(), 2);
        let effects = app.update(Msg::Tick(later + UPLOAD_RETRY));
        assert!(matches!(effects.as_slice(), [Effect::UploadScans { .. }]));
        // Back: one of them had been let in at another door meanwhile.
        let effects = app.update(Msg::from(Reply::ScansUploaded(Ok(CheckinBatchResult {
            results: vec![
                result(CheckinOutcome::CheckedIn),
                result(CheckinOutcome::AlreadyCheckedIn),
            ],
        }))));
        assert_eq!(effects, [Effect::Bell]);
        assert!(!app.door.offline);
        assert!(app.door.waiting.is_empty());
        assert!(
            app.door.scans[0]
                .text
                .starts_with("Let in offline, but: Already checked in")
        );
        assert_eq!(app.door.checked_in, 3);
    }

    #[test]
    fn esc_clears_the_code_then_leaves_for_another_event() {
        let mut app = door(100, 30);
        app.update(ch('7'));
        app.update(key(KeyCode::Esc));
        assert!(app.door.input.is_empty());
        assert_eq!(app.screen, Screen::Scanner);
        app.update(key(KeyCode::Esc));
        assert_eq!(app.screen, Screen::Events);
        assert!(app.keys().contains(&("Enter", "scan tickets")));
    }

    #[test]
    fn only_door_staff_get_past_sign_in() {
        let settings = crate::config::Settings {
            checkin: true,
            ..crate::config::Settings::default()
        };
        let (mut app, _) = App::new(settings, None, Instant::now());
        let login = |role| storefront_contract::LoginResponse {
            token: "t".into(),
            expires_at: "2031-03-07T00:00:00Z".parse().unwrap(),
            user: storefront_contract::User {
                id: 1,
                email: "a@example.com".into(),
                name: "Ann".into(),
                role,
            },
        };
        let effects = app.update(Msg::from(Reply::SignedIn(Ok(login(
            storefront_contract::Role::Customer,
        )))));
        assert_eq!(app.screen, Screen::SignIn);
        assert!(app.session.is_none());
        assert!(app.signin.error.as_deref().unwrap().contains("door staff"));
        assert!(effects.iter().any(|e| matches!(e, Effect::Logout { .. })));
        app.update(Msg::from(Reply::SignedIn(Ok(login(
            storefront_contract::Role::Staff,
        )))));
        assert_eq!(app.screen, Screen::Events);
    }

    fn result(outcome: CheckinOutcome) -> CheckinResult {
        CheckinResult {
            outcome,
            ticket: Some(storefront_contract::CheckedTicket {
                code: "7KQ2-M9XD".into(),
                state: TicketState::CheckedIn,
                event_id: 1,
                event_name: "Wren Duo".into(),
                ticket_type_name: Some("Standard".into()),
                holder_name: "Ada Lovelace".into(),
            }),
            checked_in_at: Some("2026-12-05T19:42:00Z".parse().unwrap()),
        }
    }

    #[test]
    fn answers_read_as_the_door_says_them() {
        let when = |at: DateTime<Utc>| at.format("%H:%M").to_string();
        assert_eq!(
            read_result(&result(CheckinOutcome::CheckedIn), when),
            (Verdict::Welcome, "Welcome · Standard · Ada Lovelace".into())
        );
        assert_eq!(
            read_result(&result(CheckinOutcome::AlreadyCheckedIn), when),
            (Verdict::Refused, "Already checked in at 19:42".into())
        );
        assert_eq!(
            read_result(&result(CheckinOutcome::WrongEvent), when).0,
            Verdict::Elsewhere
        );
        for outcome in [
            CheckinOutcome::NotPaid,
            CheckinOutcome::Cancelled,
            CheckinOutcome::Unknown,
        ] {
            assert_eq!(read_result(&result(outcome), when).0, Verdict::Refused);
        }
    }

    #[test]
    fn offline_a_code_is_let_in_once() {
        let now = Instant::now();
        let mut door = DoorState::new(now, Utc::now());
        door.list_loaded = true;
        door.codes
            .insert("7KQ2-M9XD".into(), TicketState::Confirmed);
        door.codes
            .insert("AAAA-BBBB".into(), TicketState::CheckedIn);
        let at = door.wall(now);
        assert_eq!(door.decide_offline("7KQ2-M9XD", at, 1).0, Verdict::Welcome);
        assert_eq!(door.decide_offline("7KQ2-M9XD", at, 1).0, Verdict::Refused);
        assert_eq!(door.decide_offline("AAAA-BBBB", at, 1).0, Verdict::Refused);
        assert_eq!(door.decide_offline("ZZZZ-ZZZZ", at, 1).0, Verdict::Refused);
        assert_eq!(door.waiting.len(), 1);
        assert_eq!(door.checked_in, 1);
    }
}
