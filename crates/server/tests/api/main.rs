#![allow(clippy::unwrap_used)]
//! The API suite: the real application on port 0, over SQLite and over PostgreSQL.

#[path = "../../../store/tests/common/mod.rs"]
mod common;
mod helpers;

mod auth;
mod contacts;
mod crm;
mod demo;
mod errors;
mod import;
mod metrics;
mod permissions;
mod recordings;
mod stats;
mod transfer;
