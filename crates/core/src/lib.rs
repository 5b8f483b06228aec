//! Switchboard's domain: the types every other crate speaks in, and the rules that need no I/O.
//!
//! Nothing here touches the network, the database or the clock: callers pass the current time
//! in (as epoch milliseconds) and get decisions back. That keeps every rule a fast unit test.
#![deny(missing_docs)]

pub mod acd;
pub mod call;
pub mod callback;
pub mod custom_field;
pub mod entity;
pub mod flow;
pub mod hours;
pub mod id;
pub mod net;
pub mod phone;
pub mod recording;
pub mod recovery;
pub mod role;
pub mod sales;
pub mod sip_digest;
pub mod stats;
pub mod text;

pub use custom_field::{CustomFieldDef, EntityKind, FieldType, FieldValueError, StoredFieldValue};
pub use id::{AgentId, CallId, QueueId, new_id};
pub use phone::{PhoneError, PhoneNumber, Region};
pub use role::{Action, RecordingScope, Role};

/// Milliseconds since the Unix epoch, UTC. Every stored time is one of these.
pub type EpochMs = i64;
