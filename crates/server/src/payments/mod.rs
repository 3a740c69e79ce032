//! Paying for orders through SumUp, apart from the web server: what payments need
//! ([`context`]), what they ask SumUp ([`remote`]), the settle rule ([`decide`], pure) and the
//! I/O around it ([`settle`]), an order's payment attempts ([`attempts`]), refunding what an
//! order oversold and the worker that sends refunds ([`refund`]), and the order as the API
//! shows it ([`view`]). Failures are [`PaymentError`]s; the API's answer is made at the edge.

pub mod attempts;
pub mod context;
pub mod decide;
pub mod error;
#[cfg(test)]
mod properties;
pub mod refund;
pub mod remote;
pub mod settle;
pub mod view;

pub use context::{OwnedCheckoutKey, Payments, Timing, webhook_url};
pub use error::PaymentError;
