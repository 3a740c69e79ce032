//! The sign-in screen: email, masked password, inline errors.

use crossterm::event::KeyEvent;
use storefront_contract::LoginResponse;

use super::keys::Action;
use super::{App, Effect, Screen, Session, StatusKind};
use crate::api::{ApiError, ApiResult, ErrorCode};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Field {
    #[default]
    Email,
    Password,
}

#[derive(Clone, Debug, Default)]
pub struct SignInState {
    pub email: crate::text::LineInput,
    pub password: crate::text::LineInput,
    pub focus: Field,
    pub error: Option<String>,
    pub busy: bool,
    /// Where to go once signed in (the screen that needed it, or the one a session ended on).
    pub return_to: Option<Screen>,
}

impl App {
    pub(super) fn signin_action(&mut self, action: Action) -> Vec<Effect> {
        if self.signin.busy {
            return Vec::new();
        }
        match action {
            Action::NextField => {
                self.signin.focus = match self.signin.focus {
                    Field::Email => Field::Password,
                    Field::Password => Field::Email,
                };
                Vec::new()
            }
            Action::SignIn => self.submit_sign_in(),
            Action::Browse => {
                // Browse without signing in.
                self.signin.error = None;
                self.signin.return_to = None;
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
        let form = &mut self.signin;
        let field = match form.focus {
            Field::Email => &mut form.email,
            Field::Password => &mut form.password,
        };
        field.edit(key, 254);
        Vec::new()
    }

    fn submit_sign_in(&mut self) -> Vec<Effect> {
        let form = &mut self.signin;
        if form.email.trim().is_empty() {
            form.focus = Field::Email;
            form.error = Some("Enter your email address.".to_owned());
            return Vec::new();
        }
        if form.password.is_empty() {
            form.focus = Field::Password;
            form.error = Some("Enter your password.".to_owned());
            return Vec::new();
        }
        form.error = None;
        form.busy = true;
        vec![Effect::Login {
            email: form.email.trim().to_owned(),
            password: form.password.to_string(),
        }]
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
                    ApiError::Refused { code, .. } if *code == ErrorCode::RateLimited => {
                        "Too many attempts. Wait a minute, then try again.".to_owned()
                    }
                    other => other.to_string(),
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
        self.set_status(StatusKind::Success, format!("Signed in as {name}."));
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
        effects
    }
}
