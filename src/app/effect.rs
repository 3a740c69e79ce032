//! Effects: what `update` asks the outside world to do. Each runs on a tokio task and comes
//! back as a message; tests run them inline against a real server.

use std::time::Duration;

use storefront_contract::{
    BuyTicketsRequest, BuyTicketsResponse, Cart, CartSummary, CheckoutResponse, EventDetail,
    EventList, LoginResponse, Order, OrderList, PayRequest, ProductList, TicketList, User,
};

use crate::api::{ApiClient, ApiError, ApiResult, ErrorCode};

/// Names one user action that must act once however often it is sent (buying, checking out,
/// paying). `update` numbers actions; [`KeyMaker`] turns the number into the
/// `Idempotency-Key` where the request is made, so `update` stays free of randomness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionKey(pub u64);

/// Makes `Idempotency-Key`s: unique to this run of the client, the same for one action.
#[derive(Clone, Debug)]
pub struct KeyMaker {
    run: String,
}

impl KeyMaker {
    pub fn new() -> KeyMaker {
        KeyMaker {
            run: uuid::Uuid::new_v4().to_string(),
        }
    }

    pub fn key(&self, action: ActionKey) -> String {
        format!("{}-{}", self.run, action.0)
    }
}

impl Default for KeyMaker {
    fn default() -> KeyMaker {
        KeyMaker::new()
    }
}

/// What effects are performed with: the API, where tokens are kept, and the key maker.
pub struct Outside {
    pub api: ApiClient,
    pub session: crate::session::SessionStore,
    pub keys: KeyMaker,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Login {
        email: String,
        password: String,
    },
    /// A new customer account, signed in at once.
    SignUp(storefront_contract::SignupRequest),
    /// A code to choose a new password, sent to the address if it has an account.
    AskReset {
        email: String,
    },
    ConfirmReset(storefront_contract::ResetConfirm),
    /// The kiosk's "E-mail me my tickets".
    EmailTickets {
        token: String,
        order_id: i64,
        email: String,
    },
    RestoreSession {
        token: String,
    },
    Logout {
        token: String,
    },
    /// Keep (or with `None`, forget) the sign-in token, as `[session] remember` says.
    SaveToken(Option<String>),
    LoadEvents {
        query: Option<String>,
        /// One venue's events only (a kiosk's `page`).
        page: Option<String>,
        cursor: Option<String>,
        limit: u32,
        generation: u64,
        append: bool,
    },
    LoadEvent {
        id: i64,
        token: Option<String>,
    },
    /// The kiosk's card reader and its venue.
    LoadReader {
        token: String,
        name: String,
    },
    /// Everything for sale besides tickets (the shop).
    LoadProducts {
        /// One venue's products only (a kiosk's `page`).
        page: Option<String>,
        token: String,
    },
    /// Puts `quantity` of a product in the cart.
    AddProduct {
        token: String,
        product_id: i64,
        quantity: i64,
    },
    Buy {
        token: String,
        event_id: i64,
        request: BuyTicketsRequest,
        key: ActionKey,
    },
    LoadCart {
        token: String,
    },
    LoadSummary {
        token: String,
    },
    ChangeCart {
        token: String,
        change: CartChange,
    },
    Checkout {
        token: String,
        page: Option<String>,
        key: ActionKey,
    },
    Pay {
        token: String,
        order_id: i64,
        /// Where: the hosted page, or a card reader.
        with: PayRequest,
        key: ActionKey,
    },
    /// Long-polls the order until its status leaves pending or `wait_secs` pass.
    WaitForOrder {
        token: String,
        order_id: i64,
        wait_secs: u64,
        generation: u64,
    },
    LoadOrder {
        token: String,
        order_id: i64,
    },
    /// Long-polls an order the buyer left the payment screen of, to tell them how it ended.
    WatchOrder {
        token: String,
        order_id: i64,
        wait_secs: u64,
    },
    CancelOrder {
        token: String,
        order_id: i64,
    },
    LoadOrders {
        token: String,
    },
    LoadTickets {
        token: String,
    },
    OpenBrowser {
        command: String,
        url: String,
    },
    /// Door staff: the event's codes and counts.
    LoadDoorList {
        token: String,
        event_id: i64,
    },
    /// Door staff: one scan, numbered `scan` on the door's screen.
    CheckIn {
        token: String,
        event_id: i64,
        code: String,
        scan: u64,
        scanned_at: chrono::DateTime<chrono::Utc>,
    },
    /// Door staff: the check-ins made offline.
    UploadScans {
        token: String,
        scans: Vec<storefront_contract::OfflineScan>,
    },
    /// The terminal's bell (a refused ticket at the door).
    Bell,
    /// Puts text on the terminal's clipboard (OSC 52), where the terminal allows it.
    Copy(String),
    /// Empties the cart (a kiosk, for the next customer), after cancelling the order the last
    /// customer left unpaid, if any (so that no reader keeps its amount for the next one).
    ClearCart {
        token: String,
        abandoned_order: Option<i64>,
    },
    /// Managers: every event's sales; with `wait`, a long-poll for a change after `version`.
    LoadSales {
        token: String,
        wait: Option<(u64, i64)>,
        generation: u64,
    },
    /// Managers: one event's sales, and by day.
    LoadEventSales {
        token: String,
        event_id: i64,
    },
    /// Managers: orders found by number, code, e-mail or name.
    FindOrders {
        token: String,
        query: String,
        generation: u64,
    },
    /// Managers: any order with its buyer and history.
    LoadOrderDetail {
        token: String,
        order_id: i64,
    },
    Refund {
        token: String,
        order_id: i64,
        request: storefront_contract::RefundRequest,
        key: ActionKey,
    },
    Comp {
        token: String,
        request: storefront_contract::CompRequest,
        key: ActionKey,
    },
    /// Writes the accountant's CSV (of one event, or all) to a new file.
    Export {
        token: String,
        event_id: Option<i64>,
        path: std::path::PathBuf,
    },
    /// Runs `effect` after a pause (reconnecting with backoff).
    Later {
        after: Duration,
        effect: Box<Effect>,
    },
}

/// One change to the cart, acted on at once by the server.
#[derive(Clone, Debug, PartialEq)]
pub enum CartChange {
    SetQuantity {
        line: i64,
        quantity: i64,
    },
    RemoveLine {
        line: i64,
    },
    RemoveBooking {
        id: i64,
    },
    RemoveTickets {
        ids: Vec<i64>,
    },
    AddTickets {
        event_id: i64,
        request: BuyTicketsRequest,
        key: ActionKey,
    },
    /// Puts a removed product line back.
    AddProduct {
        product_id: i64,
        quantity: i64,
    },
}

/// What comes back.
#[derive(Clone, Debug)]
pub enum Reply {
    SignedIn(ApiResult<LoginResponse>),
    SignedUp(ApiResult<LoginResponse>),
    ResetAsked(ApiResult<()>),
    ResetDone(ApiResult<()>),
    TicketsEmailed {
        order_id: i64,
        result: ApiResult<()>,
    },
    SessionRestored(ApiResult<User>),
    SignedOut,
    TokenSaved(Result<(), String>),
    EventsLoaded {
        generation: u64,
        append: bool,
        result: ApiResult<EventList>,
    },
    EventLoaded(ApiResult<EventDetail>),
    ProductsLoaded(ApiResult<ProductList>),
    ReaderLoaded(ApiResult<storefront_contract::Reader>),
    ProductAdded {
        product_id: i64,
        quantity: i64,
        result: ApiResult<CartSummary>,
    },
    Bought {
        quantity: i64,
        result: ApiResult<BuyTicketsResponse>,
    },
    CartLoaded(ApiResult<Cart>),
    SummaryLoaded(ApiResult<CartSummary>),
    CartChanged(ApiResult<()>),
    CheckedOut(ApiResult<CheckoutResponse>),
    PaymentStarted(ApiResult<CheckoutResponse>),
    OrderUpdate {
        generation: u64,
        result: ApiResult<Order>,
    },
    OrderLoaded(ApiResult<Order>),
    OrderWatched {
        order_id: i64,
        result: ApiResult<Order>,
    },
    OrderCancelled(ApiResult<Order>),
    OrdersLoaded(ApiResult<OrderList>),
    TicketsLoaded(ApiResult<TicketList>),
    BrowserOpened(Result<(), String>),
    DoorListLoaded {
        event_id: i64,
        result: ApiResult<storefront_contract::EventCheckins>,
    },
    CheckedIn {
        scan: u64,
        event_id: i64,
        code: String,
        scanned_at: chrono::DateTime<chrono::Utc>,
        result: ApiResult<storefront_contract::CheckinResult>,
    },
    ScansUploaded(ApiResult<storefront_contract::CheckinBatchResult>),
    CartCleared(ApiResult<()>),
    SalesLoaded {
        generation: u64,
        result: ApiResult<storefront_contract::BoxOfficeEvents>,
    },
    EventSalesLoaded(ApiResult<storefront_contract::EventSalesDetail>),
    OrdersFound {
        generation: u64,
        result: ApiResult<storefront_contract::FoundOrders>,
    },
    OrderDetailLoaded(ApiResult<storefront_contract::OrderDetail>),
    Refunded(ApiResult<storefront_contract::OrderDetail>),
    Comped(ApiResult<storefront_contract::OrderDetail>),
    /// How many tickets the file holds, or why it was not written.
    Exported {
        path: std::path::PathBuf,
        result: Result<usize, String>,
    },
}

/// Runs one effect to its reply.
pub async fn perform(outside: &Outside, effect: Effect) -> Option<Reply> {
    let Outside { api, session, keys } = outside;
    Some(match effect {
        Effect::Login { email, password } => Reply::SignedIn(api.login(&email, &password).await),
        Effect::SignUp(request) => Reply::SignedUp(api.sign_up(&request).await),
        Effect::AskReset { email } => Reply::ResetAsked(api.ask_reset(&email).await),
        Effect::ConfirmReset(request) => Reply::ResetDone(api.confirm_reset(&request).await),
        Effect::EmailTickets {
            token,
            order_id,
            email,
        } => Reply::TicketsEmailed {
            order_id,
            result: api.email_tickets(&token, order_id, &email).await,
        },
        Effect::RestoreSession { token } => Reply::SessionRestored(api.me(&token).await),
        Effect::Logout { token } => {
            // Signing out locally never waits on the server; a dead token is dead anyway.
            if let Err(err) = api.logout(&token).await {
                tracing::info!(error = %err, "sign-out not confirmed by the server");
            }
            Reply::SignedOut
        }
        Effect::SaveToken(token) => {
            let result = match &token {
                Some(token) => session.save(api.server(), token),
                None => session.clear(),
            };
            Reply::TokenSaved(result.map_err(|err| err.to_string()))
        }
        Effect::LoadEvents {
            query,
            page,
            cursor,
            limit,
            generation,
            append,
        } => Reply::EventsLoaded {
            generation,
            append,
            result: api
                .events(query.as_deref(), page.as_deref(), limit, cursor.as_deref())
                .await,
        },
        Effect::LoadEvent { id, token } => {
            Reply::EventLoaded(api.event(id, token.as_deref()).await)
        }
        Effect::LoadReader { token, name } => Reply::ReaderLoaded(api.reader(&token, &name).await),
        Effect::LoadProducts { token, page } => {
            Reply::ProductsLoaded(api.products(&token, page.as_deref()).await)
        }
        Effect::AddProduct {
            token,
            product_id,
            quantity,
        } => Reply::ProductAdded {
            product_id,
            quantity,
            result: api.add_product(&token, product_id, quantity).await,
        },
        Effect::Buy {
            token,
            event_id,
            request,
            key,
        } => Reply::Bought {
            quantity: request.quantity,
            result: api
                .buy_tickets(&token, event_id, &request, &keys.key(key))
                .await,
        },
        Effect::LoadCart { token } => Reply::CartLoaded(api.cart(&token).await),
        Effect::LoadSummary { token } => Reply::SummaryLoaded(api.cart_summary(&token).await),
        Effect::ChangeCart { token, change } => {
            Reply::CartChanged(change_cart(api, keys, &token, change).await)
        }
        Effect::Checkout { token, page, key } => {
            Reply::CheckedOut(api.checkout(&token, page.as_deref(), &keys.key(key)).await)
        }
        Effect::Pay {
            token,
            order_id,
            with,
            key,
        } => Reply::PaymentStarted(api.pay(&token, order_id, &with, &keys.key(key)).await),
        Effect::WaitForOrder {
            token,
            order_id,
            wait_secs,
            generation,
        } => Reply::OrderUpdate {
            generation,
            result: api.order(&token, order_id, wait_secs).await,
        },
        Effect::WatchOrder {
            token,
            order_id,
            wait_secs,
        } => Reply::OrderWatched {
            order_id,
            result: api.order(&token, order_id, wait_secs).await,
        },
        Effect::LoadOrder { token, order_id } => {
            Reply::OrderLoaded(api.order(&token, order_id, 0).await)
        }
        Effect::CancelOrder { token, order_id } => {
            Reply::OrderCancelled(api.cancel_order(&token, order_id).await)
        }
        Effect::LoadOrders { token } => Reply::OrdersLoaded(api.orders(&token).await),
        Effect::LoadTickets { token } => Reply::TicketsLoaded(api.tickets(&token).await),
        Effect::OpenBrowser { command, url } => {
            Reply::BrowserOpened(crate::browser::open(&command, &url).await)
        }
        Effect::LoadDoorList { token, event_id } => Reply::DoorListLoaded {
            event_id,
            result: api.event_checkins(&token, event_id).await,
        },
        Effect::CheckIn {
            token,
            event_id,
            code,
            scan,
            scanned_at,
        } => {
            let request = storefront_contract::CheckinRequest {
                code: code.clone(),
                event_id,
            };
            Reply::CheckedIn {
                scan,
                event_id,
                code,
                scanned_at,
                result: api.check_in(&token, &request).await,
            }
        }
        Effect::UploadScans { token, scans } => Reply::ScansUploaded(
            api.check_in_batch(&token, &storefront_contract::CheckinBatch { scans })
                .await,
        ),
        Effect::ClearCart {
            token,
            abandoned_order,
        } => {
            if let Some(order_id) = abandoned_order {
                match api.cancel_order(&token, order_id).await {
                    Ok(_) => {}
                    // Unreachable: tried again with the cart.
                    Err(err @ ApiError::Network { .. }) => {
                        return Some(Reply::CartCleared(Err(err)));
                    }
                    // Paid meanwhile, or already cancelled: nothing to undo.
                    Err(err) => tracing::info!(order_id, error = %err, "the abandoned order stays"),
                }
            }
            Reply::CartCleared(api.clear_cart(&token).await)
        }
        Effect::LoadSales {
            token,
            wait,
            generation,
        } => Reply::SalesLoaded {
            generation,
            result: api.box_office_events(&token, wait).await,
        },
        Effect::LoadEventSales { token, event_id } => {
            Reply::EventSalesLoaded(api.box_office_event(&token, event_id).await)
        }
        Effect::FindOrders {
            token,
            query,
            generation,
        } => Reply::OrdersFound {
            generation,
            result: api.find_orders(&token, &query).await,
        },
        Effect::LoadOrderDetail { token, order_id } => {
            Reply::OrderDetailLoaded(api.order_detail(&token, order_id).await)
        }
        Effect::Refund {
            token,
            order_id,
            request,
            key,
        } => Reply::Refunded(
            api.refund_tickets(&token, order_id, &request, &keys.key(key))
                .await,
        ),
        Effect::Comp {
            token,
            request,
            key,
        } => Reply::Comped(api.comp(&token, &request, &keys.key(key)).await),
        Effect::Export {
            token,
            event_id,
            path,
        } => {
            let result = export(api, &token, event_id, &path).await;
            Reply::Exported { path, result }
        }
        Effect::Bell => {
            ring_bell();
            return None;
        }
        Effect::Copy(text) => {
            copy_to_clipboard(&text);
            return None;
        }
        Effect::Later { after, effect } => {
            tokio::time::sleep(after).await;
            return Box::pin(perform(outside, *effect)).await;
        }
    })
}

/// Fetches the CSV and writes it to `path`, a new file (an existing one is never
/// overwritten); the number of tickets it holds.
async fn export(
    api: &ApiClient,
    token: &str,
    event_id: Option<i64>,
    path: &std::path::Path,
) -> Result<usize, String> {
    use tokio::io::AsyncWriteExt;
    let csv = api
        .export_csv(token, event_id)
        .await
        .map_err(|err| err.to_string())?;
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::AlreadyExists => format!(
                "{} already exists; give another name (nothing was overwritten).",
                path.display()
            ),
            _ => format!("Cannot write {}: {err}.", path.display()),
        })?;
    file.write_all(csv.as_bytes())
        .await
        .and(file.flush().await)
        .map_err(|err| format!("Cannot write {}: {err}.", path.display()))?;
    Ok(csv
        .split("\r\n")
        .filter(|line| !line.is_empty())
        .count()
        .saturating_sub(1))
}

/// Asks the terminal to put `text` on the clipboard (OSC 52); terminals that do not allow it
/// ignore the request.
fn copy_to_clipboard(text: &str) {
    use base64::Engine;
    use std::io::{IsTerminal, Write};
    let mut out = std::io::stdout();
    if out.is_terminal() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        // Nothing to do about a terminal that cannot be written to; the address stays on screen.
        let _ = write!(out, "\x1b]52;c;{encoded}\x07").and_then(|()| out.flush());
    }
}

/// Rings the terminal's bell, when there is a terminal to ring.
fn ring_bell() {
    use std::io::{IsTerminal, Write};
    let mut out = std::io::stdout();
    if out.is_terminal() {
        // A bell that cannot be rung is no reason to stop the door.
        let _ = out.write_all(b"\x07").and_then(|()| out.flush());
    }
}

async fn change_cart(
    api: &ApiClient,
    keys: &KeyMaker,
    token: &str,
    change: CartChange,
) -> ApiResult<()> {
    match change {
        CartChange::SetQuantity { line, quantity } => api
            .set_line_quantity(token, line, quantity)
            .await
            .map(|_| ()),
        CartChange::RemoveLine { line } => api.remove_line(token, line).await,
        CartChange::RemoveBooking { id } => api.remove_booking(token, id).await,
        CartChange::RemoveTickets { ids } => {
            for id in ids {
                match api.remove_ticket(token, id).await {
                    // Already gone (another window, say): the goal is reached.
                    Err(err) if err.code() == Some(ErrorCode::NotFound) => {}
                    other => other?,
                }
            }
            Ok(())
        }
        CartChange::AddTickets {
            event_id,
            request,
            key,
        } => api
            .buy_tickets(token, event_id, &request, &keys.key(key))
            .await
            .map(|_| ()),
        CartChange::AddProduct {
            product_id,
            quantity,
        } => api
            .add_product(token, product_id, quantity)
            .await
            .map(|_| ()),
    }
}
