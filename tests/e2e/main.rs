#![allow(clippy::unwrap_used)]
//! End-to-end tests with real peers: the gateway in-process, SIPp as the PBX, the callers and
//! the agents' desk phones, and a packet capture to check the audio by frequency.
//!
//! Needs `sipp` (Debian `sip-tester`) and `dumpcap` (Debian `tshark`, run as root to capture
//! on `lo`); `.ci/run` installs both. Tests run one at a time.

mod callback;
mod click_to_call;
mod crash;
mod crm_routing;
mod db_restart;
mod disk_full;
mod extensions;
mod forward;
mod interop;
use switchboard_testkit as harness;
mod logins;
mod menus;
mod monitor;
mod recordings;
mod restore;
mod robustness;
mod sip_calls;
mod slow_store;
mod torture;
mod voicemail;
mod waiting;

/// The binary under test, for the suites that run it as a child process.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
