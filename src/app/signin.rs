//! The sign-in screen: email, masked password, inline errors; and, for buyers, a new
//! account of their own (Ctrl-N) and a new password by a code sent by e-mail (Ctrl-F).

use crossterm::event::KeyEvent;
use storefront_contract::LoginResponse;

use super::keys::Action;
use super::{App, Effect, Screen, Session, StatusKind};
use crate::api::{ApiError, ApiResult, ErrorCode};
use crate::text::LineInput;

/// What the sign-in screen is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    SignIn,
    /// A new customer account: e-mail, name, the password twice.
    SignUp,
    /// A forgotten password, first step: the address the code goes to.
    ResetAsk,
    /// A forgotten password, second step: the code from the e-mail and the new password.
    ResetConfirm,
}

impl Mode {
    /// The fields of the form, in the order Tab goes through them.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Mode::SignIn => &[Field::Email, Field::Password],
            Mode::SignUp => &[Field::Email, Field::Name, Field::Password, Field::Repeat],
            Mode::ResetAsk => &[Field::Email],
            Mode::ResetConfirm => &[Field::Code, Field::Password, Field::Repeat],
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Field {
    #[default]
    Email,
    Name,
    Password,
    /// The new password again.
    Repeat,
    /// The code the reset e-mail holds.
    Code,
}

impl Field {
    /// The field a server's `422` names.
    fn named(name: Option<&str>) -> Option<Field> {
        Some(match name? {
            "email" => Field::Email,
            "name" => Field::Name,
            "password" => Field::Password,
            "code" => Field::Code,
            _ => return None,
        })
    }

    /// How many characters the field takes.
    fn max_chars(self) -> usize {
        match self {
            Field::Email => 254,
            Field::Name => 100,
            Field::Password | Field::Repeat => 256,
            Field::Code => 20,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct SignInState {
    pub mode: Mode,
    pub email: LineInput,
    pub name: LineInput,
    pub password: LineInput,
    pub repeat: LineInput,
    pub code: LineInput,
    pub focus: Field,
    pub error: Option<String>,
    /// What went well (the code is on its way, the password changed).
    pub notice: Option<String>,
    pub busy: bool,
    /// Where to go once signed in (the screen that needed it, or the one a session ended on).
    pub return_to: Option<Screen>,
}

impl SignInState {
    pub fn field(&self, field: Field) -> &LineInput {
        match field {
            Field::Email => &self.email,
            Field::Name => &self.name,
            Field::Password => &self.password,
            Field::Repeat => &self.repeat,
            Field::Code => &self.code,
        }
    }

    fn field_mut(&mut self, field: Field) -> &mut LineInput {
        match field {
            Field::Email => &mut self.email,
            Field::Name => &mut self.name,
            Field::Password => &mut self.password,
            Field::Repeat => &mut self.repeat,
            Field::Code => &mut self.code,
        }
    }

    /// Goes to another step of the form, keeping the e-mail and forgetting every secret.
    pub(super) fn switch(&mut self, mode: Mode) {
        self.mode = mode;
        self.password.clear();
        self.repeat.clear();
        self.code.clear();
        self.error = None;
        self.notice = None;
        self.focus = match mode {
            Mode::SignIn if !self.email.trim().is_empty() => Field::Password,
            _ => mode.fields()[0],
        };
    }

    /// The first empty field of those named, with what to say about it.
    fn missing(&mut self, needed: &[(Field, &str)]) -> bool {
        for (field, say) in needed {
            if self.field(*field).trim().is_empty() {
                self.focus = *field;
                self.error = Some((*say).to_owned());
                return true;
            }
        }
        false
    }

    /// The new password typed twice the same; said when not.
    fn repeated(&mut self) -> bool {
        if self.password.as_str() == self.repeat.as_str() {
            return true;
        }
        self.repeat.clear();
        self.focus = Field::Repeat;
        self.error = Some("The two passwords differ: type the new one again.".to_owned());
        false
    }
}

/// What the sign-in screen says of a failure its own words do not cover.
fn said(err: &ApiError) -> String {
    match err {
        // Busy (every password hasher at work): the server says when to retry.
        ApiError::Refused {
            status: 503,
            message,
            ..
        } => message.clone(),
        ApiError::Refused {
            code: ErrorCode::RateLimited,
            ..
        } => "Too many attempts. Wait a minute, then try again.".to_owned(),
        // A server on this machine that does not answer is most likely not started.
        ApiError::Network { server } if on_this_machine(server) => format!(
            "{err} Is it running? `storefront serve` starts one; `storefront demo` runs the \
             whole shop here."
        ),
        other => other.to_string(),
    }
}

/// Whether `server` (a URL) is this machine's loopback address.
fn on_this_machine(server: &str) -> bool {
    let url = reqwest::Url::parse(server);
    let host = url
        .as_ref()
        .ok()
        .and_then(|url| url.host_str())
        .unwrap_or("");
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl App {
    /// Whether this terminal offers a new account and a forgotten password: a buyer's own
    /// terminal, not the kiosk, the door or the box office.
    pub fn offers_accounts(&self) -> bool {
        !self.is_kiosk() && !self.is_door() && !self.is_office()
    }

    /// Whether signing in can be skipped to browse the events: not at the door or the box
    /// office, whose work is all behind a staff or manager account.
    pub fn offers_browsing(&self) -> bool {
        !self.is_door() && !self.is_office()
    }

    pub(super) fn signin_action(&mut self, action: Action) -> Vec<Effect> {
        if self.signin.busy {
            return Vec::new();
        }
        let offers_accounts = self.offers_accounts();
        let demo_email = self.demo_hint.as_ref().map(|(email, _)| email.as_str());
        let form = &mut self.signin;
        match action {
            Action::NextField | Action::PreviousField => {
                let fields = form.mode.fields();
                let at = fields.iter().position(|f| *f == form.focus).unwrap_or(0);
                let step = if action == Action::NextField {
                    1
                } else {
                    fields.len() - 1
                };
                form.focus = fields[(at + step) % fields.len()];
                Vec::new()
            }
            Action::SignIn => match form.mode {
                Mode::SignIn => self.submit_sign_in(),
                Mode::SignUp => self.submit_sign_up(),
                Mode::ResetAsk => self.submit_reset_ask(),
                Mode::ResetConfirm => self.submit_reset_confirm(),
            },
            Action::NewAccount if offers_accounts && form.mode == Mode::SignIn => {
                form.switch(Mode::SignUp);
                // The demo's own address, as it was offered, is not a new account's.
                if demo_email.is_some_and(|demo| form.email == demo) {
                    form.email.clear();
                }
                Vec::new()
            }
            Action::ForgotPassword if offers_accounts && form.mode == Mode::SignIn => {
                form.switch(Mode::ResetAsk);
                Vec::new()
            }
            Action::Browse if form.mode != Mode::SignIn => {
                // Esc in a step of its own goes back to signing in.
                form.switch(Mode::SignIn);
                Vec::new()
            }
            Action::Browse => {
                // Browse without signing in.
                form.error = None;
                form.notice = None;
                form.return_to = None;
                self.show_events()
            }
            _ => Vec::new(),
        }
    }

    /// A key typed into the focused field.
    pub(super) fn signin_text(&mut self, key: KeyEvent) -> Vec<Effect> {
        if self.signin.busy {
            return Vec::new();
        }
        let focus = self.signin.focus;
        self.signin.field_mut(focus).edit(key, focus.max_chars());
        Vec::new()
    }

    fn submit_sign_in(&mut self) -> Vec<Effect> {
        let form = &mut self.signin;
        if form.missing(&[
            (Field::Email, "Enter your email address."),
            (Field::Password, "Enter your password."),
        ]) {
            return Vec::new();
        }
        form.error = None;
        form.notice = None;
        form.busy = true;
        vec![Effect::Login {
            email: form.email.trim().to_owned(),
            password: form.password.to_string(),
        }]
    }

    fn submit_sign_up(&mut self) -> Vec<Effect> {
        let form = &mut self.signin;
        if form.missing(&[
            (Field::Email, "Enter your e-mail address."),
            (
                Field::Name,
                "Enter your name, as the tickets should say it.",
            ),
            (Field::Password, "Choose a password."),
            (Field::Repeat, "Type the password again."),
        ]) || !form.repeated()
        {
            return Vec::new();
        }
        form.error = None;
        form.busy = true;
        vec![Effect::SignUp(storefront_contract::SignupRequest {
            email: form.email.trim().to_owned(),
            name: form.name.trim().to_owned(),
            password: form.password.to_string(),
        })]
    }

    fn submit_reset_ask(&mut self) -> Vec<Effect> {
        let form = &mut self.signin;
        if form.missing(&[(Field::Email, "Enter the e-mail address of your account.")]) {
            return Vec::new();
        }
        form.error = None;
        form.busy = true;
        vec![Effect::AskReset {
            email: form.email.trim().to_owned(),
        }]
    }

    fn submit_reset_confirm(&mut self) -> Vec<Effect> {
        let form = &mut self.signin;
        if form.missing(&[
            (Field::Code, "Enter the code from the e-mail."),
            (Field::Password, "Choose a new password."),
            (Field::Repeat, "Type the new password again."),
        ]) || !form.repeated()
        {
            return Vec::new();
        }
        form.error = None;
        form.busy = true;
        vec![Effect::ConfirmReset(storefront_contract::ResetConfirm {
            email: form.email.trim().to_owned(),
            code: form.code.trim().to_owned(),
            password: form.password.to_string(),
        })]
    }

    /// A refusal of the new-account or reset steps, said in words beside its field.
    fn account_refused(&mut self, err: ApiError) {
        let form = &mut self.signin;
        form.busy = false;
        form.notice = None;
        let (message, field) = match &err {
            ApiError::Refused {
                code: ErrorCode::Conflict,
                message,
                ..
            } if form.mode == Mode::SignUp => (message.clone(), Some(Field::Email)),
            // The server's words beside their field, but for what `said` words itself.
            ApiError::Refused {
                status,
                code,
                message,
                field,
                ..
            } if *status != 503 && *code != ErrorCode::RateLimited => {
                (message.clone(), Field::named(field.as_deref()))
            }
            other => (said(other), None),
        };
        form.error = Some(message);
        if let Some(field) = field.filter(|f| form.mode.fields().contains(f)) {
            form.focus = field;
        }
        if matches!(form.focus, Field::Password | Field::Repeat) {
            // A refused password is typed again, both times.
            form.password.clear();
            form.repeat.clear();
            form.focus = Field::Password;
        }
    }

    pub(super) fn signed_up(&mut self, result: ApiResult<LoginResponse>) -> Vec<Effect> {
        match result {
            Ok(login) => {
                self.signin.switch(Mode::SignIn);
                self.signin.name.clear();
                self.signed_in(Ok(login))
            }
            Err(err) => {
                self.account_refused(err);
                Vec::new()
            }
        }
    }

    pub(super) fn reset_asked(&mut self, result: ApiResult<()>) -> Vec<Effect> {
        match result {
            Ok(()) => {
                let form = &mut self.signin;
                form.busy = false;
                form.switch(Mode::ResetConfirm);
                // Whether the address has an account is not known here, nor said.
                form.notice = Some(format!(
                    "If {} has an account, a code is on its way to it. It is valid for 30 minutes.",
                    form.email.trim()
                ));
                Vec::new()
            }
            Err(err) => {
                self.account_refused(err);
                Vec::new()
            }
        }
    }

    pub(super) fn reset_done(&mut self, result: ApiResult<()>) -> Vec<Effect> {
        match result {
            Ok(()) => {
                let form = &mut self.signin;
                form.busy = false;
                form.switch(Mode::SignIn);
                form.notice =
                    Some("Your password is changed: sign in with the new one.".to_owned());
                Vec::new()
            }
            Err(err) => {
                self.account_refused(err);
                Vec::new()
            }
        }
    }

    pub(super) fn signed_in(&mut self, result: ApiResult<LoginResponse>) -> Vec<Effect> {
        self.signin.busy = false;
        let login = match result {
            Ok(login) => login,
            Err(err) if self.is_box_office() => return self.box_office_refused(&err),
            Err(err) => {
                self.signin.error = Some(match &err {
                    ApiError::Refused { code, .. } if *code == ErrorCode::InvalidCredentials => {
                        "That email and password do not match. Check them and try again.".to_owned()
                    }
                    other => said(other),
                });
                self.signin.password.clear();
                self.signin.focus = Field::Password;
                return Vec::new();
            }
        };
        self.connected();
        let token = login.token.clone();
        self.session = Some(Session {
            token: token.clone(),
            user: Some(login.user),
        });
        if self.is_box_office() {
            return self.box_office_signed_in(token);
        }
        self.signin.password.clear();
        self.signin.error = None;
        self.signin.notice = None;
        let mut effects = Vec::new();
        if self.settings.remember_session {
            effects.push(Effect::SaveToken(Some(token)));
        }
        effects.extend(self.after_sign_in());
        effects
    }

    pub(super) fn session_restored(
        &mut self,
        result: ApiResult<storefront_contract::User>,
    ) -> Vec<Effect> {
        self.signin.busy = false;
        match result {
            Ok(user) => {
                self.connected();
                if let Some(session) = &mut self.session {
                    session.user = Some(user);
                }
                self.after_sign_in()
            }
            Err(ApiError::SessionEnded(reason)) => {
                // A remembered token the server no longer knows: forget it quietly, unless
                // the venue disabled the account, which is said.
                self.session = None;
                self.screen = Screen::SignIn;
                self.signin.error = reason;
                vec![Effect::SaveToken(None)]
            }
            Err(err) => {
                let retry = self.token().map(|token| Effect::RestoreSession {
                    token: token.to_owned(),
                });
                if retry.is_some() {
                    self.signin.busy = true;
                }
                self.on_error(err, retry)
            }
        }
    }

    /// At the door only staff go on; anyone else is told and signed out again.
    fn door_signed_in(&mut self, token: String) -> Vec<Effect> {
        let user = self.user().cloned();
        if user.as_ref().is_some_and(|u| u.role.checks_in()) {
            let name = user.map(|u| u.name).unwrap_or_default();
            if self.signin.return_to.take() == Some(Screen::Scanner)
                && let Some(event_id) = self.door.event_id
            {
                // Signed in again mid-door: back to the same scanner.
                self.screen = Screen::Scanner;
                return vec![Effect::LoadDoorList { token, event_id }];
            }
            self.set_status(
                StatusKind::Success,
                format!("Signed in as {name}. Choose the event."),
            );
            self.screen = Screen::Events;
            return Vec::new();
        }
        self.session = None;
        self.screen = Screen::SignIn;
        self.signin.error =
            Some("Only door staff can check tickets in: sign in with a staff account.".to_owned());
        vec![Effect::Logout { token }, Effect::SaveToken(None)]
    }

    /// Signed in: load the badge, go back where we were, and look for an unpaid order.
    fn after_sign_in(&mut self) -> Vec<Effect> {
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        if self.is_door() {
            return self.door_signed_in(token);
        }
        if self.is_office() {
            return self.office_signed_in(token);
        }
        let name = self.user().map(|u| u.name.clone()).unwrap_or_default();
        let manager = self
            .user()
            .is_some_and(|u| u.role == storefront_contract::Role::Manager);
        self.set_status(
            StatusKind::Success,
            if manager {
                // The shop is not where a manager's work is: say where it is.
                format!("Signed in as {name}. The box office: storefront --box-office")
            } else {
                format!("Signed in as {name}.")
            },
        );
        let reader = self.ask_reader_venue(&token);
        let mut effects = vec![
            Effect::LoadSummary {
                token: token.clone(),
            },
            Effect::LoadOrders {
                token: token.clone(),
            },
        ];
        self.orders.offer_resume = true;
        let target = self.signin.return_to.take().unwrap_or(Screen::Events);
        self.screen = Screen::Events;
        match target {
            Screen::Event => {
                self.screen = Screen::Event;
                if let Some(id) = self.event.id {
                    self.event.loading = true;
                    effects.push(Effect::LoadEvent {
                        id,
                        token: Some(token),
                    });
                }
            }
            Screen::Cart => effects.extend(self.show_cart()),
            Screen::Orders => effects.extend(self.show_orders()),
            Screen::Payment => effects.extend(self.resume_payment()),
            Screen::Shop => effects.extend(self.show_shop()),
            Screen::Start
            | Screen::Events
            | Screen::SignIn
            | Screen::Scanner
            | Screen::Office
            | Screen::OfficeEvent
            | Screen::OfficeOrders
            | Screen::OfficeOrder => {}
        }
        effects.extend(reader);
        effects
    }
}
