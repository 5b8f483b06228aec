//! The SIP edge. For now: SDP offer/answer for G.711 audio with RFC 4733 telephone-events.
//! The rsipstack endpoint (registration, trunk, dialogs) builds on this.
#![deny(missing_docs)]

pub mod sdp;
