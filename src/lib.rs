//! storefront: a keyboard-driven terminal storefront for event tickets.
//!
//! The client follows The Elm Architecture: [`app`] holds the model and its `update`,
//! [`ui`] draws it, [`app::effect`] runs what `update` asks for, and [`terminal`] wires the
//! three to a real terminal.

pub mod api;
pub mod app;
pub mod browser;
pub mod config;
pub mod demo;
pub mod session;
pub mod terminal;
pub mod text;
pub mod ui;
