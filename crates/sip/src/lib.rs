//! The SIP edge: the rsipstack endpoint ([`edge`]) that takes calls from trunks and registered
//! accounts, rings agents' SIP phones and bridges their media; SDP offer/answer for G.711 audio
//! with RFC 4733 telephone-events ([`sdp`]); the checks a request must pass before the stack
//! sees it, with the RFC 3261 answer when it does not ([`precheck`]); IP allow-lists ([`net`]); a built-in test
//! caller and desk phone ([`simulate`]).
#![deny(missing_docs)]

pub mod edge;
pub mod precheck;
pub use switchboard_core::net;
pub mod sdp;
pub mod simulate;

pub use edge::{
    Account, EdgeConfig, EdgeError, EdgeEvent, EndedBy, Origin, Party, RegistrationStatus, SipEdge,
    Trunk,
};
