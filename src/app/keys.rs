//! The keys of every screen, one table per screen: key → action → label. The table drives
//! the dispatch ([`App::action_for`]), the footer and the help popup; kiosk mode has tables
//! of its own that map its few keys (Enter above all) onto the same actions.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, PaymentPhase, Screen};

/// What a key asks for. Each screen gives the list and quantity actions its own meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Help,
    Quit,
    ShowEvents,
    ShowCart,
    ShowOrders,
    SignOut,
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Open,
    // Sign-in.
    NextField,
    PreviousField,
    SignIn,
    Browse,
    NewAccount,
    ForgotPassword,
    // Events.
    Filter,
    KeepFilter,
    ClearFilter,
    Refresh,
    // One event, and cart lines.
    PreviousType,
    NextType,
    More,
    Fewer,
    AddTickets,
    Remove,
    CheckOutVenue,
    CheckOutAll,
    // Payment.
    OpenBrowser,
    PayAgain,
    KeepWaiting,
    CancelOrder,
    ConfirmCancel,
    KeepOrder,
    // Kiosk.
    StartOver,
    // The door.
    Scan,
    // The cart.
    Undo,
    CopyAddress,
    // The shop.
    ShowShop,
    AddProducts,
    /// A kiosk with a card reader: pay by card, or by QR code instead.
    SwitchMethod,
    // The box office.
    GuestList,
    Export,
    Mark,
    RefundTickets,
    /// Sends a form (a refund, a guest list, an export).
    Submit,
}

/// A key as people read it, and what it does: `("Enter", "open")`.
pub type KeyName = (&'static str, &'static str);

/// Where a row is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// In the footer and in the help.
    Everywhere,
    /// In the footer only (`? help`, `q quit`).
    Footer,
    /// In the help only, below the screen's own keys.
    Help,
    /// Nowhere: keys that work without being advertised (paging, `=` for `+`).
    Hidden,
}

/// One row of a screen's table: the keys it binds, their actions, and how it is named.
#[derive(Clone, Copy)]
pub struct Row {
    /// How the footer and the help name the keys: `↑↓`, `Enter`, `+ -`.
    pub name: &'static str,
    pub label: &'static str,
    pub keys: &'static [(KeyCode, Action)],
    pub show: Show,
    /// The row counts only when this holds (a payment's phase, a session).
    pub when: Option<fn(&App) -> bool>,
    /// The screen's main action: a footer cut short keeps it (with `?`).
    pub primary: bool,
}

const fn row(
    name: &'static str,
    label: &'static str,
    keys: &'static [(KeyCode, Action)],
    show: Show,
) -> Row {
    Row {
        name,
        label,
        keys,
        show,
        when: None,
        primary: false,
    }
}

impl Row {
    /// Marks the screen's main action.
    const fn primary(self) -> Row {
        Row {
            primary: true,
            ..self
        }
    }

    const fn only(self, when: fn(&App) -> bool) -> Row {
        Row {
            when: Some(when),
            ..self
        }
    }

    fn hidden(self) -> Row {
        Row {
            show: Show::Hidden,
            ..self
        }
    }

    fn applies(&self, app: &App) -> bool {
        self.when.is_none_or(|when| when(app))
    }

    fn action(&self, code: KeyCode) -> Option<Action> {
        self.keys
            .iter()
            .find(|(key, _)| *key == code)
            .map(|(_, action)| *action)
    }
}

/// The key a table looks up: a Ctrl chord of a letter is its control character, as a
/// terminal sends it (Ctrl-N is `\u{e}`), so that it never acts as the letter itself.
pub fn chord(key: KeyEvent) -> KeyCode {
    match key.code {
        KeyCode::Char(c)
            if key.modifiers.contains(KeyModifiers::CONTROL) && c.is_ascii_alphabetic() =>
        {
            KeyCode::Char(char::from(c.to_ascii_lowercase() as u8 - b'a' + 1))
        }
        code => code,
    }
}

/// Ctrl-N and Ctrl-F, as [`chord`] gives them.
const CTRL_N: KeyCode = KeyCode::Char('\u{e}');
const CTRL_F: KeyCode = KeyCode::Char('\u{6}');

use Action as A;
use KeyCode as K;
use Show::{Everywhere, Footer, Help, Hidden};

const MOVE: &[(KeyCode, Action)] = &[
    (K::Up, A::Up),
    (K::Char('k'), A::Up),
    (K::Down, A::Down),
    (K::Char('j'), A::Down),
];
/// Moving where letters are text: the arrows alone.
const ARROWS: &[(KeyCode, Action)] = &[(K::Up, A::Up), (K::Down, A::Down)];
const PAGE: &[(KeyCode, Action)] = &[
    (K::PageUp, A::PageUp),
    (K::PageDown, A::PageDown),
    (K::Home, A::Home),
    (K::End, A::End),
];
const FIELDS: &[(KeyCode, Action)] = &[
    (K::Tab, A::NextField),
    (K::BackTab, A::PreviousField),
    (K::Up, A::PreviousField),
    (K::Down, A::NextField),
];

/// The rows every signed-in screen ends with.
const TAIL: &[Row] = &[
    row("L", "sign out", &[(K::Char('L'), A::SignOut)], Everywhere)
        .only(|app| app.session.is_some()),
    row("?", "help", &[(K::Char('?'), A::Help)], Footer),
    row("q", "quit", &[(K::Char('q'), A::Quit)], Footer),
    row(
        "e s c o",
        "events, shop, cart, orders",
        &[
            (K::Char('e'), A::ShowEvents),
            (K::Char('s'), A::ShowShop),
            (K::Char('c'), A::ShowCart),
            (K::Char('o'), A::ShowOrders),
        ],
        Help,
    ),
    row("Esc", "back, or close a popup", &[], Help),
    row("q", "quit (Ctrl-C too)", &[], Help),
];

/// What a line being typed takes besides text (`LineInput`), said in the help.
const MOVE_IN_TEXT: Row = row("← → Home End", "move in the text", &[], Help);
const DELETE_IN_TEXT: Row = row(
    "Ctrl-U Ctrl-W",
    "delete before the cursor, the word before it",
    &[],
    Help,
);

const SIGN_IN: &[Row] = &[
    row("Tab", "next field", FIELDS, Everywhere),
    row("Enter", "sign in", &[(K::Enter, A::SignIn)], Everywhere).primary(),
    // The fields take every letter: the other ways in are Ctrl chords.
    row(
        "Ctrl-N",
        "new account",
        &[(CTRL_N, A::NewAccount)],
        Everywhere,
    )
    .only(App::offers_accounts),
    row(
        "Ctrl-F",
        "forgot password",
        &[(CTRL_F, A::ForgotPassword)],
        Everywhere,
    )
    .only(App::offers_accounts),
    row("Esc", "browse events", &[(K::Esc, A::Browse)], Everywhere).only(App::offers_browsing),
    MOVE_IN_TEXT,
    DELETE_IN_TEXT,
];

const SIGN_UP: &[Row] = &[
    row("Tab", "next field", FIELDS, Everywhere),
    row(
        "Enter",
        "create the account",
        &[(K::Enter, A::SignIn)],
        Everywhere,
    )
    .primary(),
    row("Esc", "back to sign-in", &[(K::Esc, A::Browse)], Everywhere),
    MOVE_IN_TEXT,
    DELETE_IN_TEXT,
];

const RESET_ASK: &[Row] = &[
    row(
        "Enter",
        "e-mail me a code",
        &[(K::Enter, A::SignIn)],
        Everywhere,
    )
    .primary(),
    row("Esc", "back to sign-in", &[(K::Esc, A::Browse)], Everywhere),
    MOVE_IN_TEXT,
    DELETE_IN_TEXT,
];

const RESET_CONFIRM: &[Row] = &[
    row("Tab", "next field", FIELDS, Everywhere),
    row(
        "Enter",
        "change the password",
        &[(K::Enter, A::SignIn)],
        Everywhere,
    )
    .primary(),
    row("Esc", "back to sign-in", &[(K::Esc, A::Browse)], Everywhere),
    MOVE_IN_TEXT,
    DELETE_IN_TEXT,
];

const FILTERING: &[Row] = &[
    row("type", "filter", &[], Everywhere),
    row(
        "Enter",
        "keep filter",
        &[(K::Enter, A::KeepFilter)],
        Everywhere,
    ),
    row(
        "Esc",
        "clear filter",
        &[(K::Esc, A::ClearFilter)],
        Everywhere,
    ),
    MOVE_IN_TEXT,
    DELETE_IN_TEXT,
];

const EVENTS: &[Row] = &[
    row("↑↓", "move", MOVE, Everywhere),
    row("PgUp PgDn Home End", "page", PAGE, Help),
    row("Enter", "open", &[(K::Enter, A::Open)], Everywhere).primary(),
    row("/", "filter", &[(K::Char('/'), A::Filter)], Everywhere),
    row("r", "refresh", &[(K::Char('r'), A::Refresh)], Everywhere),
    row("c", "cart", &[(K::Char('c'), A::ShowCart)], Everywhere),
    row("o", "orders", &[(K::Char('o'), A::ShowOrders)], Everywhere),
    row("Esc", "clear filter", &[(K::Esc, A::ClearFilter)], Hidden),
];

const EVENT: &[Row] = &[
    row(
        "←→",
        "ticket type",
        &[(K::Left, A::PreviousType), (K::Right, A::NextType)],
        Everywhere,
    )
    .only(App::event_has_choice_of_types),
    row(
        "+ -",
        "quantity",
        &[
            (K::Char('+'), A::More),
            (K::Char('='), A::More),
            (K::Up, A::More),
            (K::Char('-'), A::Fewer),
            (K::Down, A::Fewer),
        ],
        Everywhere,
    )
    .only(App::event_buyable),
    row(
        "a",
        "add to cart",
        &[(K::Char('a'), A::AddTickets)],
        Everywhere,
    )
    .primary()
    .only(App::event_buyable),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere),
    row("c", "cart", &[(K::Char('c'), A::ShowCart)], Everywhere),
];

const CART: &[Row] = &[
    row("↑↓", "move", MOVE, Everywhere),
    row("PgUp PgDn Home End", "page", PAGE, Help),
    row(
        "+ -",
        "quantity",
        &[
            (K::Char('+'), A::More),
            (K::Char('='), A::More),
            (K::Char('-'), A::Fewer),
        ],
        Everywhere,
    ),
    row(
        "Del",
        "remove",
        &[(K::Delete, A::Remove), (K::Backspace, A::Remove)],
        Everywhere,
    ),
    row(
        "p",
        "check out venue",
        &[(K::Char('p'), A::CheckOutVenue)],
        Everywhere,
    ),
    row(
        "P",
        "check out all",
        &[(K::Char('P'), A::CheckOutAll)],
        Everywhere,
    )
    .primary(),
    row("u", "undo removal", &[(K::Char('u'), A::Undo)], Everywhere)
        .only(|app| app.cart.removed.is_some()),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere),
];

/// How many of the chosen product, in the shop.
const SHOP_QUANTITY: Row = row(
    "+ -",
    "how many",
    &[(K::Char('+'), A::More), (K::Char('-'), A::Fewer)],
    Everywhere,
)
.only(|app| app.shop.selected().is_some());

const SHOP: &[Row] = &[
    row("↑↓", "move", MOVE, Everywhere),
    row("PgUp PgDn Home End", "page", PAGE, Help),
    SHOP_QUANTITY,
    row(
        "a",
        "add to cart",
        &[(K::Char('a'), A::AddProducts), (K::Enter, A::AddProducts)],
        Everywhere,
    )
    .primary()
    .only(|app| app.shop.selected().is_some()),
    row("/", "filter", &[(K::Char('/'), A::Filter)], Everywhere),
    row("r", "refresh", &[(K::Char('r'), A::Refresh)], Help),
    row(
        "Esc",
        "clear the filter",
        &[(K::Esc, A::ClearFilter)],
        Everywhere,
    )
    .only(|app| !app.shop.filter.is_empty()),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere),
];

const ORDERS: &[Row] = &[
    row("↑↓", "move", MOVE, Everywhere),
    row("PgUp PgDn Home End", "page", PAGE, Help),
    row("Enter", "open", &[(K::Enter, A::Open)], Everywhere),
    row("e", "events", &[(K::Char('e'), A::ShowEvents)], Everywhere),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere),
];

const PAYMENT: &[Row] = &[
    row(
        "Enter",
        "keep waiting",
        &[(K::Enter, A::KeepWaiting), (K::Char('r'), A::KeepWaiting)],
        Everywhere,
    )
    .only(|app| app.payment.phase == PaymentPhase::TimedOut),
    row(
        "b",
        "open in browser",
        &[(K::Char('b'), A::OpenBrowser)],
        Everywhere,
    )
    .only(|app| {
        app.browser_allowed()
            && matches!(
                app.payment.phase,
                PaymentPhase::Waiting
                    | PaymentPhase::Reconnecting
                    | PaymentPhase::Starting
                    | PaymentPhase::TimedOut
            )
    }),
    row(
        "y",
        "copy the address",
        &[(K::Char('y'), A::CopyAddress)],
        Everywhere,
    )
    .only(|app| {
        !app.is_kiosk()
            && app.payment.checkout_url.is_some()
            && matches!(
                app.payment.phase,
                PaymentPhase::Waiting | PaymentPhase::Reconnecting | PaymentPhase::TimedOut
            )
    }),
    row("r", "pay again", &[(K::Char('r'), A::PayAgain)], Everywhere)
        .primary()
        .only(|app| {
            !app.is_kiosk()
                && matches!(
                    app.payment.phase,
                    PaymentPhase::Failed | PaymentPhase::ProviderError(_)
                )
        }),
    // A customer tries again with Enter.
    row(
        "Enter",
        "try again",
        &[(K::Enter, A::PayAgain), (K::Char('r'), A::PayAgain)],
        Everywhere,
    )
    .primary()
    .only(|app| {
        app.is_kiosk()
            && matches!(
                app.payment.phase,
                PaymentPhase::Failed | PaymentPhase::ProviderError(_)
            )
    }),
    row(
        "Tab",
        "pay by QR code instead",
        &[(K::Tab, A::SwitchMethod)],
        Everywhere,
    )
    .only(|app| app.payment.reader.is_some() && app.payment_switchable()),
    row(
        "Tab",
        "pay by card instead",
        &[(K::Tab, A::SwitchMethod)],
        Everywhere,
    )
    .only(|app| {
        app.payment.reader.is_none() && app.card_reader().is_some() && app.payment_switchable()
    }),
    row("↑↓", "ticket", MOVE, Everywhere).only(|app| app.payment.phase == PaymentPhase::Paid),
    row(
        "x",
        "cancel order",
        &[(K::Char('x'), A::CancelOrder)],
        Everywhere,
    )
    .primary()
    .only(|app| !app.is_kiosk() && app.payment.payable()),
    // A customer at a kiosk leaves the order and the terminal in one go: nothing of theirs
    // (least of all an amount on the card reader) waits for the next customer.
    row(
        "Esc",
        "cancel and start over",
        &[(K::Esc, A::CancelOrder), (K::Char('x'), A::CancelOrder)],
        Everywhere,
    )
    .only(|app| app.is_kiosk() && app.payment.payable()),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere)
        .only(|app| !(app.is_kiosk() && app.payment.payable())),
];

const CONFIRM_CANCEL: &[Row] = &[
    row(
        "y Enter",
        "cancel the order",
        &[
            (K::Char('y'), A::ConfirmCancel),
            (K::Enter, A::ConfirmCancel),
        ],
        Everywhere,
    ),
    row(
        "n Esc",
        "keep it",
        &[(K::Char('n'), A::KeepOrder), (K::Esc, A::KeepOrder)],
        Everywhere,
    ),
];

/// At the door: the events to choose from, and the ways out.
const DOOR_EVENTS: &[Row] = &[
    row("↑↓", "move", MOVE, Everywhere),
    row("PgUp PgDn Home End", "page", PAGE, Help),
    row("Enter", "scan tickets", &[(K::Enter, A::Open)], Everywhere).primary(),
    row("/", "filter", &[(K::Char('/'), A::Filter)], Everywhere),
    row("r", "refresh", &[(K::Char('r'), A::Refresh)], Everywhere),
    row("Esc", "clear filter", &[(K::Esc, A::ClearFilter)], Hidden),
    row("L", "sign out", &[(K::Char('L'), A::SignOut)], Everywhere)
        .only(|app| app.session.is_some()),
    row("?", "help", &[(K::Char('?'), A::Help)], Footer),
    row("q", "quit", &[(K::Char('q'), A::Quit)], Footer),
];

/// The scanner takes every key as the code but these.
const SCANNER: &[Row] = &[
    row("type or scan", "a code", &[], Everywhere),
    row("Enter", "check in", &[(K::Enter, A::Scan)], Everywhere).primary(),
    row(
        "Esc",
        "clear, or choose another event",
        &[(K::Esc, A::Back)],
        Everywhere,
    ),
    row("Ctrl-C", "quit", &[], Everywhere),
];

/// The box office's keys that end every screen of it.
const OFFICE_TAIL: &[Row] = &[
    row("r", "refresh", &[(K::Char('r'), A::Refresh)], Help),
    row("L", "sign out", &[(K::Char('L'), A::SignOut)], Everywhere)
        .only(|app| app.session.is_some()),
    row("?", "help", &[(K::Char('?'), A::Help)], Footer),
    row("q", "quit", &[(K::Char('q'), A::Quit)], Footer),
];

/// The box office: every event's sales.
const OFFICE: &[Row] = &[
    row("↑↓", "move", MOVE, Everywhere),
    row("PgUp PgDn Home End", "page", PAGE, Help),
    row("Enter", "open event", &[(K::Enter, A::Open)], Everywhere).primary(),
    row(
        "/",
        "find an order",
        &[(K::Char('/'), A::Filter)],
        Everywhere,
    ),
    row(
        "g",
        "guest list",
        &[(K::Char('g'), A::GuestList)],
        Everywhere,
    ),
    row("x", "export CSV", &[(K::Char('x'), A::Export)], Everywhere),
];

/// The box office: one event.
const OFFICE_EVENT: &[Row] = &[
    row(
        "g",
        "guest list",
        &[(K::Char('g'), A::GuestList)],
        Everywhere,
    )
    .primary(),
    row("x", "export CSV", &[(K::Char('x'), A::Export)], Everywhere),
    row(
        "/",
        "find an order",
        &[(K::Char('/'), A::Filter)],
        Everywhere,
    ),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere),
];

/// The box office: orders found as one types.
const OFFICE_ORDERS: &[Row] = &[
    row("type", "order no., code, e-mail or name", &[], Everywhere),
    row("↑↓", "move", ARROWS, Everywhere),
    row("Enter", "open", &[(K::Enter, A::Open)], Everywhere).primary(),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere),
    MOVE_IN_TEXT,
    DELETE_IN_TEXT,
];

/// The box office: one order.
const OFFICE_ORDER: &[Row] = &[
    row("↑↓", "ticket", MOVE, Everywhere),
    row("Space", "mark", &[(K::Char(' '), A::Mark)], Everywhere),
    row(
        "R",
        "refund marked (or this) ticket",
        &[(K::Char('R'), A::RefundTickets)],
        Everywhere,
    )
    .primary(),
    row(
        "/",
        "find an order",
        &[(K::Char('/'), A::Filter)],
        Everywhere,
    ),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere),
];

const OFFICE_REFUND: &[Row] = &[
    row("type", "the reason (optional)", &[], Everywhere),
    row("Enter", "refund", &[(K::Enter, A::Submit)], Everywhere).primary(),
    row("Esc", "do not refund", &[(K::Esc, A::Back)], Everywhere),
];

const OFFICE_COMP: &[Row] = &[
    row(
        "Tab",
        "next field",
        &[
            (K::Tab, A::NextField),
            (K::BackTab, A::NextField),
            (K::Down, A::NextField),
            (K::Up, A::NextField),
        ],
        Everywhere,
    ),
    row(
        "←→",
        "ticket type",
        &[(K::Left, A::PreviousType), (K::Right, A::NextType)],
        Everywhere,
    )
    .only(|app| {
        matches!(&app.office.dialog, Some(super::OfficeDialog::Comp(form))
            if form.focus == super::CompField::Type)
    }),
    row(
        "Enter",
        "make the tickets",
        &[(K::Enter, A::Submit)],
        Everywhere,
    )
    .primary(),
    row("Esc", "cancel", &[(K::Esc, A::Back)], Everywhere),
];

const OFFICE_EXPORT: &[Row] = &[
    row("type", "the file", &[], Everywhere),
    row("Enter", "write", &[(K::Enter, A::Submit)], Everywhere).primary(),
    row("Esc", "cancel", &[(K::Esc, A::Back)], Everywhere),
    MOVE_IN_TEXT,
    DELETE_IN_TEXT,
];

const KIOSK_START: &[Row] = &[row("any key", "start", &[], Everywhere)];

const KIOSK_SIGN_IN: &[Row] = &[
    row("↑↓", "field", FIELDS, Everywhere),
    row("Enter", "sign in", &[(K::Enter, A::SignIn)], Everywhere),
    row("Esc", "back", &[(K::Esc, A::Browse)], Everywhere),
];

const KIOSK_EVENTS: &[Row] = &[
    row("↑↓", "choose", MOVE, Everywhere),
    row("Enter", "open", &[(K::Enter, A::Open)], Everywhere),
    row("/", "search", &[(K::Char('/'), A::Filter)], Everywhere),
    // A numeric keypad has `*`.
    row(
        "s",
        "shop",
        &[(K::Char('s'), A::ShowShop), (K::Char('*'), A::ShowShop)],
        Everywhere,
    )
    .only(|app| !app.shop.products.is_empty()),
    row("Esc", "start over", &[(K::Esc, A::StartOver)], Everywhere)
        .only(|app| app.events.filter.is_empty()),
];

const KIOSK_EVENT: &[Row] = &[
    row(
        "←→",
        "ticket type",
        &[(K::Left, A::PreviousType), (K::Right, A::NextType)],
        Everywhere,
    )
    .only(App::event_has_choice_of_types),
    row(
        "+ -",
        "how many",
        &[(K::Char('+'), A::More), (K::Char('-'), A::Fewer)],
        Everywhere,
    )
    .only(App::event_buyable),
    // A numeric keypad is enough: Enter adds.
    row(
        "Enter",
        "add to cart",
        &[(K::Enter, A::AddTickets)],
        Everywhere,
    )
    .only(App::event_buyable),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere),
];

const KIOSK_SHOP: &[Row] = &[
    row("↑↓", "choose", MOVE, Everywhere),
    SHOP_QUANTITY,
    row(
        "Enter",
        "add to cart",
        &[(K::Enter, A::AddProducts)],
        Everywhere,
    )
    .only(|app| app.shop.selected().is_some()),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere),
];

const KIOSK_CART: &[Row] = &[
    row("↑↓", "choose", MOVE, Everywhere),
    row(
        "+ -",
        "how many",
        &[(K::Char('+'), A::More), (K::Char('-'), A::Fewer)],
        Everywhere,
    ),
    // Enter pays for the whole cart.
    row("Enter", "pay", &[(K::Enter, A::CheckOutAll)], Everywhere),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere),
];

const KIOSK_PAID: &[Row] = &[
    row("type", "your e-mail for the tickets", &[], Everywhere)
        .only(|app| app.ticket_mail().is_some_and(|m| m.phase.typing())),
    // Enter sends what is typed; with nothing typed (or once sent) it is done.
    row(
        "Enter",
        "send, or done",
        &[(K::Enter, A::Submit)],
        Everywhere,
    )
    .primary()
    .only(|app| app.ticket_mail().is_some_and(|m| m.phase.typing())),
    row("Enter", "done", &[(K::Enter, A::Submit)], Everywhere)
        .primary()
        .only(|app| app.ticket_mail().is_none_or(|m| !m.phase.typing())),
    row("Esc", "skip", &[(K::Esc, A::StartOver)], Everywhere)
        .only(|app| app.ticket_mail().is_some_and(|m| m.phase.typing())),
    row("Esc", "done", &[(K::Esc, A::StartOver)], Hidden),
    // Letters are the address's: the tickets move with the arrows alone.
    row("↑↓", "ticket", ARROWS, Hidden),
];

const KIOSK_ORDERS: &[Row] = &[
    row("↑↓", "choose", MOVE, Everywhere),
    row("Enter", "open", &[(K::Enter, A::Open)], Everywhere),
    row("Esc", "back", &[(K::Esc, A::Back)], Everywhere),
];

impl App {
    /// Whether the open event can be added to the cart (loaded, not sold out).
    pub fn event_buyable(&self) -> bool {
        self.event
            .detail
            .as_ref()
            .is_some_and(|d| !d.summary.sold_out)
    }

    /// Whether the open event offers more than one ticket type to choose from.
    pub fn event_has_choice_of_types(&self) -> bool {
        self.event_buyable()
            && self
                .event
                .detail
                .as_ref()
                .is_some_and(|d| d.ticket_types.len() > 1)
    }

    /// The rows of the screen as it is now, in the order keys are looked up.
    pub fn key_table(&self) -> Vec<Row> {
        let own: &[Row] = match self.screen {
            Screen::Start => &[],
            Screen::SignIn => match self.signin.mode {
                super::SignInMode::SignIn => SIGN_IN,
                super::SignInMode::SignUp => SIGN_UP,
                super::SignInMode::ResetAsk => RESET_ASK,
                super::SignInMode::ResetConfirm => RESET_CONFIRM,
            },
            Screen::Events if self.events.editing => FILTERING,
            Screen::Events => EVENTS,
            Screen::Event => EVENT,
            Screen::Cart => CART,
            Screen::Payment if self.payment.confirm_cancel => CONFIRM_CANCEL,
            Screen::Payment => PAYMENT,
            Screen::Orders => ORDERS,
            Screen::Scanner => SCANNER,
            Screen::Shop if self.shop.editing => FILTERING,
            Screen::Shop => SHOP,
            Screen::Office | Screen::OfficeEvent | Screen::OfficeOrders | Screen::OfficeOrder => {
                &[]
            }
        };
        if self.is_office() && self.session.is_some() && self.screen != Screen::SignIn {
            let (rows, tail): (&[Row], &[Row]) = match (&self.office.dialog, self.screen) {
                (Some(super::OfficeDialog::Refund { .. }), _) => (OFFICE_REFUND, &[]),
                (Some(super::OfficeDialog::Comp(_)), _) => (OFFICE_COMP, &[]),
                (Some(super::OfficeDialog::Export { .. }), _) => (OFFICE_EXPORT, &[]),
                (None, Screen::OfficeEvent) => (OFFICE_EVENT, OFFICE_TAIL),
                (None, Screen::OfficeOrders) => (OFFICE_ORDERS, &[]),
                (None, Screen::OfficeOrder) => (OFFICE_ORDER, OFFICE_TAIL),
                (None, _) => (OFFICE, OFFICE_TAIL),
            };
            let mut rows: Vec<Row> = rows.iter().chain(tail).copied().collect();
            rows.retain(|row| row.applies(self));
            return rows;
        }
        if self.is_door() {
            let rows: &[Row] = match self.screen {
                Screen::Events if !self.events.editing => DOOR_EVENTS,
                _ => own,
            };
            let mut rows = rows.to_vec();
            rows.retain(|row| row.applies(self));
            return rows;
        }
        // Screens that type text take every other key; they end with no tail.
        let typing = self.screen == Screen::SignIn
            || self.screen == Screen::Scanner
            || (self.screen == Screen::Events && self.events.editing)
            || (self.screen == Screen::Shop && self.shop.editing);
        let tail: &[Row] = if typing { &[] } else { TAIL };
        let mut rows: Vec<Row> = Vec::new();
        if self.is_kiosk() {
            let kiosk: &[Row] = match self.screen {
                // Out of order: no key starts anything until it signs in.
                Screen::Start if self.kiosk.as_ref().is_some_and(|k| k.setup_error.is_some()) => {
                    &[]
                }
                Screen::Start => KIOSK_START,
                Screen::SignIn => KIOSK_SIGN_IN,
                Screen::Events if self.events.editing => FILTERING,
                Screen::Events => KIOSK_EVENTS,
                Screen::Event => KIOSK_EVENT,
                Screen::Cart => KIOSK_CART,
                Screen::Payment if self.payment.phase == PaymentPhase::Paid => KIOSK_PAID,
                Screen::Payment => own,
                Screen::Orders => KIOSK_ORDERS,
                Screen::Scanner => own,
                Screen::Shop if self.shop.editing => FILTERING,
                Screen::Shop => KIOSK_SHOP,
                Screen::Office
                | Screen::OfficeEvent
                | Screen::OfficeOrders
                | Screen::OfficeOrder => own,
            };
            rows.extend(kiosk);
            if self.kiosk_paid() {
                // The address field takes every other key.
                rows.retain(|row| row.applies(self));
                return rows;
            }
            // The ordinary keys still work unadvertised, except the ways out.
            rows.extend(
                own.iter()
                    .chain(tail)
                    .filter(|row| {
                        !row.keys
                            .iter()
                            .any(|(_, action)| matches!(action, A::Quit | A::SignOut))
                    })
                    .map(|row| row.hidden()),
            );
        } else {
            rows.extend(own);
            rows.extend(tail);
        }
        rows.retain(|row| row.applies(self));
        rows
    }

    /// The action a key asks for on this screen, if any.
    pub fn action_for(&self, code: KeyCode) -> Option<Action> {
        self.key_table().iter().find_map(|row| row.action(code))
    }

    /// What the footer shows, in the table's order.
    pub fn keys(&self) -> Vec<KeyName> {
        self.named_keys(&[Everywhere, Footer])
    }

    /// The footer's keys with whether each is the screen's main action (kept, with `?`,
    /// when the footer is cut short).
    pub fn footer_keys(&self) -> Vec<(KeyName, bool)> {
        self.key_table()
            .iter()
            .filter(|row| matches!(row.show, Everywhere | Footer))
            .map(|row| ((row.name, row.label), row.primary || row.name == "?"))
            .collect()
    }

    /// What `?` explains: the screen's keys, then (apart) those that work everywhere.
    pub fn help_keys(&self) -> (Vec<KeyName>, Vec<KeyName>) {
        (self.named_keys(&[Everywhere]), self.named_keys(&[Help]))
    }

    fn named_keys(&self, shown: &[Show]) -> Vec<KeyName> {
        self.key_table()
            .iter()
            .filter(|row| shown.contains(&row.show))
            .map(|row| (row.name, row.label))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests::signed_in;

    fn app_on(screen: Screen) -> App {
        let mut app = signed_in(100, 30);
        app.screen = screen;
        app
    }

    #[test]
    fn every_footer_key_is_bound_and_every_bound_key_is_named() {
        for screen in [Screen::Events, Screen::Event, Screen::Cart, Screen::Orders] {
            let app = app_on(screen);
            for row in app.key_table() {
                if row.show != Hidden && row.show != Help && row.name != "type" {
                    assert!(
                        !row.keys.is_empty(),
                        "{screen:?}: {} binds nothing",
                        row.name
                    );
                }
            }
        }
    }

    #[test]
    fn the_kiosk_maps_enter_onto_adding_and_paying_and_has_no_way_out() {
        let mut app = app_on(Screen::Event);
        app.kiosk = Some(crate::app::KioskState::new(app.now));
        app.event.detail = Some(crate::app::tests::detail());
        assert_eq!(app.action_for(K::Enter), Some(A::AddTickets));
        assert_eq!(app.action_for(K::Char('q')), None);
        assert_eq!(app.action_for(K::Char('L')), None);
        app.screen = Screen::Cart;
        assert_eq!(app.action_for(K::Enter), Some(A::CheckOutAll));
        assert_eq!(app.action_for(K::Char('P')), Some(A::CheckOutAll));
    }

    #[test]
    fn a_sold_out_event_offers_nothing_to_buy_and_one_price_no_choice() {
        let mut app = app_on(Screen::Event);
        let mut detail = crate::app::tests::detail();
        detail.summary.sold_out = true;
        app.event.detail = Some(detail.clone());
        for key in [K::Char('a'), K::Char('+'), K::Left] {
            assert_eq!(app.action_for(key), None, "{key:?}");
        }
        detail.summary.sold_out = false;
        detail.ticket_types.truncate(1);
        app.event.detail = Some(detail);
        assert_eq!(app.action_for(K::Left), None, "one type: nothing to choose");
        assert_eq!(app.action_for(K::Char('a')), Some(A::AddTickets));
    }

    #[test]
    fn payment_keys_follow_the_phase() {
        let mut app = app_on(Screen::Payment);
        app.payment.phase = PaymentPhase::Failed;
        assert_eq!(app.action_for(K::Char('r')), Some(A::PayAgain));
        app.payment.phase = PaymentPhase::TimedOut;
        assert_eq!(app.action_for(K::Char('r')), Some(A::KeepWaiting));
        assert_eq!(app.action_for(K::Enter), Some(A::KeepWaiting));
        app.payment.phase = PaymentPhase::Paid;
        assert_eq!(app.action_for(K::Char('r')), None);
        assert!(!app.keys().iter().any(|(key, _)| *key == "b"));
    }
}
