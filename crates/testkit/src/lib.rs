//! What Switchboard's tests and benchmarks share (a dev-dependency, never shipped): a test
//! database per test on either backend, the gateway in-process or as a child process, SIPp
//! runs, a PostgreSQL server of a test's own, packet captures checked by tone, browser agents, this process's CPU and memory, and
//! [`eventually`] for waiting on a state instead of sleeping.
//!
//! Every item is also re-exported at the root, so a suite can `use switchboard_testkit as
//! harness` and name `harness::Gateway`.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod app;
pub mod audio;
pub mod bench;
pub mod browser;
pub mod db;
pub mod peers;
pub mod postgres;
pub mod process;
pub mod sipp;
pub mod wait;

pub use app::*;
pub use audio::*;
pub use browser::*;
pub use db::*;
pub use peers::*;
pub use postgres::*;
pub use process::*;
pub use sipp::*;
pub use wait::*;
