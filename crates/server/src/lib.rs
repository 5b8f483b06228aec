//! The `switchboard` binary's library half: settings, start-up and the CLI commands, kept
//! here so integration tests and benchmarks build the same application the binary runs.

pub mod callbacks;
pub mod demo;
pub mod import;
pub mod recordings;
pub mod settings;
pub mod startup;
pub mod webhooks;
pub mod wiring;
