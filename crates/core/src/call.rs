//! The words of the call log: why a call ended and what happened on it. Each is written by
//! the switch or the store and read by the statistics and the pages; as enums they are spelt
//! once, and the store keeps the same text it always did.

use serde::{Deserialize, Serialize};

use crate::entity::{UnknownValue, string_enum};

string_enum! {
    /// Why a call ended (`calls.end_reason`).
    EndReason {
        /// The caller hung up after an answer.
        CallerHangup => "caller_hangup",
        /// The agent hung up.
        AgentHangup => "agent_hangup",
        /// The number a call was transferred out to hung up.
        TransferTargetHangup => "transfer_target_hangup",
        /// No media arrived for the dead-peer time.
        MediaTimeout => "media_timeout",
        /// The caller hung up before an answer.
        Abandoned => "abandoned",
        /// Released after the queue's maximum wait.
        MaxWait => "max_wait",
        /// Refused for capacity before it was queued.
        Blocked => "blocked",
        /// The gateway could not carry it.
        Failed => "failed",
        /// A transfer out to a number failed and the call could not go back.
        TransferFailed => "transfer_failed",
        /// Still open when the gateway stopped (a crash or a restart).
        Interrupted => "interrupted",
        /// Click-to-call: the agent's own phone could not be reached.
        AgentUnreachable => "agent_unreachable",
        /// Click-to-call: the customer was busy.
        Busy => "busy",
        /// Click-to-call: nobody answered; inbound: no agent answered.
        NoAnswer => "no_answer",
        /// Click-to-call: the customer declined.
        Declined => "declined",
        /// Click-to-call: the agent gave up before the customer answered.
        AgentCancelled => "agent_cancelled",
        /// Ended in the call flow (menus, prompts) before it reached a queue: the caller hung
        /// up there, or the flow hung up. Not offered to any queue.
        InFlow => "in_flow",
        /// The caller left a message (voicemail) instead of waiting for an agent; the message
        /// is the call's recording and a callback task stands for it.
        Voicemail => "voicemail",
        /// The caller asked to be called back instead of waiting ("virtual hold"); their place
        /// in the queue is kept and a callback task stands for it.
        CallbackRequested => "callback_requested",
        /// The call flow connected the caller to a number outside the call center: no queue
        /// or agent had it.
        Forwarded => "forwarded",
    }
}

string_enum! {
    /// What happened on a call (`call_events.kind`).
    CallEventKind {
        /// It entered the call center (inbound) or was placed (outbound).
        Offered => "offered",
        /// An agent's phone is being rung.
        Offer => "offer",
        /// The agent's phone says it rings.
        Ringing => "ringing",
        /// The agent's phone refused or could not be rung.
        Rejected => "rejected",
        /// The agent let it ring out.
        NoAnswer => "no_answer",
        /// Another agent answered first (ring-all).
        TakenByOther => "taken_by_other",
        /// The offer ended because the caller left.
        OfferWithdrawn => "offer_withdrawn",
        /// An agent answered.
        Answered => "answered",
        /// Put on hold.
        Hold => "hold",
        /// Taken off hold.
        Resume => "resume",
        /// A key pressed.
        Dtmf => "dtmf",
        /// Handed on by an agent.
        Transferred => "transferred",
        /// The number it was transferred out to answered.
        TransferAnswered => "transfer_answered",
        /// The transfer out failed.
        TransferFailed => "transfer_failed",
        /// Click-to-call: the agent's phone is rung first.
        DialingAgent => "dialing_agent",
        /// Click-to-call: the customer is dialled.
        DialingCustomer => "dialing_customer",
        /// The recording began.
        RecordingStarted => "recording_started",
        /// The recording could not be written.
        RecordingFailed => "recording_failed",
        /// The agent paused the recording.
        RecordingPaused => "recording_paused",
        /// The agent resumed the recording.
        RecordingResumed => "recording_resumed",
        /// The after-call form was saved.
        FormSaved => "form_saved",
        /// It came in at an entry point and its call flow began.
        Flow => "flow",
        /// A key pressed at a menu of the call flow (valid or not).
        MenuChoice => "menu_choice",
        /// A menu waited for a key in vain.
        MenuTimeout => "menu_timeout",
        /// The call flow sent it to a queue.
        Queued => "queued",
        /// The call flow asked a schedule whether the call center is open.
        Hours => "hours",
        /// The caller began to leave a message.
        Message => "message",
        /// The caller was offered a callback instead of waiting.
        CallbackOffered => "callback_offered",
        /// The caller asked for a callback (to the number in the detail).
        CallbackRequested => "callback_requested",
        /// The callback's turn came: an agent and then the customer are called.
        CallbackAttempt => "callback_attempt",
        /// The call flow rings a number outside the call center for it (the number in the
        /// detail).
        Forwarding => "forwarding",
        /// The queue routed it by what the CRM knows (a VIP's priority, the owner first).
        Routed => "routed",
        /// It ended.
        Ended => "ended",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_matches_serde() {
        for r in EndReason::ALL {
            assert_eq!(r.as_str().parse::<EndReason>(), Ok(*r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for k in CallEventKind::ALL {
            assert_eq!(k.as_str().parse::<CallEventKind>(), Ok(*k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert!("hung_up".parse::<EndReason>().is_err());
    }
}
