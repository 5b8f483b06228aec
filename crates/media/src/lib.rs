//! Media for the gateway: RTP packets, G.711 (PCMU/PCMA), RFC 4733 events, the rewriting that
//! makes each leg see one continuous stream, and the relay that moves packets between the legs
//! of a call ([`relay`], the only part with sockets), and call recording ([`recording`]).
#![deny(missing_docs)]

pub mod dtmf;
pub mod g711;
pub mod inband;
pub mod prompt;
pub mod recording;
pub mod relay;
pub mod rewrite;
pub mod rtp;
pub mod silence;
pub mod tone;
