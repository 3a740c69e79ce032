//! The reference backend over real HTTP: every endpoint's answers, as a client meets them.

mod auth;
mod cart;
mod catalog;
mod common;
mod events;
mod idempotency;
mod openapi;
mod payments;
mod sumup_client;
mod tickets;
