//! One agent's state machine: offline, available, ringing, on call, wrap-up, paused.
//!
//! `transition` is the whole table: every (state, event) pair is either a new state or an
//! [`IllegalTransition`]. Times come in as arguments; nothing here reads a clock.

use serde::{Deserialize, Serialize};

use crate::EpochMs;
use crate::id::CallId;

/// Where an agent is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AgentState {
    /// Not logged in to the queues.
    Offline,
    /// Waiting for a call since `since` (longest-idle routing picks the oldest `since`).
    Available {
        /// When the agent became free.
        since: EpochMs,
    },
    /// Being offered a call.
    Ringing {
        /// The call.
        call_id: CallId,
        /// When the offer started.
        since: EpochMs,
    },
    /// Talking.
    OnCall {
        /// The call.
        call_id: CallId,
        /// When the call was answered.
        since: EpochMs,
    },
    /// After-call work until `until` (or until the agent says they are done).
    WrapUp {
        /// The call just ended.
        call_id: CallId,
        /// When wrap-up started.
        since: EpochMs,
        /// When it ends by itself.
        until: EpochMs,
    },
    /// Logged in but taking no calls.
    Paused {
        /// Why (lunch, training, ...).
        reason: String,
        /// Since when.
        since: EpochMs,
    },
}

/// What can happen to an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentEvent {
    /// Logged in and ready.
    Login,
    /// Logged out.
    Logout,
    /// Stops taking calls.
    Pause {
        /// Why.
        reason: String,
    },
    /// Takes calls again.
    Unpause,
    /// A call is being offered.
    Offer {
        /// The call.
        call_id: CallId,
    },
    /// The offered call was answered.
    Answer,
    /// The offer ended without an answer (timeout, rejected, caller gone, taken by another).
    OfferEnded,
    /// The call ended; wrap-up lasts `wrap_up_ms`.
    CallEnded {
        /// Wrap-up length.
        wrap_up_ms: i64,
    },
    /// Wrap-up finished (its time passed, or the agent is done early).
    WrapUpDone,
    /// The agent places a call (click-to-call); they are on it from now.
    Dial {
        /// The call.
        call_id: CallId,
    },
}

/// A move the table does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event} is not possible while {state}")]
pub struct IllegalTransition {
    /// The state's name.
    pub state: &'static str,
    /// The event's name.
    pub event: &'static str,
}

impl AgentState {
    /// The state's name.
    pub fn name(&self) -> &'static str {
        match self {
            AgentState::Offline => "offline",
            AgentState::Available { .. } => "available",
            AgentState::Ringing { .. } => "ringing",
            AgentState::OnCall { .. } => "on_call",
            AgentState::WrapUp { .. } => "wrap_up",
            AgentState::Paused { .. } => "paused",
        }
    }

    /// Whether a call may be offered now.
    pub fn is_available(&self) -> bool {
        matches!(self, AgentState::Available { .. })
    }

    /// The next state after `event` at `now`.
    pub fn transition(
        &self,
        event: &AgentEvent,
        now: EpochMs,
    ) -> Result<AgentState, IllegalTransition> {
        use AgentEvent as E;
        use AgentState as S;
        let next = match (self, event) {
            (S::Offline, E::Login) => S::Available { since: now },
            (S::Offline, E::Pause { reason }) => S::Paused { reason: reason.clone(), since: now },
            (S::Available { .. } | S::Paused { .. } | S::WrapUp { .. }, E::Logout) => S::Offline,
            (S::Available { .. } | S::WrapUp { .. }, E::Pause { reason }) => {
                S::Paused { reason: reason.clone(), since: now }
            }
            (S::Paused { .. }, E::Pause { reason }) => {
                S::Paused { reason: reason.clone(), since: now }
            }
            (S::Paused { .. }, E::Unpause) => S::Available { since: now },
            (S::Available { .. }, E::Offer { call_id }) => {
                S::Ringing { call_id: call_id.clone(), since: now }
            }
            (S::Ringing { call_id, .. }, E::Answer) => {
                S::OnCall { call_id: call_id.clone(), since: now }
            }
            // An unanswered offer puts the agent back in line, keeping their turn fair: they
            // count as idle from now, not from before the offer.
            (S::Ringing { .. }, E::OfferEnded) => S::Available { since: now },
            (S::OnCall { call_id, .. }, E::CallEnded { wrap_up_ms }) if *wrap_up_ms > 0 => {
                S::WrapUp { call_id: call_id.clone(), since: now, until: now + wrap_up_ms }
            }
            (S::OnCall { .. }, E::CallEnded { .. }) => S::Available { since: now },
            (S::WrapUp { .. }, E::WrapUpDone) => S::Available { since: now },
            (S::Available { .. } | S::Paused { .. } | S::WrapUp { .. }, E::Dial { call_id }) => {
                S::OnCall { call_id: call_id.clone(), since: now }
            }
            (state, event) => {
                return Err(IllegalTransition { state: state.name(), event: event_name(event) });
            }
        };
        Ok(next)
    }
}

fn event_name(event: &AgentEvent) -> &'static str {
    match event {
        AgentEvent::Login => "login",
        AgentEvent::Logout => "logout",
        AgentEvent::Pause { .. } => "pause",
        AgentEvent::Unpause => "unpause",
        AgentEvent::Offer { .. } => "offer",
        AgentEvent::Answer => "answer",
        AgentEvent::OfferEnded => "offer_ended",
        AgentEvent::CallEnded { .. } => "call_ended",
        AgentEvent::WrapUpDone => "wrap_up_done",
        AgentEvent::Dial { .. } => "dial",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_of_an_agent() {
        let s = AgentState::Offline.transition(&AgentEvent::Login, 0).unwrap();
        assert_eq!(s, AgentState::Available { since: 0 });
        let s = s.transition(&AgentEvent::Offer { call_id: "c1".into() }, 10).unwrap();
        let s = s.transition(&AgentEvent::Answer, 15).unwrap();
        assert_eq!(s, AgentState::OnCall { call_id: "c1".into(), since: 15 });
        let s = s.transition(&AgentEvent::CallEnded { wrap_up_ms: 30_000 }, 100).unwrap();
        assert_eq!(s, AgentState::WrapUp { call_id: "c1".into(), since: 100, until: 30_100 });
        let s = s.transition(&AgentEvent::WrapUpDone, 30_100).unwrap();
        let s = s.transition(&AgentEvent::Pause { reason: "обед".into() }, 40_000).unwrap();
        assert!(!s.is_available());
        let s = s.transition(&AgentEvent::Unpause, 50_000).unwrap();
        assert_eq!(s, AgentState::Available { since: 50_000 });
        assert_eq!(s.transition(&AgentEvent::Logout, 60_000).unwrap(), AgentState::Offline);
    }

    #[test]
    fn illegal_moves_are_errors() {
        let on_call = AgentState::OnCall { call_id: "c".into(), since: 0 };
        assert_eq!(
            on_call.transition(&AgentEvent::Logout, 1),
            Err(IllegalTransition { state: "on_call", event: "logout" })
        );
        assert!(on_call.transition(&AgentEvent::Offer { call_id: "d".into() }, 1).is_err());
        assert!(AgentState::Offline.transition(&AgentEvent::Answer, 1).is_err());
        assert!(AgentState::Available { since: 0 }.transition(&AgentEvent::WrapUpDone, 1).is_err());
        let paused = AgentState::Paused { reason: "x".into(), since: 0 };
        assert!(paused.transition(&AgentEvent::Offer { call_id: "c".into() }, 1).is_err());
    }

    #[test]
    fn dialing_out_puts_the_agent_on_the_call() {
        let s = AgentState::Paused { reason: "callbacks".into(), since: 0 }
            .transition(&AgentEvent::Dial { call_id: "o1".into() }, 5)
            .unwrap();
        assert_eq!(s, AgentState::OnCall { call_id: "o1".into(), since: 5 });
        assert!(
            s.transition(&AgentEvent::Dial { call_id: "o2".into() }, 6).is_err(),
            "one call at a time"
        );
        assert!(
            AgentState::Ringing { call_id: "c".into(), since: 0 }
                .transition(&AgentEvent::Dial { call_id: "o".into() }, 1)
                .is_err()
        );
    }

    #[test]
    fn missed_offer_requeues_from_now_and_zero_wrap_up_skips_it() {
        let ringing = AgentState::Ringing { call_id: "c".into(), since: 5 };
        assert_eq!(
            ringing.transition(&AgentEvent::OfferEnded, 25).unwrap(),
            AgentState::Available { since: 25 }
        );
        let on_call = AgentState::OnCall { call_id: "c".into(), since: 0 };
        assert_eq!(
            on_call.transition(&AgentEvent::CallEnded { wrap_up_ms: 0 }, 9).unwrap(),
            AgentState::Available { since: 9 }
        );
    }
}
