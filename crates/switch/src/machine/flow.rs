//! The call flow, run: a call that came in at an entry point plays its prompts, offers its
//! menus and goes where the caller's keys lead, until it reaches a queue (then the ACD has
//! it, as any call routed straight to a queue) or a hang-up.
//!
//! Everything here is inputs and effects: the executor plays the prompts
//! ([`Effect::Play`]) and reports their end ([`CallInput::SoundDone`], matched by the
//! playlist's id so a late report of an earlier prompt is ignored); keys come as
//! [`CallInput::Dtmf`] and are kept while prompts play (type-ahead); a menu's wait for a key
//! is a deadline for [`CallMachine::tick`].
//!
//! The call log gets the call when it arrives (no queue yet) and its queue when it reaches
//! one ([`Write::Queued`]); its wait is counted from there, so time in the menus is not queue
//! wait. A call that ends in the flow ends as [`EndReason::InFlow`] and is offered to no
//! queue.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::json;
use switchboard_core::call::{CallEventKind as Kind, EndReason};
use switchboard_core::flow::{AnswerMode, BUILTIN, EntryPoint, Node};
use switchboard_core::{CallId, EpochMs, QueueId};
use tracing::warn;

use super::{AfterHours, Call, CallMachine, Effect, ended, event};
use crate::calllog::Write;

/// Nodes a call may pass through without a key before the flow gives up on it (validation
/// refuses such loops; this guards a flow that changed underneath a call).
const MAX_HOPS: u32 = 64;

/// Where a call is in its flow.
#[derive(Debug)]
pub(super) struct FlowRun {
    entry: Arc<EntryPoint>,
    node: String,
    stage: Stage,
    /// Failed tries at the current menu (no key, or a key that leads nowhere).
    tries: u32,
    /// Keys pressed and not yet used.
    typed: VecDeque<char>,
    /// The playlist playing now.
    playing: u64,
    hops: u32,
    /// The caller left a message: however the call ends now, it ends as voicemail.
    left_message: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// A `play` node's prompts.
    Playing,
    /// A menu's prompts.
    Menu,
    /// A menu waiting for a key until then.
    MenuWait(EpochMs),
    /// A `hangup` node's last words.
    Closing,
    /// A `voicemail` node's invitation.
    Inviting,
    /// Recording the caller's message, at most until then.
    Recording(EpochMs),
    /// A `forward` node's number rings (its deadline is the call's `external_until`).
    Forwarding,
    /// A `callback` node's offer and dialogue (the callback's own stages).
    Callback,
}

impl FlowRun {
    /// The language of its prompts.
    pub(super) fn language(&self) -> &str {
        &self.entry.language
    }

    /// When the menu stops waiting for a key.
    pub(super) fn deadline(&self) -> Option<EpochMs> {
        match self.stage {
            Stage::MenuWait(at) | Stage::Recording(at) => Some(at),
            _ => None,
        }
    }
}

impl CallMachine {
    /// A call came in at an entry point.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn entered(
        &mut self,
        call_id: CallId,
        from: String,
        to: String,
        origin: String,
        entry: Arc<EntryPoint>,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        out.push(super::call::inbound_logged(&call_id, &from, to, None, origin, now));
        let detail = json!({"entry_point": entry.name, "entry_point_id": entry.id});
        out.push(event(&call_id, Kind::Flow, None, detail, now));
        out.push(Effect::BuildCard { call_id: call_id.clone(), number: from.clone() });
        let answer = entry.answer == switchboard_core::flow::AnswerMode::Answer;
        out.push(Effect::StartFlow { call_id: call_id.clone(), answer });
        let start = entry.flow.start.clone();
        let run = FlowRun {
            entry,
            node: String::new(),
            stage: Stage::Playing,
            tries: 0,
            typed: VecDeque::new(),
            playing: 0,
            hops: 0,
            left_message: false,
        };
        self.calls.insert(call_id.clone(), Call { from, flow: Some(run), ..Call::default() });
        self.enter(&call_id, &start, now, out);
    }

    /// Whether the call is still in its flow.
    pub(super) fn in_flow(&self, call_id: &str) -> bool {
        self.calls.get(call_id).is_some_and(|c| c.flow.is_some())
    }

    /// The caller left while in the flow (hanging up is how many messages end).
    pub(super) fn left_flow(&mut self, call_id: &CallId, now: EpochMs, out: &mut Vec<Effect>) {
        if self.callback_closed(call_id, None, now, out) {
            // Gone during the confirmation of a callback asked for after hours.
            return;
        }
        self.end_message(call_id, now, out);
        let reason = self.flow_end_reason(call_id);
        if self.remove(call_id, out).is_some() {
            out.push(ended(call_id, now, reason, 0));
        }
    }

    fn flow_end_reason(&self, call_id: &CallId) -> EndReason {
        let left_message = self
            .calls
            .get(call_id)
            .and_then(|c| c.flow.as_ref())
            .is_some_and(|run| run.left_message);
        if left_message { EndReason::Voicemail } else { EndReason::InFlow }
    }

    /// The caller stopped talking: the message is over.
    pub(super) fn message_silent(&mut self, call_id: &CallId, now: EpochMs, out: &mut Vec<Effect>) {
        if self.end_message(call_id, now, out) {
            self.goodbye(call_id, now, out);
        }
    }

    /// Ends the message being recorded, if one is: the recording is closed and the message
    /// becomes a callback task for the voicemail's queue. Whether there was one.
    fn end_message(&mut self, call_id: &CallId, now: EpochMs, out: &mut Vec<Effect>) -> bool {
        let Some(call) = self.calls.get_mut(call_id) else { return false };
        let Some(run) = call.flow.as_mut() else { return false };
        let Stage::Recording(_) = run.stage else { return false };
        let Some(Node::Voicemail { queue_id, .. }) = run.entry.flow.nodes.get(&run.node) else {
            return false;
        };
        run.left_message = true;
        run.stage = Stage::Closing;
        out.push(Effect::StopMessage { call_id: call_id.clone() });
        if !call.from.is_empty() {
            out.push(Effect::Log(Write::Missed(switchboard_store::MissedCall {
                call_id: call_id.to_string(),
                e164: call.from.clone(),
                queue_id: Some(queue_id.clone()),
                at: now,
                reason: EndReason::Voicemail,
                not_before: None,
            })));
        }
        true
    }

    /// Thanks the caller (for the message), then hangs up.
    pub(super) fn goodbye(&mut self, call_id: &CallId, _now: EpochMs, out: &mut Vec<Effect>) {
        let play = self.next_play();
        let Some(run) = self.calls.get_mut(call_id).and_then(|c| c.flow.as_mut()) else { return };
        run.stage = Stage::Closing;
        run.playing = play;
        out.push(Effect::Play {
            call_id: call_id.clone(),
            prompts: vec![format!("{}goodbye", switchboard_core::flow::BUILTIN)],
            language: run.entry.language.clone(),
            id: play,
        });
    }

    /// The prompts with this id ended.
    pub(super) fn sound_done(
        &mut self,
        call_id: &CallId,
        id: u64,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let Some(run) = self.calls.get_mut(call_id).and_then(|c| c.flow.as_mut()) else { return };
        if run.playing != id {
            return;
        }
        match (run.stage, run.entry.flow.nodes.get(&run.node)) {
            (Stage::Playing, Some(Node::Play { next, .. })) => {
                let next = next.clone();
                self.enter(call_id, &next, now, out);
            }
            (Stage::Menu, Some(Node::Menu { timeout_s, .. })) => {
                run.stage = Stage::MenuWait(now + i64::from(*timeout_s) * 1000);
            }
            (Stage::Inviting, Some(Node::Voicemail { max_s, silence_s, queue_id, .. })) => {
                run.stage = Stage::Recording(now + i64::from(*max_s) * 1000);
                let detail = json!({"queue_id": queue_id, "max_s": max_s});
                out.push(event(call_id, Kind::Message, None, detail, now));
                let silence_ms = u64::from(*silence_s) * 1000;
                out.push(Effect::RecordMessage { call_id: call_id.clone(), silence_ms });
            }
            (Stage::Closing, _) => self.hang_up(call_id, now, out),
            _ => {}
        }
    }

    /// A key from the caller in the flow: used by a menu at once, kept otherwise.
    pub(super) fn flow_key(
        &mut self,
        call_id: &CallId,
        digit: char,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let Some(run) = self.calls.get_mut(call_id).and_then(|c| c.flow.as_mut()) else { return };
        if matches!(
            run.stage,
            Stage::Closing
                | Stage::Recording(_)
                | Stage::Inviting
                | Stage::Forwarding
                | Stage::Callback
        ) {
            return;
        }
        // A caller pressing on and on is not kept without bound.
        if run.typed.len() < 32 {
            run.typed.push_back(digit);
        }
        self.menu_keys(call_id, now, out);
    }

    /// A menu's wait for a key is over.
    pub(super) fn flow_timeouts(&mut self, now: EpochMs, out: &mut Vec<Effect>) {
        let mut due: Vec<(CallId, Stage)> = self
            .calls
            .iter()
            .filter_map(|(id, c)| c.flow.as_ref().map(|run| (id, run)))
            .filter(|(_, run)| run.deadline().is_some_and(|at| at <= now))
            .map(|(id, run)| (id.clone(), run.stage))
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0));
        for (call_id, stage) in due {
            if let Stage::Recording(_) = stage {
                // The longest message: it ends here.
                self.message_silent(&call_id, now, out);
                continue;
            }
            out.push(event(&call_id, Kind::MenuTimeout, None, json!({}), now));
            self.menu_failed(&call_id, false, now, out);
        }
    }

    /// Uses the keys typed so far, if the call is at a menu.
    fn menu_keys(&mut self, call_id: &CallId, now: EpochMs, out: &mut Vec<Effect>) {
        let Some(run) = self.calls.get_mut(call_id).and_then(|c| c.flow.as_mut()) else { return };
        if !matches!(run.stage, Stage::Menu | Stage::MenuWait(_)) {
            return;
        }
        let Some(Node::Menu { choices, .. }) = run.entry.flow.nodes.get(&run.node) else { return };
        let Some(digit) = run.typed.pop_front() else { return };
        let target = choices.get(digit.to_string().as_str()).cloned();
        let detail =
            json!({"menu": run.node, "digit": digit.to_string(), "valid": target.is_some()});
        out.push(event(call_id, Kind::MenuChoice, None, detail, now));
        match target {
            Some(next) => {
                run.tries = 0;
                self.enter(call_id, &next, now, out);
            }
            None => self.menu_failed(call_id, true, now, out),
        }
    }

    /// No key, or one that leads nowhere: the menu again (after the invalid-choice prompt),
    /// or its `on_fail` when the tries are used up.
    fn menu_failed(
        &mut self,
        call_id: &CallId,
        invalid: bool,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let Some(run) = self.calls.get_mut(call_id).and_then(|c| c.flow.as_mut()) else { return };
        let Some(Node::Menu { prompts, retries, invalid_prompts, on_fail, .. }) =
            run.entry.flow.nodes.get(&run.node)
        else {
            return;
        };
        run.tries += 1;
        run.typed.clear();
        if run.tries > *retries {
            let next = on_fail.clone();
            self.enter(call_id, &next, now, out);
            return;
        }
        let mut again = if invalid { invalid_prompts.clone() } else { Vec::new() };
        again.extend(prompts.iter().cloned());
        run.stage = Stage::Menu;
        let (language, play) = (run.entry.language.clone(), self.next_play());
        if let Some(run) = self.calls.get_mut(call_id).and_then(|c| c.flow.as_mut()) {
            run.playing = play;
        }
        out.push(Effect::Play { call_id: call_id.clone(), prompts: again, language, id: play });
    }

    /// Goes to the node `name`.
    fn enter(&mut self, call_id: &CallId, name: &str, now: EpochMs, out: &mut Vec<Effect>) {
        let play = self.next_play();
        let Some(call) = self.calls.get_mut(call_id) else { return };
        let Some(run) = call.flow.as_mut() else { return };
        run.hops += 1;
        let Some(node) = run.entry.flow.nodes.get(name).cloned() else {
            warn!(%call_id, node = name, entry = run.entry.name, "the flow leads to no node: hanging up");
            return self.hang_up(call_id, now, out);
        };
        if run.hops > MAX_HOPS {
            warn!(%call_id, entry = run.entry.name, "the flow went round without a key: hanging up");
            return self.hang_up(call_id, now, out);
        }
        if run.node != name {
            run.tries = 0;
        }
        run.node = name.to_owned();
        run.playing = play;
        let language = run.entry.language.clone();
        let mut play_prompts = |prompts: Vec<String>, stage: Stage, run: &mut FlowRun| {
            run.stage = stage;
            out.push(Effect::Play {
                call_id: call_id.clone(),
                prompts,
                language: language.clone(),
                id: play,
            });
        };
        match node {
            Node::Play { prompts, .. } => play_prompts(prompts, Stage::Playing, run),
            Node::Menu { prompts, .. } => {
                play_prompts(prompts, Stage::Menu, run);
                self.menu_keys(call_id, now, out);
            }
            Node::Hangup { prompts } if prompts.is_empty() => self.hang_up(call_id, now, out),
            Node::Hangup { prompts } => play_prompts(prompts, Stage::Closing, run),
            Node::Voicemail { prompts, .. } => play_prompts(prompts, Stage::Inviting, run),
            Node::Queue { queue_id } => self.flow_to_queue(call_id, queue_id.into(), now, out),
            Node::Agent { agent_id, ring_s, queue_id } => {
                // The agent alone first, then the queue: as the owner-first rule does.
                let until = now + i64::from(ring_s) * 1000;
                if let Some(call) = self.calls.get_mut(call_id) {
                    call.preferred = Some((agent_id.into(), until));
                }
                self.flow_to_queue(call_id, queue_id.into(), now, out)
            }
            Node::Callback { prompts, queue_id } => {
                run.stage = Stage::Callback;
                // Keys typed during the prompts before it answer the offer (type-ahead).
                let typed: Vec<char> = run.typed.drain(..).collect();
                self.offer_later(call_id, prompts, queue_id.into(), now, out);
                for digit in typed {
                    self.callback_key(call_id, digit, now, out);
                }
            }
            Node::Forward { number, ring_s, .. } => {
                run.stage = Stage::Forwarding;
                self.forward(call_id, &number, ring_s, now, out);
            }
            Node::Hours { schedule_id, open, closed } => {
                // A schedule deleted under a running flow: open (the call is not turned away).
                let is_open = match self.schedules.get(&schedule_id) {
                    Some(schedule) => schedule.is_open(now),
                    None => {
                        warn!(%call_id, schedule_id, "the flow's schedule is gone: taken as open");
                        true
                    }
                };
                let detail = json!({"schedule_id": schedule_id, "open": is_open});
                out.push(event(call_id, Kind::Hours, None, detail, now));
                let next = if is_open { open } else { closed };
                self.enter(call_id, &next, now, out);
            }
        }
    }

    /// A `forward` node: the number rings (the caller hears ringback) until it answers, fails
    /// or its time is up.
    fn forward(
        &mut self,
        call_id: &CallId,
        number: &str,
        ring_s: u32,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let e164 = match switchboard_core::phone::PhoneNumber::parse(number, self.region) {
            Ok(parsed) => parsed.e164().to_owned(),
            Err(_) => {
                warn!(%call_id, number, "the flow forwards to a number that is not one");
                return self.forward_failed(call_id, None, now, out);
            }
        };
        let leg = format!("{}{e164}", super::NUMBER_LEG);
        if let Some(call) = self.calls.get_mut(call_id) {
            call.external = Some(leg.clone());
            call.external_until = Some(now + i64::from(ring_s) * 1000);
        }
        out.push(event(call_id, Kind::Forwarding, None, json!({"number": e164}), now));
        out.push(Effect::PlayWaiting { call_id: call_id.clone(), sound: Some("ringback".into()) });
        out.push(Effect::RingNumber { call_id: call_id.clone(), leg, e164 });
    }

    /// Whether the call is in its flow ringing a number for a `forward` node.
    pub(super) fn forwarding(&self, call_id: &str) -> bool {
        self.calls
            .get(call_id)
            .and_then(|c| c.flow.as_ref())
            .is_some_and(|run| run.stage == Stage::Forwarding)
    }

    /// The forward's number did not answer (busy, refused, not in time, not reachable): the
    /// flow goes on at the node's `on_fail`.
    pub(super) fn forward_failed(
        &mut self,
        call_id: &CallId,
        code: Option<u16>,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let Some(call) = self.calls.get_mut(call_id) else { return };
        call.external = None;
        call.external_until = None;
        let Some(run) = call.flow.as_mut() else { return };
        let Some(Node::Forward { on_fail, .. }) = run.entry.flow.nodes.get(&run.node) else {
            return;
        };
        let next = on_fail.clone();
        out.push(event(call_id, Kind::TransferFailed, None, json!({"sip_code": code}), now));
        // Every node plays its own sound over the ringback (or ends the call).
        self.enter(call_id, &next, now, out);
    }

    /// The forward's number answered and is connected: the call leaves the flow and the call
    /// center (it ends as [`EndReason::Forwarded`]).
    pub(super) fn forwarded(&mut self, call_id: &CallId) {
        if let Some(call) = self.calls.get_mut(call_id) {
            call.flow = None;
            call.forwarded = true;
        }
    }

    /// When `queue` is closed by its schedule at `now`: the flow its callers get instead of a
    /// wait (the after-hours prompt, then a message for the queue, or goodbye).
    pub(super) fn after_hours(&self, queue: &QueueId, now: EpochMs) -> Option<Arc<EntryPoint>> {
        let settings = self.queues.get(queue)?;
        let schedule = self.schedules.get(settings.schedule_id.as_deref()?)?;
        if schedule.is_open(now) {
            return None;
        }
        let closed = format!("{BUILTIN}after_hours");
        let nodes = match settings.after_hours {
            AfterHours::Voicemail => json!({
                "closed": {"type": "play", "prompts": [closed], "next": "message"},
                "message": {"type": "voicemail", "queue_id": queue.as_str()}
            }),
            AfterHours::Callback => json!({
                "closed": {"type": "play", "prompts": [closed], "next": "offer"},
                "offer": {"type": "callback", "queue_id": queue.as_str()}
            }),
            AfterHours::Hangup => json!({"closed": {"type": "hangup", "prompts": [closed]}}),
        };
        let flow = serde_json::from_value(json!({"start": "closed", "nodes": nodes})).ok()?;
        Some(Arc::new(EntryPoint {
            id: String::new(),
            name: format!("after hours of {queue}"),
            numbers: Vec::new(),
            language: settings.language.clone(),
            answer: if settings.after_hours == AfterHours::Hangup {
                AnswerMode::Early
            } else {
                AnswerMode::Answer
            },
            flow,
            created_at: now,
            updated_at: now,
        }))
    }

    /// The flow sends the call to a queue: from here on it is any queued call (unless the
    /// queue is closed: then its after-hours flow goes on).
    fn flow_to_queue(
        &mut self,
        call_id: &CallId,
        queue: QueueId,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        if let Some(closed) = self.after_hours(&queue, now)
            && let Some(run) = self.calls.get_mut(call_id).and_then(|c| c.flow.as_mut())
        {
            let start = closed.flow.start.clone();
            run.entry = closed;
            let detail = json!({"queue_id": queue.as_str(), "open": false});
            out.push(event(call_id, Kind::Hours, None, detail, now));
            return self.enter(call_id, &start, now, out);
        }
        let settings = self.queues.get(&queue).cloned().unwrap_or_default();
        let Some(call) = self.calls.get_mut(call_id) else { return };
        call.flow = None;
        call.queue = Some(queue.clone());
        call.record = settings.record;
        self.queued(call_id, now);
        out.push(Effect::PlayWaiting { call_id: call_id.clone(), sound: settings.sound });
        out.push(Effect::Log(Write::Queued {
            call_id: call_id.to_string(),
            queue_id: queue.to_string(),
            at: now,
        }));
        self.enqueue(call_id, queue, now, out);
    }

    /// The flow ends the call.
    fn hang_up(&mut self, call_id: &CallId, now: EpochMs, out: &mut Vec<Effect>) {
        let reason = self.flow_end_reason(call_id);
        if self.remove(call_id, out).is_some() {
            out.push(Effect::Release { call_id: call_id.clone(), code: 480 });
            out.push(ended(call_id, now, reason, 0));
        }
    }

    fn next_play(&mut self) -> u64 {
        self.plays += 1;
        self.plays
    }
}
