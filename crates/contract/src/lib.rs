//! The JSON types of the storefront HTTP contract (`/api/v1`), shared by client and server.
//!
//! Every response type ignores unknown fields when decoded, as the contract asks of clients.

mod backoff;
mod box_office;
mod checkin;
mod money;
#[macro_use]
mod names;

pub use backoff::Backoff;
pub use box_office::{
    AuditLine, AuditLog, BoxOfficeEvents, Buyer, CompRequest, DaySales, EventSales,
    EventSalesDetail, FoundOrder, FoundOrders, HistoryEntry, OrderDetail, RefundRequest,
    SalesTotals, TypeSales,
};
pub use checkin::{
    CheckedTicket, CheckinBatch, CheckinBatchResult, CheckinOutcome, CheckinRequest, CheckinResult,
    CodeState, EventCheckins, OfflineScan, normalize_ticket_code,
};
pub use money::{Money, MoneyError};
pub use names::UnknownName;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The sentence shown wherever tickets are bought or waiting in a cart.
pub const SOLD_OUT_NOTICE: &str = "If the event sells out before payment, you will be refunded.";

/// The base path of every endpoint.
pub const API_BASE: &str = "/api/v1";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub role: Role,
}

named_enum! {
    /// What a user is to the venue: a buyer, a box-office terminal, door staff, or a
    /// manager (everything staff may do, and the venue's administration).
    #[derive(Default)]
    pub enum Role {
        #[default]
        Customer = "customer",
        Kiosk = "kiosk",
        Staff = "staff",
        Manager = "manager",
    }
}

impl Role {
    /// Everyone but buyers works for the venue: its terminals, door staff and managers.
    pub fn is_venue(self) -> bool {
        !matches!(self, Role::Customer)
    }

    /// Door staff and managers check tickets in.
    pub fn checks_in(self) -> bool {
        matches!(self, Role::Staff | Role::Manager)
    }
}

/// A card reader as the catalog names it, for the venue's terminals (`GET /readers/{name}`):
/// a kiosk taking cards on it sells for its venue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reader {
    pub name: String,
    /// The venue (page) it takes payments for; `null` for any.
    pub page: Option<Page>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub id: i64,
    pub slug: String,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /auth/signup`: a buyer's own account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupRequest {
    pub email: String,
    pub password: String,
    pub name: String,
}

/// `POST /auth/reset`: a code by e-mail to choose a new password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRequest {
    pub email: String,
}

/// `POST /auth/reset/confirm`: the code from the e-mail, and the new password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetConfirm {
    pub email: String,
    pub code: String,
    pub password: String,
}

/// `POST /orders/{id}/email`: where the order's tickets are e-mailed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEmailRequest {
    pub email: String,
}

/// The rules a password of a buyer's own must meet, said before it is typed.
pub const PASSWORD_RULES: &str =
    "At least 10 characters; not a common password, and not your e-mail address.";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub user: User,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub calendar: CalendarRef,
    pub page: Option<Page>,
    pub price_from: Money,
    pub currency: String,
    /// `None` means unlimited.
    pub capacity: Option<u32>,
    pub sold: u32,
    /// `None` when the capacity is unlimited.
    pub available: Option<u32>,
    pub sold_out: bool,
    /// The venue's IANA time zone (`Europe/London`): times are shown in it.
    #[serde(default = "utc_zone")]
    pub timezone: String,
}

fn utc_zone() -> String {
    "UTC".to_owned()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketType {
    pub id: i64,
    pub name: String,
    pub cost: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetail {
    #[serde(flatten)]
    pub summary: EventSummary,
    pub description: Option<String>,
    pub location: Option<String>,
    pub ticket_price: Option<Money>,
    pub ticket_types: Vec<TicketType>,
    pub max_per_order: u32,
    /// The caller's pending tickets for this event; 0 when anonymous.
    pub in_my_cart: u32,
}

impl EventDetail {
    /// How many more the caller may add: the per-order limit counts what their cart holds.
    pub fn still_allowed(&self) -> u32 {
        self.max_per_order.saturating_sub(self.in_my_cart)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventList {
    pub events: Vec<EventSummary>,
    pub next_cursor: Option<String>,
}

named_enum! {
    /// Where a ticket is in its life: `pending` (in a cart) → `reserved` (claimed by an order)
    /// → `confirmed` (paid) → `checked_in`; any of them may become `cancelled`, and a paid
    /// one `refunded` by the box office.
    pub enum TicketState {
        Pending = "pending",
        Reserved = "reserved",
        Confirmed = "confirmed",
        CheckedIn = "checked_in",
        Cancelled = "cancelled",
        /// Refunded by the box office: not valid at the door, its place on sale again.
        Refunded = "refunded",
    }
}

impl TicketState {
    /// Paid for and standing (confirmed, or already checked in): a ticket the buyer holds,
    /// one the box office can refund.
    pub fn is_held(self) -> bool {
        matches!(self, TicketState::Confirmed | TicketState::CheckedIn)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: i64,
    pub code: String,
    pub state: TicketState,
    pub entry_id: i64,
    pub entry_name: String,
    pub entry_starts_at: DateTime<Utc>,
    pub ticket_type_id: Option<i64>,
    pub ticket_type_name: Option<String>,
    pub cost: Money,
    pub calendar_container_id: Option<i64>,
    /// `"page"` when the event's calendar belongs to a page.
    pub calendar_container_type: Option<String>,
    pub order_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// A pending ticket's price when it was put in the cart, when the venue has changed it
    /// since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_cost: Option<Money>,
    /// A pending ticket of an event whose paid tickets already fill it: it cannot be bought
    /// (checkout refuses it), only removed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sold_out: bool,
    /// When it was let in at the door.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_in_at: Option<DateTime<Utc>>,
}

named_enum! {
    /// What a catalog change is about.
    pub enum CatalogEntity {
        Currency = "currency",
        Page = "page",
        Calendar = "calendar",
        Event = "event",
        TicketType = "ticket_type",
        Product = "product",
        User = "user",
        Reader = "reader",
        /// A guest-list order made by the box office: nothing to pay.
        Comp = "comp",
    }
}

named_enum! {
    /// How a catalog entry changes: new, different, or gone from the file (retired, never
    /// deleted).
    pub enum CatalogChangeKind {
        Added = "added",
        Changed = "changed",
        Retired = "retired",
    }
}

/// One change a catalog makes (`POST /admin/catalog`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogChange {
    pub kind: CatalogEntity,
    pub key: String,
    pub change: CatalogChangeKind,
    pub detail: String,
}

/// `POST /admin/catalog`: what the catalog changes, and whether it was applied (`false` for a
/// dry run, or when nothing was to change).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogApplied {
    pub applied: bool,
    pub changes: Vec<CatalogChange>,
    /// What is allowed but probably not meant, each naming its entry.
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyTicketsRequest {
    /// Signed so that a negative number is a range error (422), not a type error (400).
    pub quantity: i64,
    #[serde(default)]
    pub ticket_type_id: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyTicketsResponse {
    pub tickets: Vec<Ticket>,
    pub cart: CartSummary,
    pub notice: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartSummary {
    /// Product quantity.
    pub count: u32,
    /// Products' total.
    pub total: Money,
    pub calendar_count: u32,
    pub calendar_total: Money,
    pub ticket_count: u32,
    pub ticket_total: Money,
    /// `count + calendar_count + ticket_count`: the badge.
    pub items: u32,
    pub grand_total: Money,
    pub currency: String,
}

impl CartSummary {
    /// An empty cart's summary (its currency left empty for the caller to set).
    pub fn empty() -> CartSummary {
        CartSummary {
            count: 0,
            total: Money::from_minor(0),
            calendar_count: 0,
            calendar_total: Money::from_minor(0),
            ticket_count: 0,
            ticket_total: Money::from_minor(0),
            items: 0,
            grand_total: Money::from_minor(0),
            currency: String::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartProduct {
    /// The cart line's id.
    pub id: i64,
    pub product_id: i64,
    pub title: String,
    pub unit_price: Money,
    pub quantity: u32,
    pub line_total: Money,
    /// The price when the line was put in the cart, when the venue has changed it since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_unit_price: Option<Money>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartBooking {
    pub id: i64,
    pub name: String,
    pub calendar_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub cost: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartGroup {
    pub page: Option<Page>,
    pub products: Vec<CartProduct>,
    pub calendar_entries: Vec<CartBooking>,
    pub tickets: Vec<Ticket>,
    pub product_count: u32,
    pub product_total: Money,
    pub calendar_count: u32,
    pub calendar_total: Money,
    pub ticket_count: u32,
    pub ticket_total: Money,
    pub total: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub groups: Vec<CartGroup>,
    pub summary: CartSummary,
    /// Present exactly when the cart holds tickets.
    pub notice: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub price: Money,
    pub page: Option<Page>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductList {
    pub products: Vec<Product>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddProductRequest {
    pub product_id: i64,
    pub quantity: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateProductRequest {
    pub quantity: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutRequest {
    /// `None` checks out the whole cart; a page's slug checks out that page's group only.
    #[serde(default)]
    pub page: Option<String>,
}

named_enum! {
    pub enum OrderStatus {
        Pending = "pending",
        Paid = "paid",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

impl OrderStatus {
    /// Whether `POST /orders/{id}/pay` and `/cancel` accept the order.
    pub fn is_payable(self) -> bool {
        matches!(self, OrderStatus::Pending | OrderStatus::Failed)
    }
}

named_enum! {
    /// Where the money an order oversold stands: due (being sent), refunded, or failed
    /// (SumUp refused it for good; the venue refunds by hand).
    pub enum RefundStatus {
        Due = "due",
        Refunded = "refunded",
        Failed = "failed",
    }
}

named_enum! {
    /// A SumUp checkout's status, as SumUp names it.
    pub enum CheckoutStatus {
        Pending = "PENDING",
        Paid = "PAID",
        Failed = "FAILED",
        Expired = "EXPIRED",
    }
}

named_enum! {
    /// Why money goes back: the event sold out before the payment completed, or the box
    /// office refunded chosen tickets.
    pub enum RefundReason {
        SoldOut = "sold_out",
        BoxOffice = "box_office",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub amount: Money,
    pub status: RefundStatus,
    pub reason: RefundReason,
    /// For a failed refund: that the venue refunds the buyer by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: i64,
    pub status: OrderStatus,
    pub total: Money,
    pub currency: String,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub page: Option<Page>,
    pub checkout_url: Option<String>,
    pub sumup_checkout_id: Option<String>,
    pub sumup_status: Option<CheckoutStatus>,
    pub products: Vec<CartProduct>,
    pub calendar_entries: Vec<CartBooking>,
    pub tickets: Vec<Ticket>,
    /// The refund of what the order oversold, when its event sold out before the payment.
    pub refund: Option<Refund>,
    /// Every refund of the order, the sold-out one and the box office's, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund>,
    /// The notice while the order holds tickets and is unpaid; the refund sentence once one is due.
    pub notice: Option<String>,
    /// A paid order's ticket page (`<public url>/t/<secret>`), to keep on a phone.
    #[serde(default)]
    pub tickets_url: Option<String>,
    /// The kiosk terminal it was sold at.
    #[serde(default)]
    pub terminal: Option<String>,
    /// How its newest payment attempt is paid: SumUp's hosted page, or a card reader.
    #[serde(default)]
    pub payment_method: PaymentMethod,
}

named_enum! {
    /// How an order is paid: on SumUp's hosted page (a link and a QR code), or by card on a
    /// SumUp Solo reader.
    #[derive(Default)]
    pub enum PaymentMethod {
        #[default]
        Hosted = "hosted",
        Reader = "reader",
        /// A guest-list order made by the box office: nothing to pay.
        Comp = "comp",
    }
}

/// The body of `POST /orders/{id}/pay`; an empty body pays on the hosted page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    #[serde(default)]
    pub method: PaymentMethod,
    /// The reader's name, for `method: "reader"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutResponse {
    pub order: Order,
    /// Where to pay; `null` when the payment waits on a card reader.
    pub checkout_url: Option<String>,
    /// The card reader the payment waits on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderList {
    pub orders: Vec<Order>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketList {
    pub tickets: Vec<Ticket>,
}

/// The callbacks SumUp posts to a payment's `return_url`; never trusted, only a hint of which
/// payment to read again from SumUp. (SumUp's event notifications, `{id, type, created_at,
/// object}`, are read with SumUp's own crate.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SumUpCallback {
    /// An online checkout changed: `{event_type: "CHECKOUT_STATUS_CHANGED", id}`.
    Checkout {
        event_type: CheckoutCallback,
        id: String,
    },
    /// A card reader payment ended: `{id, event_type: "solo.transaction.updated", payload:
    /// {client_transaction_id, merchant_code, status}, timestamp}`.
    Reader {
        event_type: ReaderCallback,
        payload: SoloTransaction,
    },
    /// A callback of another kind, `{event_type, id}`: taken, and nothing to do.
    Other { event_type: String, id: String },
}

/// The kind of a checkout's callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckoutCallback {
    #[serde(rename = "CHECKOUT_STATUS_CHANGED")]
    StatusChanged,
}

/// The kind of a reader payment's callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReaderCallback {
    #[serde(rename = "solo.transaction.updated")]
    TransactionUpdated,
}

/// What a reader payment's callback names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoloTransaction {
    /// The reader payment's id, as the shop made it.
    pub client_transaction_id: String,
}

impl SumUpCallback {
    /// What the callback is about; `None` for callbacks about anything else.
    pub fn subject(&self) -> Option<NoticeSubject<&str>> {
        match self {
            SumUpCallback::Checkout { id, .. } => Some(NoticeSubject::Checkout(id.as_str())),
            SumUpCallback::Reader { payload, .. } => Some(NoticeSubject::ReaderPayment(
                payload.client_transaction_id.as_str(),
            )),
            SumUpCallback::Other { .. } => None,
        }
    }
}

/// What a SumUp notification is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoticeSubject<Id> {
    /// A checkout, by its id.
    Checkout(Id),
    /// A card reader payment, by its `client_transaction_id`.
    ReaderPayment(Id),
}

/// How an amount is written for people: `£12.50`, `€1,424.00`, `12.50 CHF`.
pub fn format_amount(amount: Money, currency: &str) -> String {
    let amount = amount.grouped();
    match currency {
        "GBP" => format!("£{amount}"),
        "EUR" => format!("€{amount}"),
        "USD" => format!("${amount}"),
        other => format!("{amount} {other}"),
    }
}

/// The body of every error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

named_enum! {
    /// Every `error.code` the contract defines.
    pub enum ErrorCode {
        BadRequest = "bad_request",
        Unauthorized = "unauthorized",
        LoginRequired = "login_required",
        InvalidCredentials = "invalid_credentials",
        NotFound = "not_found",
        MethodNotAllowed = "method_not_allowed",
        EmptyCart = "empty_cart",
        OrderNotPayable = "order_not_payable",
        IdempotencyInProgress = "idempotency_in_progress",
        Validation = "validation",
        IdempotencyKeyReused = "idempotency_key_reused",
        RateLimited = "rate_limited",
        PaymentProviderError = "payment_provider_error",
        Forbidden = "forbidden",
        Conflict = "conflict",
        Internal = "internal",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sumups_callbacks_name_their_payment_and_nothing_else_is_one() {
        let read = |body: serde_json::Value| serde_json::from_value::<SumUpCallback>(body);
        let checkout =
            read(serde_json::json!({"event_type": "CHECKOUT_STATUS_CHANGED", "id": "c1"})).unwrap();
        assert_eq!(checkout.subject(), Some(NoticeSubject::Checkout("c1")));
        let reader = read(serde_json::json!({
            "id": "e1", "event_type": "solo.transaction.updated",
            "payload": {"client_transaction_id": "rdr-7", "merchant_code": "M", "status": "successful"},
            "timestamp": "2026-12-01T10:00:00Z"}))
        .unwrap();
        assert_eq!(
            reader.subject(),
            Some(NoticeSubject::ReaderPayment("rdr-7"))
        );
        // Another kind, or a reader's kind without its payload: taken, about nothing.
        for other in [
            serde_json::json!({"event_type": "SOMETHING_NEW", "id": "x"}),
            serde_json::json!({"event_type": "solo.transaction.updated", "id": "x"}),
        ] {
            assert_eq!(read(other).unwrap().subject(), None);
        }
        for junk in [
            serde_json::json!({"event_type": "CHECKOUT_STATUS_CHANGED"}),
            serde_json::json!({"hello": "world"}),
            serde_json::json!({"event_type": 5, "id": "x"}),
        ] {
            assert!(read(junk).is_err());
        }
    }

    #[test]
    fn event_detail_flattens_the_summary_and_ignores_unknown_fields() {
        let json = r#"{
            "id": 7, "slug": "wren-duo", "name": "Wren Duo",
            "starts_at": "2026-12-01T19:30:00Z", "ends_at": null,
            "calendar": {"id": 1, "slug": "barn", "name": "Barn"},
            "page": null, "price_from": "8.00", "currency": "GBP",
            "capacity": 40, "sold": 38, "available": 2, "sold_out": false,
            "description": null, "location": "The Barn", "ticket_price": null,
            "ticket_types": [{"id": 1, "name": "Standard", "cost": "12.00"}],
            "max_per_order": 10, "in_my_cart": 0, "something_new": [1, 2]
        }"#;
        let detail: EventDetail = serde_json::from_str(json).unwrap();
        assert_eq!(detail.summary.available, Some(2));
        assert_eq!(detail.ticket_types[0].cost, Money::from_minor(1200));
        let back = serde_json::to_value(&detail).unwrap();
        assert_eq!(back["price_from"], "8.00");
        assert_eq!(back["calendar"]["slug"], "barn");
        assert!(back.get("something_new").is_none());
    }

    #[test]
    fn ticket_states_round_trip() {
        for state in [
            TicketState::Pending,
            TicketState::Reserved,
            TicketState::Confirmed,
            TicketState::CheckedIn,
            TicketState::Cancelled,
        ] {
            assert_eq!(state.as_str().parse(), Ok(state));
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
    }

    #[test]
    fn names_that_do_not_parse_are_errors() {
        assert_eq!(
            "refunding".parse::<OrderStatus>(),
            Err(UnknownName {
                kind: "OrderStatus",
                name: "refunding".into()
            })
        );
        assert!(serde_json::from_str::<CheckoutStatus>("\"pending\"").is_err());
        assert_eq!(
            serde_json::from_str::<CheckoutStatus>("\"PAID\"").unwrap(),
            CheckoutStatus::Paid
        );
        let code: ErrorCode = serde_json::from_str("\"payment_provider_error\"").unwrap();
        assert_eq!(code, ErrorCode::PaymentProviderError);
        assert_eq!(code.to_string(), "payment_provider_error");
    }

    #[test]
    fn amounts_for_people() {
        assert_eq!(format_amount(Money::from_minor(1250), "GBP"), "£12.50");
        assert_eq!(format_amount(Money::from_minor(300), "EUR"), "€3.00");
        assert_eq!(format_amount(Money::from_minor(5), "CHF"), "0.05 CHF");
        assert_eq!(format_amount(Money::from_minor(99_999), "GBP"), "£999.99");
        assert_eq!(
            format_amount(Money::from_minor(142_450), "EUR"),
            "€1,424.50"
        );
        assert_eq!(
            format_amount(Money::from_minor(12_345_678), "USD"),
            "$123,456.78"
        );
        assert_eq!(
            format_amount(Money::from_minor(100_000_000_000), "GBP"),
            "£1,000,000,000.00"
        );
        assert_eq!(
            format_amount(Money::default() - Money::from_minor(142_450), "GBP"),
            "£-1,424.50"
        );
    }

    #[test]
    fn order_statuses_round_trip() {
        for status in [
            OrderStatus::Pending,
            OrderStatus::Paid,
            OrderStatus::Failed,
            OrderStatus::Cancelled,
        ] {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert!(OrderStatus::Failed.is_payable());
        assert!(!OrderStatus::Paid.is_payable());
    }

    #[test]
    fn error_body_leaves_out_absent_fields() {
        let body = ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::EmptyCart,
                message: "Your cart is empty.".into(),
                field: None,
                order_id: None,
            },
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"empty_cart","message":"Your cart is empty."}}"#
        );
    }
}
