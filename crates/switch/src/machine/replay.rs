//! The machine's test harness: a small executor that answers effects the way the switch does
//! when the edge and the phones do what they are asked (or, where a test says so, fail), a
//! clock that jumps from deadline to deadline, and questions about what was done.

use std::collections::HashSet;

use switchboard_core::acd::{CallCenter, QueueConfig, Strategy};

use super::*;

pub(super) const RING: i64 = 20_000;
pub(super) const MAX_WAIT: i64 = 120_000;
pub(super) const WRAP: i64 = 5_000;

/// The machine and everything it has asked for.
pub(super) struct Replay {
    pub machine: CallMachine,
    pub now: EpochMs,
    /// Every effect carried out, in order.
    pub done: Vec<Effect>,
    /// Agents whose phone cannot be rung.
    pub unreachable: HashSet<&'static str>,
}

impl Replay {
    /// `anna` (of `sales`, `others` logged in before her) talking on `c1`.
    pub(super) fn talking(others: &[(&str, &str)]) -> Replay {
        let mut r = Replay::new();
        r.login("anna", "sales");
        for (agent, queue) in others {
            r.login(agent, queue);
        }
        r.arrive("c1", "sales");
        r.answer("c1", "anna");
        r
    }

    pub(super) fn new() -> Replay {
        let mut machine = CallMachine::new(Box::new(CallCenter::new()));
        for (id, strategy) in [("sales", Strategy::LongestIdle), ("support", Strategy::RingAll)] {
            let config = QueueConfig {
                id: id.into(),
                strategy,
                ring_timeout_ms: RING,
                max_wait_ms: MAX_WAIT,
                wrap_up_ms: WRAP,
                skills: Default::default(),
            };
            machine.set_queue(config, QueueSettings::default());
        }
        Replay { machine, now: 1_000, done: Vec::new(), unreachable: HashSet::new() }
    }

    /// Hands the machine an input at the current time and carries out its effects.
    pub(super) fn input(&mut self, input: CallInput) -> Result<(), SwitchError> {
        let effects = self.machine.handle(input, self.now)?;
        self.carry_out(effects);
        Ok(())
    }

    pub(super) fn carry_out(&mut self, effects: Vec<Effect>) {
        let mut queue = std::collections::VecDeque::from(effects);
        while let Some(effect) = queue.pop_front() {
            let answer = match &effect {
                Effect::Ring { call_id, agent_id, .. } => Some(CallInput::Rung {
                    call_id: call_id.clone(),
                    agent_id: agent_id.clone(),
                    result: if self.unreachable.contains(agent_id.as_str()) {
                        Err("unreachable".into())
                    } else {
                        Ok(())
                    },
                }),
                Effect::Connect { call_id, agent_id, .. } => Some(CallInput::Bridged {
                    call_id: call_id.clone(),
                    agent_id: agent_id.clone(),
                    result: Ok(()),
                }),
                Effect::ConnectNumber { call_id, leg } => Some(CallInput::NumberBridged {
                    call_id: call_id.clone(),
                    leg: leg.clone(),
                    result: Ok(()),
                }),
                Effect::Dial { call_id, .. } => {
                    Some(CallInput::Dialed { call_id: call_id.clone(), result: Ok(()) })
                }
                Effect::StartRecording { call_id } | Effect::RecordMessage { call_id, .. } => {
                    Some(CallInput::Recorded {
                        call_id: call_id.clone(),
                        path: format!("{call_id}.wav"),
                    })
                }
                _ => None,
            };
            self.done.push(effect);
            if let Some(answer) = answer {
                let more = self.machine.handle(answer, self.now).expect("answers are taken");
                for effect in more.into_iter().rev() {
                    queue.push_front(effect);
                }
            }
        }
    }

    /// Lets time pass to `at`, firing every deadline on the way at its own time.
    pub(super) fn until(&mut self, at: EpochMs) {
        while let Some(due) = self.machine.next_deadline().filter(|d| *d <= at) {
            self.now = due.max(self.now);
            let effects = self.machine.tick(self.now);
            self.carry_out(effects);
        }
        self.now = at;
    }

    pub(super) fn login(&mut self, agent: &str, queue: &str) {
        let reach = Reach {
            phone: Some(format!("ext:{agent}")),
            queues: vec![queue.into()],
            ..Reach::default()
        };
        let target = AgentTarget::Available;
        self.input(CallInput::SetState { agent_id: agent.into(), target, reach }).unwrap();
        self.now += 10;
    }

    pub(super) fn arrive(&mut self, call: &str, queue: &str) {
        self.input(CallInput::Arrived {
            call_id: call.into(),
            from: "+79161234567".into(),
            to: "100".into(),
            queue: queue.into(),
            origin: "trunk".into(),
            record: true,
            waiting: true,
        })
        .unwrap();
    }

    /// A call comes in at an entry point with this flow (answered at once, in Russian).
    pub(super) fn enter(&mut self, call: &str, flow: serde_json::Value) {
        let entry = switchboard_core::flow::EntryPoint {
            id: "ep1".into(),
            name: "Main line".into(),
            numbers: vec!["200".into()],
            language: "ru".into(),
            answer: switchboard_core::flow::AnswerMode::Answer,
            flow: serde_json::from_value(flow).expect("a flow"),
            created_at: 0,
            updated_at: 0,
        };
        self.input(CallInput::Entered {
            call_id: call.into(),
            from: "+79161234567".into(),
            to: "200".into(),
            origin: "trunk".into(),
            entry: std::sync::Arc::new(entry),
        })
        .unwrap();
    }

    /// The prompts played to a call so far, each with its id.
    pub(super) fn played(&self, call: &str) -> Vec<(Vec<String>, u64)> {
        self.done
            .iter()
            .filter_map(|e| match e {
                Effect::Play { call_id, prompts, id, .. } if call_id.as_str() == call => {
                    Some((prompts.clone(), *id))
                }
                _ => None,
            })
            .collect()
    }

    /// The last prompts played to a call end.
    pub(super) fn sound_done(&mut self, call: &str) {
        let (_, id) = self.played(call).pop().expect("prompts were played");
        self.input(CallInput::SoundDone { call_id: call.into(), id }).unwrap();
    }

    pub(super) fn key(&mut self, call: &str, digit: char) {
        self.input(CallInput::Dtmf { call_id: call.into(), by: Party::Caller, digit }).unwrap();
    }

    pub(super) fn answer(&mut self, call: &str, agent: &str) {
        self.input(CallInput::PhoneAnswered { call_id: call.into(), agent_id: agent.into() })
            .unwrap();
    }

    pub(super) fn transfer(&mut self, call: &str, agent: &str, to: Transfer) {
        self.input(CallInput::Transfer { call_id: call.into(), agent_id: agent.into(), to })
            .unwrap();
    }

    pub(super) fn edge_ended(&mut self, call: &str, by: EndedBy) {
        self.input(CallInput::Ended { call_id: call.into(), by }).unwrap();
    }

    /// Forgets what was done so far (the next assertions are about what follows).
    pub(super) fn clear(&mut self) {
        self.done.clear();
    }

    /// The agents rung, in order.
    pub(super) fn rung(&self) -> Vec<(String, String)> {
        self.done
            .iter()
            .filter_map(|e| match e {
                Effect::Ring { call_id, agent_id, .. } => {
                    Some((call_id.to_string(), agent_id.to_string()))
                }
                _ => None,
            })
            .collect()
    }

    /// Legs that stopped ringing, in order.
    pub(super) fn cancelled(&self) -> Vec<String> {
        self.done
            .iter()
            .filter_map(|e| match e {
                Effect::CancelRing { leg, .. } => Some(leg.clone()),
                _ => None,
            })
            .collect()
    }

    /// How the call log says the call ended (reason, hold time), if it did.
    pub(super) fn ended(&self, call: &str) -> Option<(EndReason, i64)> {
        self.done.iter().find_map(|e| match e {
            Effect::Log(Write::Ended { call_id, reason, hold_ms, .. }) if call_id == call => {
                Some((*reason, *hold_ms))
            }
            _ => None,
        })
    }

    pub(super) fn released(&self, call: &str) -> Option<u16> {
        self.done.iter().find_map(|e| match e {
            Effect::Release { call_id, code } if call_id.as_str() == call => Some(*code),
            _ => None,
        })
    }

    pub(super) fn missed(&self, call: &str) -> Option<EndReason> {
        self.done.iter().find_map(|e| match e {
            Effect::Log(Write::Missed(m)) if m.call_id == call => Some(m.reason),
            _ => None,
        })
    }

    pub(super) fn events(&self, call: &str) -> Vec<Kind> {
        self.done
            .iter()
            .filter_map(|e| match e {
                Effect::Log(Write::Event { call_id, kind, .. }) if call_id == call => Some(*kind),
                _ => None,
            })
            .collect()
    }

    pub(super) fn told(&self, agent: &str) -> Vec<&AgentMessage> {
        self.done
            .iter()
            .filter_map(|e| match e {
                Effect::Tell { agent_id, message } if agent_id.as_str() == agent => Some(message),
                _ => None,
            })
            .collect()
    }

    pub(super) fn count(&self, matches: impl Fn(&Effect) -> bool) -> usize {
        self.done.iter().filter(|e| matches(e)).count()
    }

    pub(super) fn state(&self, agent: &str) -> &'static str {
        self.machine.agent_state(agent).name()
    }
}

pub(super) fn forgotten(call: &str) -> impl Fn(&Effect) -> bool + '_ {
    move |e| matches!(e, Effect::Forget { call_id } if call_id.as_str() == call)
}

pub(super) fn recording_started(e: &Effect) -> bool {
    matches!(e, Effect::StartRecording { .. })
}
