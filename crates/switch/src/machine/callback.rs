//! Queue callback ("virtual hold"): a caller waiting in a queue is offered to be called back
//! instead, keeps their place, and is called when it comes up.
//!
//! The offer is spoken after the queue's `callback_after_ms` of waiting, or at once when the
//! queue's typical wait is over `callback_over_wait_ms`. Pressing 1 asks to confirm the number
//! (1: the one they call from, 2: type another and #; * goes back to waiting); the
//! confirmation is spoken and the caller is let go. The call stays in the ACD as it was (its
//! place kept, and no longer ended by the queue's maximum wait) and a callback task stands
//! for it (a `Missed` write with the reason `callback_requested`: one open callback per
//! number, as for missed calls).
//!
//! Outside business hours (a flow's `callback` step, or a queue whose `after_hours` is
//! `callback`) the same dialogue runs with the offer to call back "when we open": the call is
//! in no queue, so on confirmation the caller is let go and the call ends; the callback task
//! is due when the queue's hours next open, for its agents to call from the task list. No key
//! after the offer, or `*`: goodbye.
//!
//! When the ACD offers the waiting callback to an agent, nobody is rung for it: the agent
//! takes it at once, and the machine places a click-to-call for them (their phone first, the
//! client card on their console, then the customer through the trunk) as a new outbound call
//! `<call>-<attempt>` linked to the same task and contact. A customer who does not answer is
//! queued again after `callback_retry_ms`, up to `callback_attempts` tries; the outcome is
//! written on the task (done when they were reached).

use serde_json::json;
use switchboard_core::acd::Input;
use switchboard_core::call::{CallEventKind as Kind, EndReason};
use switchboard_core::entity::CallDirection;
use switchboard_core::phone::{PhoneNumber, Region};
use switchboard_core::{AgentId, CallId, EpochMs, QueueId};
use switchboard_store::{MissedCall, NewCall};

use super::{CallMachine, Effect, Endpoint, event};
use crate::calllog::Write;
use crate::protocol::AgentMessage;

/// How long the caller has to press a key while confirming the number.
const KEY_WAIT_MS: i64 = 15_000;
/// Wrong numbers typed before the caller is sent back to waiting.
const MAX_TRIES: u32 = 3;
/// The longest number a caller may type.
const MAX_DIGITS: usize = 15;
/// The most callbacks waiting without their callers at once (each keeps memory until its turn):
/// past it, and for a number that already has one waiting, no new one is taken.
const MAX_WAITING: usize = 1_000;

/// Where a call is in its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stage {
    /// The offer was spoken; 1 takes it.
    Offered,
    /// "We will call you back on this number: 1 if right, 2 for another".
    Confirming,
    /// Typing another number, `#` to end it.
    Entering(String),
    /// The confirmation is spoken to the caller, who is then let go.
    Closing,
    /// The caller is gone; the call keeps its place in the ACD.
    Waiting,
    /// An agent took it: the customer is being called on this outbound call.
    Dialing(CallId),
    /// Not answered: queued again at this time.
    Retry(EpochMs),
}

/// A call's callback.
#[derive(Debug, Clone)]
pub(super) struct Callback {
    pub(super) stage: Stage,
    /// The number to call back (E.164), once confirmed.
    number: String,
    /// Calls placed so far.
    attempts: u32,
    /// Wrong numbers typed.
    tries: u32,
    /// The playlist playing (its end matters while closing).
    playing: u64,
    /// When the caller stops being waited for a key.
    key_deadline: Option<EpochMs>,
    /// Asked for outside business hours by the call flow: for this queue, due when it opens;
    /// the call keeps no place.
    later: Option<QueueId>,
}

impl Callback {
    fn new(later: Option<QueueId>) -> Callback {
        Callback {
            stage: Stage::Offered,
            number: String::new(),
            attempts: 0,
            tries: 0,
            playing: 0,
            key_deadline: None,
            later,
        }
    }

    /// Whether the caller is gone and the call only keeps a place.
    pub(super) fn is_virtual(&self) -> bool {
        matches!(self.stage, Stage::Waiting | Stage::Dialing(_) | Stage::Retry(_))
    }

    /// The next time something is due: a key not pressed, a retry.
    pub(super) fn deadline(&self) -> Option<EpochMs> {
        match self.stage {
            Stage::Retry(at) => Some(at),
            Stage::Offered | Stage::Confirming | Stage::Entering(_) => self.key_deadline,
            _ => None,
        }
    }
}

impl CallMachine {
    /// The call entered its queue now: when its callback offer is due.
    pub(super) fn schedule_offer(&mut self, call_id: &CallId, now: EpochMs) {
        let Some(call) = self.calls.get_mut(call_id) else { return };
        if call.callback.is_some() {
            return;
        }
        let Some(queue) = call.queue.as_ref() else { return };
        let Some(settings) = self.queues.get(queue) else { return };
        let long_wait = settings.callback_over_wait_ms > 0
            && self.typical_wait.get(queue).is_some_and(|w| *w > settings.callback_over_wait_ms);
        call.offer_callback_at = if long_wait {
            // Once the greeting of the queue is under way.
            Some(now + 1_000)
        } else if settings.callback_after_ms > 0 {
            Some(now + settings.callback_after_ms)
        } else {
            None
        };
    }

    /// Offers, keys not pressed and retries that are due.
    pub(super) fn callback_deadlines(&mut self, now: EpochMs, out: &mut Vec<Effect>) {
        let mut offers: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.offer_callback_at.is_some_and(|at| at <= now))
            .map(|(id, _)| id.clone())
            .collect();
        offers.sort();
        for call_id in offers {
            self.offer(&call_id, now, out);
        }
        let mut due: Vec<(CallId, Stage)> = self
            .calls
            .iter()
            .filter_map(|(id, c)| c.callback.as_ref().map(|cb| (id, cb)))
            .filter(|(_, cb)| cb.deadline().is_some_and(|at| at <= now))
            .map(|(id, cb)| (id.clone(), cb.stage.clone()))
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0));
        for (call_id, stage) in due {
            match stage {
                Stage::Retry(_) => self.retry(&call_id, now, out),
                _ => self.back_to_waiting(&call_id, now, out),
            }
        }
    }

    /// Whether no new callback can be taken for `number`: one is waiting for it already, or
    /// as many as the machine keeps.
    fn callback_taken(&self, number: &str) -> bool {
        let waiting = self
            .calls
            .values()
            .filter_map(|c| c.callback.as_ref())
            .filter(|cb| cb.is_virtual() || cb.stage == Stage::Closing);
        let mut count = 0;
        for cb in waiting {
            if cb.number == number {
                return true;
            }
            count += 1;
        }
        count >= MAX_WAITING
    }

    fn offer(&mut self, call_id: &CallId, now: EpochMs, out: &mut Vec<Effect>) {
        let from = self.calls.get(call_id).map(|c| c.from.clone()).unwrap_or_default();
        let taken = self.callback_taken(&from);
        let Some(call) = self.calls.get_mut(call_id) else { return };
        call.offer_callback_at = None;
        if taken {
            return;
        }
        let Some(queue) = call.queue.clone() else { return };
        if call.agent.is_some() || !call.ringing.is_empty() || call.callback.is_some() {
            return;
        }
        call.callback = Some(Callback::new(None));
        let settings = self.queues.get(&queue).cloned().unwrap_or_default();
        out.push(event(call_id, Kind::CallbackOffered, None, json!({}), now));
        out.push(Effect::Announce {
            call_id: call_id.clone(),
            prompts: vec!["builtin:callback_offer".into()],
            language: settings.language,
            sound: settings.sound,
        });
    }

    /// A flow's `callback` step: the offer to call back when the queue opens.
    pub(super) fn offer_later(
        &mut self,
        call_id: &CallId,
        prompts: Vec<String>,
        queue: QueueId,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        self.plays += 1;
        let id = self.plays;
        let language = self.language_of(call_id);
        let Some(call) = self.calls.get_mut(call_id) else { return };
        let mut cb = Callback::new(Some(queue.clone()));
        cb.playing = id;
        call.callback = Some(cb);
        let detail = json!({"queue_id": queue.as_str(), "later": true});
        out.push(event(call_id, Kind::CallbackOffered, None, detail, now));
        out.push(Effect::Play { call_id: call_id.clone(), prompts, language, id });
    }

    /// The prompts with this id ended: after the offer of a callback for later, the caller
    /// has a while to press 1.
    pub(super) fn callback_sound_done(&mut self, call_id: &CallId, id: u64, now: EpochMs) {
        let Some(cb) = self.calls.get_mut(call_id).and_then(|c| c.callback.as_mut()) else {
            return;
        };
        if cb.later.is_some() && cb.stage == Stage::Offered && cb.playing == id {
            cb.key_deadline = Some(now + KEY_WAIT_MS);
        }
    }

    /// The language a caller hears: their flow's, or their queue's.
    fn language_of(&self, call_id: &CallId) -> String {
        let Some(call) = self.calls.get(call_id) else { return "ru".into() };
        if let Some(run) = &call.flow {
            return run.language().to_owned();
        }
        call.queue
            .as_ref()
            .and_then(|q| self.queues.get(q))
            .map_or_else(|| "ru".to_owned(), |s| s.language.clone())
    }

    /// Whether a key from this caller belongs to their callback (offered, or being confirmed).
    pub(super) fn in_callback(&self, call_id: &str) -> bool {
        self.calls.get(call_id).and_then(|c| c.callback.as_ref()).is_some_and(|cb| {
            matches!(cb.stage, Stage::Offered | Stage::Confirming | Stage::Entering(_))
        })
    }

    /// A key from a caller offered a callback.
    pub(super) fn callback_key(
        &mut self,
        call_id: &CallId,
        digit: char,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        enum Next {
            AskNumber,
            Confirm(String),
            Enter,
            Waiting,
            Typed(String),
            Nothing,
        }
        let Some(call) = self.calls.get_mut(call_id) else { return };
        if call.agent.is_some() || !call.ringing.is_empty() {
            // An agent's phone rings already: the caller is about to be answered.
            return;
        }
        let from = call.from.clone();
        let Some(cb) = call.callback.as_mut() else { return };
        let next = match (&mut cb.stage, digit) {
            (Stage::Offered, '1') => Next::AskNumber,
            (Stage::Confirming, '1') if !from.is_empty() => Next::Confirm(from),
            (Stage::Confirming, '1' | '2') => Next::Enter,
            (Stage::Confirming | Stage::Entering(_), '*') => Next::Waiting,
            (Stage::Entering(typed), '#') => Next::Typed(std::mem::take(typed)),
            (Stage::Entering(typed), d) if d.is_ascii_digit() => {
                if typed.len() < MAX_DIGITS {
                    typed.push(d);
                }
                cb.key_deadline = Some(now + KEY_WAIT_MS);
                Next::Nothing
            }
            _ => Next::Nothing,
        };
        match next {
            Next::AskNumber => {
                cb.stage = Stage::Confirming;
                cb.key_deadline = Some(now + KEY_WAIT_MS);
                // A caller on early media is answered now: the dialogue that follows ends
                // with a goodbye (BYE), not with a failed call on their phone.
                out.push(Effect::Answer { call_id: call_id.clone() });
                self.say(call_id, &["callback_number"], out);
            }
            Next::Confirm(number) => self.confirm(call_id, number, now, out),
            Next::Enter => {
                cb.stage = Stage::Entering(String::new());
                cb.key_deadline = Some(now + KEY_WAIT_MS);
                self.say(call_id, &["enter_number"], out);
            }
            Next::Waiting => self.back_to_waiting(call_id, now, out),
            Next::Typed(typed) => match PhoneNumber::parse(&typed, self.region) {
                Ok(number) => self.confirm(call_id, number.e164().to_owned(), now, out),
                Err(_) => {
                    cb.tries += 1;
                    if cb.tries >= MAX_TRIES {
                        self.back_to_waiting(call_id, now, out);
                    } else {
                        cb.key_deadline = Some(now + KEY_WAIT_MS);
                        self.say(call_id, &["invalid_choice", "enter_number"], out);
                    }
                }
            },
            Next::Nothing => {}
        }
    }

    /// Plays built-in phrases to a caller in their callback (silence after them).
    fn say(&mut self, call_id: &CallId, keys: &[&str], out: &mut Vec<Effect>) {
        self.plays += 1;
        let id = self.plays;
        let language = self.language_of(call_id);
        let Some(call) = self.calls.get_mut(call_id) else { return };
        if let Some(cb) = call.callback.as_mut() {
            cb.playing = id;
        }
        let prompts = keys.iter().map(|k| format!("builtin:{k}")).collect();
        out.push(Effect::Play { call_id: call_id.clone(), prompts, language, id });
    }

    /// The caller did not go on with the callback: they wait as before, hearing the queue (or,
    /// offered one for later, hear goodbye).
    fn back_to_waiting(&mut self, call_id: &CallId, now: EpochMs, out: &mut Vec<Effect>) {
        let Some(call) = self.calls.get_mut(call_id) else { return };
        let Some(cb) = call.callback.as_mut() else { return };
        if cb.later.is_some() {
            call.callback = None;
            return self.goodbye(call_id, now, out);
        }
        if !matches!(cb.stage, Stage::Confirming | Stage::Entering(_)) {
            return;
        }
        (cb.stage, cb.key_deadline, cb.tries) = (Stage::Offered, None, 0);
        let sound =
            call.queue.as_ref().and_then(|q| self.queues.get(q)).and_then(|s| s.sound.clone());
        out.push(Effect::PlayWaiting { call_id: call_id.clone(), sound });
    }

    /// The number is confirmed: the task, the confirmation, then the caller is let go.
    fn confirm(&mut self, call_id: &CallId, number: String, now: EpochMs, out: &mut Vec<Effect>) {
        let later = self.calls.get(call_id).and_then(|c| c.callback.as_ref()?.later.clone());
        if later.is_none() && self.callback_taken(&number) {
            // That number is to be called back already (or too many wait): the caller waits on.
            return self.back_to_waiting(call_id, now, out);
        }
        // After hours: due when the queue opens (the store keeps one open callback per number).
        let not_before = later.as_ref().and_then(|q| {
            let schedule = self.queues.get(q)?.schedule_id.as_deref()?;
            self.schedules.get(schedule)?.next_open(now)
        });
        let Some(call) = self.calls.get_mut(call_id) else { return };
        let queue = later.or_else(|| call.queue.clone()).map(String::from);
        let Some(cb) = call.callback.as_mut() else { return };
        let confirmed =
            if cb.later.is_some() { "callback_confirmed_closed" } else { "callback_confirmed" };
        cb.stage = Stage::Closing;
        cb.key_deadline = None;
        cb.number = number.clone();
        out.push(event(call_id, Kind::CallbackRequested, None, json!({"number": number}), now));
        out.push(Effect::Log(Write::Missed(MissedCall {
            call_id: call_id.to_string(),
            e164: number,
            queue_id: queue,
            at: now,
            reason: EndReason::CallbackRequested,
            not_before,
        })));
        self.say(call_id, &[confirmed], out);
    }

    /// The confirmation was spoken (or the caller hung up during it): the caller's leg ends
    /// and the call waits for its turn without them. Whether the call was closing.
    pub(super) fn callback_closed(
        &mut self,
        call_id: &CallId,
        played: Option<u64>,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) -> bool {
        let Some(call) = self.calls.get_mut(call_id) else { return false };
        let Some(cb) = call.callback.as_mut() else { return false };
        if cb.stage != Stage::Closing || played.is_some_and(|id| id != cb.playing) {
            return false;
        }
        if cb.later.is_some() {
            // Asked for later: nothing waits; the call ends here.
            if played.is_some() {
                out.push(Effect::Release { call_id: call_id.clone(), code: 480 });
            }
            self.remove(call_id, out);
            out.push(super::ended(call_id, now, EndReason::CallbackRequested, 0));
            return true;
        }
        cb.stage = Stage::Waiting;
        call.announce_at = None;
        if played.is_some() {
            out.push(Effect::Release { call_id: call_id.clone(), code: 480 });
        }
        out.push(super::ended(call_id, now, EndReason::CallbackRequested, 0));
        // Its place waits as long as it takes, not the queue's maximum wait.
        self.acd_input(Input::WaitsWithoutCaller { call_id: call_id.clone() }, now, out);
        true
    }

    /// Whether a call keeps a place for a caller who is gone.
    pub(super) fn is_virtual(&self, call_id: &str) -> bool {
        self.calls.get(call_id).and_then(|c| c.callback.as_ref()).is_some_and(Callback::is_virtual)
    }

    /// The ACD offers a waiting callback to an agent: they take it, and the customer is
    /// called for them.
    pub(super) fn callback_offered(
        &mut self,
        call_id: CallId,
        agent_id: AgentId,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let input = Input::Answered { call_id, agent_id };
        self.acd_input(input, now, out);
    }

    /// The ACD gave the callback to an agent: their phone, then the customer.
    pub(super) fn callback_dial(
        &mut self,
        call_id: CallId,
        agent_id: AgentId,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let endpoint = self.endpoints.get(&agent_id).cloned();
        let Some(call) = self.calls.get_mut(&call_id) else { return };
        let card = call.card.clone();
        let Some(cb) = call.callback.as_mut() else { return };
        cb.attempts += 1;
        let leg: CallId = format!("{call_id}-{}", cb.attempts).into();
        cb.stage = Stage::Dialing(leg.clone());
        let number = cb.number.clone();
        let detail = json!({"attempt": cb.attempts, "number": number, "call": leg.to_string()});
        out.push(event(&call_id, Kind::CallbackAttempt, Some(&agent_id), detail, now));
        let Some(endpoint) = endpoint else {
            return self.callback_leg_over(call_id, false, now, out);
        };
        out.push(Effect::Log(Write::Create(NewCall {
            direction: CallDirection::Outbound,
            from_e164: String::new(),
            to_e164: number.clone(),
            queue_id: None,
            offered_at: now,
            id: Some(leg.to_string()),
            origin: None,
            agent_id: Some(agent_id.to_string()),
            task_id: None,
        })));
        out.push(Effect::Log(Write::CallbackLeg {
            call_id: leg.to_string(),
            of: call_id.to_string(),
        }));
        let browser = endpoint == Endpoint::Browser;
        let dial = super::Call {
            from: number.clone(),
            agent: browser.then(|| agent_id.clone()),
            dialer: Some(agent_id.clone()),
            record: true,
            callback_of: Some(call_id),
            card: card.clone(),
            ..super::Call::default()
        };
        self.calls.insert(leg.clone(), dial);
        // The client card on the agent's console while their phone rings.
        if let Some(card) = card {
            let message = AgentMessage::Card { call_id: leg.to_string(), card };
            out.push(Effect::Tell { agent_id: agent_id.clone(), message });
        }
        out.push(Effect::Dial { call_id: leg, agent_id, e164: number, endpoint });
    }

    /// A callback's outbound call is over: reached (`connected`) or not. The agent's call in
    /// the ACD ends; an unreached customer is queued again later, until the tries are used.
    pub(super) fn callback_leg_over(
        &mut self,
        original: CallId,
        connected: bool,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        self.acd_input(Input::CallEnded { call_id: original.clone() }, now, out);
        let Some(call) = self.calls.get_mut(&original) else { return };
        let queue: Option<QueueId> = call.queue.clone();
        let Some(cb) = call.callback.as_mut() else { return };
        let settings = queue.as_ref().and_then(|q| self.queues.get(q)).cloned().unwrap_or_default();
        let attempts = cb.attempts;
        let (done, result) = if connected {
            (true, format!("called back on attempt {attempts}: connected"))
        } else if attempts >= settings.callback_attempts.max(1) {
            (false, format!("not reached after {attempts} attempts"))
        } else {
            cb.stage = Stage::Retry(now + settings.callback_retry_ms.max(1_000));
            (false, format!("attempt {attempts}: not reached, trying again"))
        };
        let over = connected || attempts >= settings.callback_attempts.max(1);
        out.push(Effect::Log(Write::CallbackResult {
            call_id: original.to_string(),
            done,
            result,
        }));
        if over {
            self.calls.remove(&original);
            out.push(Effect::Forget { call_id: original });
        }
    }

    /// Time to try an unreached customer again: back in the queue.
    fn retry(&mut self, call_id: &CallId, now: EpochMs, out: &mut Vec<Effect>) {
        let Some(call) = self.calls.get_mut(call_id) else { return };
        let Some(queue) = call.queue.clone() else { return };
        if let Some(cb) = call.callback.as_mut() {
            cb.stage = Stage::Waiting;
        }
        self.enqueue(call_id, queue, now, out);
        self.acd_input(Input::WaitsWithoutCaller { call_id: call_id.clone() }, now, out);
    }
}

/// The region numbers typed by callers are read in, unless the switch says otherwise.
pub(super) const DEFAULT_REGION: Region = Region::RU;
