#![allow(clippy::unwrap_used)]
//! The API suite: the real application on port 0, over SQLite and over PostgreSQL.

use switchboard_testkit::db as common;
mod helpers;

mod auth;
mod callbacks;
mod contacts;
mod crm;
mod demo;
mod documents;
mod entry_points;
mod errors;
mod import;
mod leads;
mod metrics;
mod permissions;
mod prompts;
mod recordings;
mod reports;
mod sales;
mod schedules;
mod stats;
mod transfer;
mod webhooks;
