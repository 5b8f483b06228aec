//! The call machine: what every call is, and what to do next, with no I/O.
//!
//! It has the shape of the ACD it wraps: [`CallMachine::handle`] takes one [`CallInput`] with
//! the time and returns the [`Effect`]s to carry out; [`CallMachine::next_deadline`] and
//! [`CallMachine::tick`] replay timeouts without a clock. It owns the [`Dispatcher`] (agent
//! state and routing decisions) and, beside it, everything a call is beyond its place in a
//! queue: its caller, its card, the agents ringing for it and the one talking, hold time,
//! a blind transfer and the number leg it went out on, click-to-call, recording state, and
//! agents' wrap-ups.
//!
//! The switch is its executor: it turns the SIP edge's events, the consoles' commands and the
//! results of background work (a card, a recording opened) into inputs, and effects into
//! commands to the edge, the softphones, the recorder, the call log and the consoles. A
//! command that can fail at once (ringing a phone, bridging) comes back as an input with its
//! result, handled before anything else, so the machine decides what a failure means.
//!
//! `call` holds what happens to a call beyond the ACD (arrival, end, transfers, hold, the
//! card); `acd` translates the ACD's actions and holds agents' state changes and
//! click-to-call; `tests` replays whole calls (ring timeout, answer, hold, transfers, hang-ups
//! in every state, a restart) at memory speed through the harness in `replay`.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};
use switchboard_core::acd::{AgentState, Input, QueueConfig};
use switchboard_core::call::{CallEventKind as Kind, EndReason};
use switchboard_core::{AgentId, CallId, EpochMs, QueueId};
use switchboard_sip::edge::{EndedBy, OutboundOutcome, Party};

use crate::calllog::Write;
use crate::card::ClientCard;
use crate::dispatch::Dispatcher;
use crate::protocol::{AgentMessage, AgentTarget, SwitchError};

mod acd;
mod call;
mod callback;
#[cfg(test)]
mod callback_tests;
mod crm;
mod flow;
#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod replay;
#[cfg(test)]
mod tests;
mod waiting;

/// The leg id of a transfer target number (`number:+7...`).
pub(crate) const NUMBER_LEG: &str = "number:";

/// What the machine keeps of a queue beyond the ACD's rules.
#[derive(Debug, Clone)]
pub(crate) struct QueueSettings {
    /// Calls are recorded once bridged.
    pub record: bool,
    /// What waiting callers hear (`ringback`, `music`, a prompt id; `None`: the default).
    pub sound: Option<String>,
    /// Position and wait announcements every so often (0: none).
    pub announce_every_ms: i64,
    /// Their language.
    pub language: String,
    /// A caller whose contact (or open deal) has an owner rings that owner alone for this
    /// long before the queue's agents (0: no).
    pub owner_first_ms: i64,
    /// A contact custom field whose set value (true, a non-zero number, a non-empty text
    /// other than "no"/"нет") makes the caller a VIP, served before the others.
    pub vip_field: Option<String>,
    /// Business hours: outside them callers do not wait (`None`: always open).
    pub schedule_id: Option<String>,
    /// What callers get outside them, after the after-hours prompt.
    pub after_hours: AfterHours,
    /// A waiting caller is offered a callback after this long (0: not for the wait alone).
    pub callback_after_ms: i64,
    /// ... or at once when the queue's typical wait is over this (0: not for it).
    pub callback_over_wait_ms: i64,
    /// Calls placed to a customer who asked for a callback before giving up.
    pub callback_attempts: u32,
    /// Time between them.
    pub callback_retry_ms: i64,
}

impl Default for QueueSettings {
    fn default() -> QueueSettings {
        QueueSettings {
            record: true,
            sound: None,
            announce_every_ms: 0,
            language: "ru".into(),
            owner_first_ms: 0,
            vip_field: None,
            schedule_id: None,
            after_hours: AfterHours::Voicemail,
            callback_after_ms: 0,
            callback_over_wait_ms: 0,
            callback_attempts: 3,
            callback_retry_ms: 300_000,
        }
    }
}

/// What a queue's callers get outside its business hours, after the after-hours prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterHours {
    /// They may leave a message for the queue's agents.
    Voicemail,
    /// They are offered a callback when the queue opens.
    Callback,
    /// Nothing more: goodbye.
    Hangup,
}

impl AfterHours {
    /// From the queue's `after_hours` column (anything unknown: voicemail).
    pub(crate) fn parse(text: &str) -> AfterHours {
        match text {
            "hangup" => AfterHours::Hangup,
            "callback" => AfterHours::Callback,
            _ => AfterHours::Voicemail,
        }
    }
}

/// How an agent takes calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// A SIP phone: a URI or `ext:NNN`.
    Sip(String),
    /// The browser console's softphone.
    Browser,
}

/// What the executor knows of how an agent can be reached, for a change of state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reach {
    /// The agent's console and its softphone connection are both up.
    pub browser_ready: bool,
    /// A console is open (its softphone may still be connecting).
    pub console_open: bool,
    /// The desk phone rung for them (a URI or `ext:NNN`), if they have one.
    pub phone: Option<String>,
    /// The queues they serve.
    pub queues: Vec<QueueId>,
    /// Their skills, for the queues that route by them.
    pub skills: switchboard_core::acd::Skills,
}

/// Where an agent hands a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transfer {
    /// Another agent (who must be available).
    Agent(AgentId),
    /// A queue.
    Queue(QueueId),
    /// A phone number (E.164), rung for at most `ring_ms`.
    Number { e164: String, ring_ms: i64 },
}

/// What happened: the edge's events, the consoles' commands, the results of effects.
#[derive(Debug)]
pub(crate) enum CallInput {
    /// A call came in and was routed to `queue`; `record`: whether its queue records calls;
    /// `waiting`: whether the caller hears a sound while nobody has answered.
    Arrived {
        call_id: CallId,
        from: String,
        to: String,
        queue: QueueId,
        origin: String,
        record: bool,
        waiting: bool,
    },
    /// A call came in at an entry point: its call flow starts.
    Entered {
        call_id: CallId,
        from: String,
        to: String,
        origin: String,
        entry: std::sync::Arc<switchboard_core::flow::EntryPoint>,
    },
    /// The prompts of [`Effect::Play`] with this id were played to the end.
    SoundDone { call_id: CallId, id: u64 },
    /// The caller said nothing for the time [`Effect::RecordMessage`] gave.
    Silence { call_id: CallId },
    /// The caller hung up before anyone answered.
    CallerGone { call_id: CallId },
    /// An agent's phone is ringing (180).
    PhoneRinging { call_id: CallId, agent_id: AgentId },
    /// An agent's desk phone answered.
    PhoneAnswered { call_id: CallId, agent_id: AgentId },
    /// An agent's phone refused the call.
    PhoneFailed { call_id: CallId, agent_id: AgentId, code: Option<u16> },
    /// The number a call was transferred to answered.
    NumberAnswered { call_id: CallId, leg: String },
    /// The number refused, or could not be rung (`code` None).
    NumberFailed { call_id: CallId, code: Option<u16> },
    /// A bridged call ended.
    Ended { call_id: CallId, by: EndedBy },
    /// Click-to-call: the agent answered and the customer is being dialled.
    DialingCustomer { call_id: CallId },
    /// Click-to-call: the customer answered.
    OutboundConnected { call_id: CallId },
    /// Click-to-call: the call failed before it was connected.
    OutboundFailed { call_id: CallId, outcome: OutboundOutcome, code: Option<u16> },
    /// A party put the call on hold (`on`) or took it off.
    Hold { call_id: CallId, by: Party, on: bool },
    /// A party pressed a key.
    Dtmf { call_id: CallId, by: Party, digit: char },
    /// The call's client card is built.
    CardReady { call_id: CallId, card: ClientCard },
    /// An agent asks to change state.
    SetState { agent_id: AgentId, target: AgentTarget, reach: Reach },
    /// A browser agent's console or softphone went away.
    BrowserDown { agent_id: AgentId },
    /// A browser agent's console and softphone are both up again.
    BrowserUp { agent_id: AgentId },
    /// The console takes the call ringing on it.
    ConsoleAnswer { call_id: CallId, agent_id: AgentId },
    /// The agent hands the call on.
    Transfer { call_id: CallId, agent_id: AgentId, to: Transfer },
    /// The agent pauses or resumes their call's recording.
    PauseRecording { call_id: CallId, agent_id: AgentId, paused: bool },
    /// Click-to-call: the agent calls `e164` on `endpoint` (a new call id).
    Dial {
        call_id: CallId,
        agent_id: AgentId,
        e164: String,
        endpoint: Endpoint,
        caller_id: String,
        task_id: Option<String>,
    },
    /// Result of [`Effect::Ring`].
    Rung { call_id: CallId, agent_id: AgentId, result: Result<(), String> },
    /// Result of [`Effect::Connect`].
    Bridged { call_id: CallId, agent_id: AgentId, result: Result<(), String> },
    /// Result of [`Effect::ConnectNumber`].
    NumberBridged { call_id: CallId, leg: String, result: Result<(), String> },
    /// Result of [`Effect::Dial`].
    Dialed { call_id: CallId, result: Result<(), String> },
    /// The recording of a call was opened at `path` (relative to the recordings' root).
    Recorded { call_id: CallId, path: String },
}

/// What to do.
#[derive(Debug)]
pub(crate) enum Effect {
    /// Ring an agent (answer with [`CallInput::Rung`]).
    Ring { call_id: CallId, agent_id: AgentId, endpoint: Endpoint },
    /// Stop ringing a leg (an agent, or a number leg).
    CancelRing { call_id: CallId, leg: String },
    /// Bridge the caller to the agent, on their softphone or their desk phone (answer with
    /// [`CallInput::Bridged`]).
    Connect { call_id: CallId, agent_id: AgentId, browser: bool },
    /// Take the caller off the agent who transferred the call; the caller waits.
    Park { call_id: CallId, agent_id: AgentId },
    /// Ring the number a call is transferred to (a failure: [`CallInput::NumberFailed`]).
    RingNumber { call_id: CallId, leg: String, e164: String },
    /// Bridge the caller to the number leg (answer with [`CallInput::NumberBridged`]).
    ConnectNumber { call_id: CallId, leg: String },
    /// The caller hears the queue's waiting sound (`None`: the gateway's default) until an
    /// agent is connected (early media, or over the call flow's media).
    PlayWaiting { call_id: CallId, sound: Option<String> },
    /// The caller hears these prompts (their position, the expected wait), then the waiting
    /// sound again.
    Announce { call_id: CallId, prompts: Vec<String>, language: String, sound: Option<String> },
    /// A call flow starts: the caller's media is set up with the waiting sound (early
    /// media), and the call is answered at once when `answer`.
    StartFlow { call_id: CallId, answer: bool },
    /// Play these prompts (`builtin:<key>` in `language`, or a stored prompt's id) to the
    /// caller, then silence; [`CallInput::SoundDone`] with `id` when they are over.
    Play { call_id: CallId, prompts: Vec<String>, language: String, id: u64 },
    /// Voicemail: answer the caller if the call is not answered yet, play the beep, record
    /// what they say (as the call's recording: [`CallInput::Recorded`]) and report
    /// [`CallInput::Silence`] after `silence_ms` without speech (0: never).
    RecordMessage { call_id: CallId, silence_ms: u64 },
    /// Voicemail: the message is over; close the recording, stop watching for silence.
    StopMessage { call_id: CallId },
    /// The caller hears the hold sound (`on`) instead of the agent, or the agent again.
    HoldSound { call_id: CallId, on: bool },
    /// Answer the caller now if the call is not answered yet (they hear the same sound on
    /// the answered call): a caller about to be let go after a dialogue gets a BYE, not an
    /// error code.
    Answer { call_id: CallId },
    /// Hang up on the caller with this SIP code.
    Release { call_id: CallId, code: u16 },
    /// Take the agent's softphone off whatever call it carried.
    Detach { agent_id: AgentId },
    /// Click-to-call: ring the agent, then the customer (answer with [`CallInput::Dialed`]).
    Dial { call_id: CallId, agent_id: AgentId, e164: String, endpoint: Endpoint },
    /// Start recording a bridged call (if recording is on; [`CallInput::Recorded`] when it is).
    StartRecording { call_id: CallId },
    /// Pause or resume a call's recording.
    PauseRecording { call_id: CallId, paused: bool },
    /// The call is over for the machine: close its recording, end its listeners.
    Forget { call_id: CallId },
    /// Build the call's client card for this number (answer with [`CallInput::CardReady`]).
    BuildCard { call_id: CallId, number: String },
    /// Write to the call log, in order.
    Log(Write),
    /// Tell an agent's console.
    Tell { agent_id: AgentId, message: AgentMessage },
}

/// What the machine remembers of a call beyond the ACD.
#[derive(Debug, Default)]
struct Call {
    /// The queue an inbound call came to.
    queue: Option<QueueId>,
    /// Whether it is recorded once bridged.
    record: bool,
    /// Recording: None before it starts, else whether it is paused.
    recording: Option<bool>,
    hold_since: Option<EpochMs>,
    hold_ms: i64,
    /// The caller's number (E.164 when it parsed); the customer's on click-to-call.
    from: String,
    /// The client card, once built.
    card: Option<ClientCard>,
    /// Agents it is ringing for.
    ringing: HashSet<AgentId>,
    /// The agent it is connected to.
    agent: Option<AgentId>,
    /// Handed on by an agent (blind transfer): answered before.
    transferred: bool,
    /// Transferred out to this number leg (`number:+7...`), ringing until the deadline.
    external: Option<String>,
    external_until: Option<EpochMs>,
    /// The number answered.
    external_answered: bool,
    /// Put through by its call flow to a number outside the call center, which answered.
    forwarded: bool,
    /// Click-to-call: the agent placing it.
    dialer: Option<AgentId>,
    /// Still in its call flow (not yet in a queue).
    flow: Option<flow::FlowRun>,
    /// When it entered its queue.
    queued_at: Option<EpochMs>,
    /// When it next hears its position and the expected wait.
    announce_at: Option<EpochMs>,
    /// Waiting for its card before it enters this queue (routing by the CRM), at most until
    /// the time given.
    awaiting_card: Option<(QueueId, EpochMs)>,
    /// When the caller is offered a callback.
    offer_callback_at: Option<EpochMs>,
    /// The caller's callback, once offered.
    callback: Option<callback::Callback>,
    /// A callback's outbound call: the queued call it is for.
    callback_of: Option<CallId>,
    /// An outbound call the customer answered.
    reached: bool,
    /// Offered to this agent alone until then before its queue (a flow's `agent` step).
    preferred: Option<(AgentId, EpochMs)>,
}

/// Every call and agent the switch serves, and what to do next.
pub(crate) struct CallMachine {
    acd: Box<dyn Dispatcher>,
    calls: HashMap<CallId, Call>,
    /// How each logged-in agent takes calls.
    endpoints: HashMap<AgentId, Endpoint>,
    /// Agents in wrap-up: agent -> (call, since).
    wrapups: HashMap<AgentId, (CallId, EpochMs)>,
    /// Offers that failed at once, and when: the ACD may offer the same call to the same
    /// agent again (when nobody else is free); a second failure at the same instant is left
    /// ringing for the ring timeout to end instead of looping.
    failed_offers: HashMap<(CallId, AgentId), EpochMs>,
    /// What each queue's calls get beyond the ACD: recording, the waiting sound, announcements.
    queues: HashMap<QueueId, QueueSettings>,
    /// Each queue's typical wait of answered calls (ms), for the announcements: an average
    /// that gives the newest answer a quarter of the weight.
    typical_wait: HashMap<QueueId, i64>,
    /// The last playlist id given out.
    plays: u64,
    /// Business hours, by schedule id, for the call flows' `hours` steps.
    schedules: HashMap<String, std::sync::Arc<switchboard_core::hours::Schedule>>,
    /// Where numbers typed by callers are read.
    region: switchboard_core::phone::Region,
}

impl CallMachine {
    pub(crate) fn new(acd: Box<dyn Dispatcher>) -> CallMachine {
        CallMachine {
            acd,
            calls: HashMap::new(),
            endpoints: HashMap::new(),
            wrapups: HashMap::new(),
            failed_offers: HashMap::new(),
            queues: HashMap::new(),
            typical_wait: HashMap::new(),
            plays: 0,
            schedules: HashMap::new(),
            region: callback::DEFAULT_REGION,
        }
    }

    /// Applies one input at `now`. An error is the answer to a command that cannot be carried
    /// out; the effects of an input that changes nothing are empty.
    pub(crate) fn handle(
        &mut self,
        input: CallInput,
        now: EpochMs,
    ) -> Result<Vec<Effect>, SwitchError> {
        let mut out = Vec::new();
        match input {
            CallInput::Arrived { call_id, from, to, queue, origin, record, waiting } => {
                self.arrived(call_id, from, to, queue, origin, record, waiting, now, &mut out)
            }
            CallInput::Entered { call_id, from, to, origin, entry } => {
                self.entered(call_id, from, to, origin, entry, now, &mut out)
            }
            CallInput::SoundDone { call_id, id } => {
                if !self.callback_closed(&call_id, Some(id), now, &mut out) {
                    self.callback_sound_done(&call_id, id, now);
                    self.sound_done(&call_id, id, now, &mut out)
                }
            }
            CallInput::Silence { call_id } => self.message_silent(&call_id, now, &mut out),
            CallInput::CallerGone { call_id } if self.in_flow(&call_id) => {
                self.left_flow(&call_id, now, &mut out)
            }
            CallInput::Ended { call_id, .. } if self.in_flow(&call_id) => {
                self.left_flow(&call_id, now, &mut out)
            }
            CallInput::CallerGone { call_id } | CallInput::Ended { call_id, .. }
                if self.callback_closed(&call_id, None, now, &mut out) => {}
            CallInput::CallerGone { call_id } | CallInput::Ended { call_id, .. }
                if self.is_virtual(&call_id) => {}
            CallInput::CallerGone { call_id } => {
                // The ACD's `Abandoned` forgets the call (and asks for a callback); anything
                // it did not know is forgotten here.
                self.acd_input(Input::CallerHungUp { call_id: call_id.clone() }, now, &mut out);
                self.remove(&call_id, &mut out);
            }
            CallInput::PhoneRinging { call_id, agent_id } => {
                out.push(event(&call_id, Kind::Ringing, Some(&agent_id), json!({}), now))
            }
            CallInput::PhoneAnswered { call_id, agent_id } => {
                let input =
                    Input::Answered { call_id: call_id.clone(), agent_id: agent_id.clone() };
                if let Err(e) = self.acd_try(input, now, &mut out) {
                    // Another agent took it first (ring-all), or the caller left.
                    tracing::debug!(error = %e, %call_id, %agent_id, "late answer");
                    out.push(Effect::CancelRing { call_id, leg: agent_id.into_string() });
                }
            }
            CallInput::PhoneFailed { call_id, agent_id, code } => {
                out.push(event(
                    &call_id,
                    Kind::Rejected,
                    Some(&agent_id),
                    json!({"sip_code": code}),
                    now,
                ));
                self.acd_input(Input::Rejected { call_id, agent_id }, now, &mut out);
            }
            CallInput::NumberAnswered { call_id, leg } => {
                out.push(Effect::ConnectNumber { call_id, leg })
            }
            CallInput::NumberFailed { call_id, code } => {
                self.number_failed(&call_id, code, now, &mut out)
            }
            CallInput::NumberBridged { call_id, leg, result } => {
                self.number_bridged(call_id, leg, result, now, &mut out)
            }
            CallInput::Ended { call_id, by } => self.ended(call_id, by, now, &mut out),
            CallInput::DialingCustomer { call_id } => {
                let agent = self.calls.get(&call_id).and_then(|c| c.dialer.clone());
                out.push(event(&call_id, Kind::DialingCustomer, agent.as_ref(), json!({}), now));
            }
            CallInput::OutboundConnected { call_id } => {
                self.outbound_connected(call_id, now, &mut out)
            }
            CallInput::OutboundFailed { call_id, outcome, code } => {
                self.outbound_failed(call_id, outcome, code, now, &mut out)
            }
            CallInput::Hold { call_id, by, on } => self.hold(call_id, by, on, now, &mut out),
            CallInput::Dtmf { call_id, by, digit } => {
                let detail = json!({"by": call::party(by), "digit": digit.to_string()});
                out.push(event(&call_id, Kind::Dtmf, None, detail, now));
                // A callback's dialogue first: a flow's `callback` step runs it too.
                if by == Party::Caller && self.in_callback(&call_id) {
                    self.callback_key(&call_id, digit, now, &mut out);
                } else if by == Party::Caller && self.in_flow(&call_id) {
                    self.flow_key(&call_id, digit, now, &mut out);
                }
            }
            CallInput::CardReady { call_id, card } => {
                self.card_ready(call_id.clone(), card, &mut out);
                self.card_for_routing(&call_id, now, &mut out);
            }
            CallInput::SetState { agent_id, target, reach } => {
                self.set_state(&agent_id, target, reach, now, &mut out)?
            }
            CallInput::BrowserDown { agent_id } => self.browser_down(&agent_id, now, &mut out),
            CallInput::BrowserUp { agent_id } => self.browser_up(&agent_id, now, &mut out),
            CallInput::ConsoleAnswer { call_id, agent_id } => {
                let input = Input::Answered { call_id, agent_id: agent_id.clone() };
                if let Err(e) = self.acd_try(input, now, &mut out) {
                    let message = AgentMessage::Error { message: format!("cannot answer: {e}") };
                    out.push(Effect::Tell { agent_id, message });
                }
            }
            CallInput::Transfer { call_id, agent_id, to } => {
                self.transfer(call_id, agent_id, to, now, &mut out)
            }
            CallInput::PauseRecording { call_id, agent_id, paused } => {
                self.pause_recording(call_id, agent_id, paused, now, &mut out)
            }
            CallInput::Dial { call_id, agent_id, e164, endpoint, caller_id, task_id } => {
                self.dial(call_id, agent_id, e164, endpoint, caller_id, task_id, now, &mut out)?
            }
            CallInput::Rung { call_id, agent_id, result } => {
                self.rung(call_id, agent_id, result, now, &mut out)
            }
            CallInput::Bridged { call_id, agent_id, result } => {
                self.bridged(call_id, agent_id, result, now, &mut out)
            }
            CallInput::Dialed { call_id, result } => self.dialed(call_id, result, now, &mut out),
            CallInput::Recorded { call_id, path } => {
                if let Some(call) = self.calls.get_mut(&call_id) {
                    call.recording = Some(false);
                    out.push(Effect::Log(Write::RecordingStarted {
                        call_id: call_id.into_string(),
                        path,
                        at: now,
                    }));
                }
            }
        }
        Ok(out)
    }

    /// When [`CallMachine::tick`] next has something to do.
    pub(crate) fn next_deadline(&self) -> Option<EpochMs> {
        let transfers = self.calls.values().filter_map(|c| c.external_until);
        let menus = self.calls.values().filter_map(|c| c.flow.as_ref().and_then(|f| f.deadline()));
        let announcements = self.calls.values().filter_map(|c| c.announce_at);
        let cards = self.calls.values().filter_map(|c| c.awaiting_card.as_ref().map(|(_, at)| *at));
        let offers = self.calls.values().filter_map(|c| c.offer_callback_at);
        let callbacks =
            self.calls.values().filter_map(|c| c.callback.as_ref().and_then(|cb| cb.deadline()));
        transfers
            .chain(offers)
            .chain(callbacks)
            .chain(menus)
            .chain(announcements)
            .chain(cards)
            .chain(self.acd.next_deadline())
            .min()
    }

    /// Fires what is due at `now`: ring timeouts, maximum waits, wrap-ups, numbers rung for
    /// their ring timeout.
    pub(crate) fn tick(&mut self, now: EpochMs) -> Vec<Effect> {
        let mut out = Vec::new();
        let actions = self.acd.tick(now);
        self.apply(actions, now, &mut out);
        self.flow_timeouts(now, &mut out);
        self.cards_late(now, &mut out);
        self.announcements(now, &mut out);
        self.callback_deadlines(now, &mut out);
        let mut due: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.external_until.is_some_and(|at| at <= now))
            .map(|(id, _)| id.clone())
            .collect();
        due.sort();
        for call_id in due {
            let Some(call) = self.calls.get_mut(&call_id) else { continue };
            call.external_until = None;
            if let Some(leg) = call.external.clone() {
                out.push(Effect::CancelRing { call_id: call_id.clone(), leg });
                self.number_failed(&call_id, Some(408), now, &mut out);
            }
        }
        out
    }

    /// Adds or changes a queue's rules, and what its calls get beyond them.
    pub(crate) fn set_queue(&mut self, queue: QueueConfig, settings: QueueSettings) {
        self.queues.insert(queue.id.clone(), settings);
        self.acd.set_queue(queue);
    }

    /// The region numbers typed by callers are read in.
    pub(crate) fn set_region(&mut self, region: switchboard_core::phone::Region) {
        self.region = region;
    }

    /// Replaces the business hours the flows' `hours` steps read.
    pub(crate) fn set_schedules(&mut self, schedules: Vec<switchboard_core::hours::Schedule>) {
        self.schedules =
            schedules.into_iter().map(|s| (s.id.clone(), std::sync::Arc::new(s))).collect();
    }

    /// An agent's state (offline when unknown).
    pub(crate) fn agent_state(&self, agent_id: &str) -> AgentState {
        self.acd.agent_state(agent_id)
    }

    /// The calls waiting in a queue, oldest first, with when each arrived.
    pub(crate) fn waiting(&self, queue_id: &str) -> Vec<(CallId, EpochMs)> {
        self.acd.waiting(queue_id)
    }

    /// The agents that have logged in since the start, sorted.
    pub(crate) fn agents(&self) -> Vec<AgentId> {
        let mut agents: Vec<AgentId> = self.endpoints.keys().cloned().collect();
        agents.sort();
        agents
    }

    /// The agent a live call is connected to (or placing it).
    pub(crate) fn call_agent(&self, call_id: &str) -> Option<AgentId> {
        let call = self.calls.get(call_id)?;
        call.agent.clone().or_else(|| call.dialer.clone())
    }

    /// The call an agent is talking on (or placing), for moving it onto a new softphone.
    pub(crate) fn call_of(&self, agent_id: &str) -> Option<CallId> {
        if let AgentState::OnCall { call_id, .. } = self.acd.agent_state(agent_id) {
            return Some(call_id);
        }
        let mut placing = self.calls.iter().filter(|(_, c)| c.dialer.as_deref() == Some(agent_id));
        placing.next().map(|(id, _)| id.clone())
    }

    /// What a console opening now must be told to pick up where the agent is: their state,
    /// and the call ringing or connected with its card.
    pub(crate) fn snapshot(&self, agent_id: &str) -> Vec<AgentMessage> {
        let state = self.acd.agent_state(agent_id);
        let mut out = vec![AgentMessage::State { state: state.clone() }];
        match &state {
            AgentState::Ringing { call_id, .. } => {
                if let Some(call) = self.calls.get(call_id) {
                    out.push(AgentMessage::Ringing {
                        call_id: call_id.to_string(),
                        from: call.from.clone(),
                        card: call.card.clone(),
                        desk_phone: !matches!(
                            self.endpoints.get(agent_id),
                            Some(Endpoint::Browser)
                        ),
                    });
                }
            }
            AgentState::OnCall { call_id, .. } => {
                if let Some(call) = self.calls.get(call_id) {
                    let id = call_id.to_string();
                    out.push(AgentMessage::Connected {
                        call_id: id.clone(),
                        from: call.from.clone(),
                    });
                    if let Some(card) = &call.card {
                        out.push(AgentMessage::Card { call_id: id.clone(), card: card.clone() });
                    }
                    if call.recording == Some(true) {
                        out.push(AgentMessage::Recording { call_id: id, paused: true });
                    }
                }
            }
            _ => {}
        }
        out
    }

    /// Forgets a call (its recording is closed, its listeners told).
    fn remove(&mut self, call_id: &CallId, out: &mut Vec<Effect>) -> Option<Call> {
        self.failed_offers.retain(|(call, _), _| call != call_id);
        let call = self.calls.remove(call_id)?;
        out.push(Effect::Forget { call_id: call_id.clone() });
        Some(call)
    }
}

/// A call event for the log.
fn event(
    call_id: &CallId,
    kind: Kind,
    agent: Option<&AgentId>,
    detail: Value,
    at: EpochMs,
) -> Effect {
    Effect::Log(Write::Event {
        call_id: call_id.to_string(),
        at,
        kind,
        agent_id: agent.map(ToString::to_string),
        detail,
    })
}

/// The end of a call, for the log.
fn ended(call_id: &CallId, at: EpochMs, reason: EndReason, hold_ms: i64) -> Effect {
    Effect::Log(Write::Ended { call_id: call_id.to_string(), at, reason, hold_ms })
}
