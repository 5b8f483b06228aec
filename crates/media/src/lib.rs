//! Media for the gateway: RTP packets, G.711 (PCMU/PCMA) and the rewriting that makes each leg
//! see one continuous stream. This part has no sockets; the relay that moves packets between
//! legs builds on it.
#![deny(missing_docs)]

pub mod dtmf;
pub mod g711;
pub mod rtp;
pub mod rewrite;
pub mod tone;
