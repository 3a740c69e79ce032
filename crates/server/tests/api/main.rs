//! The reference backend over real HTTP: every endpoint's answers, as a client meets them.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod box_office;
mod cart;
mod catalog;
mod catalog_live;
mod common;
mod door;
mod events;
mod idempotency;
mod kiosk;
mod mail;
mod openapi;
mod payments;
mod postgres;
mod readers;
mod scale_out;
mod smtp;
mod sumup_client;
mod sumup_sdk;
mod tickets;
