//! The HTTP edge: one file per resource, each handler extracting the request, calling the
//! store or a domain module, and answering in the contract's shapes. No rule lives here.

pub mod admin;
pub mod auth;
pub mod box_office;
pub mod cart;
pub mod checkin;
pub mod checkout;
pub mod events;
pub mod extract;
pub mod idempotency;
pub mod orders;
pub mod readers;
pub mod ticket_page;
pub mod webhooks;
