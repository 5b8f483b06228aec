//! Call flows: what a caller hears and can do before an agent answers, as data.
//!
//! A [`Flow`] is a small graph of named [`Node`]s an entry point (a called number) starts
//! at: play prompts, offer a menu of keys, send the caller to a queue, hang up. The call
//! machine runs it; this module only says what a flow is and whether one is sound
//! ([`Flow::validate`]): every branch leads to a node that exists, every key is a key, every
//! queue and prompt is known, and no loop can go round without the caller pressing a key.
//!
//! Prompts are referred to as `builtin:<key>` (the phrases that ship with the gateway, in the
//! entry point's language) or by a stored prompt's id.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// The prefix of a built-in prompt's reference.
pub const BUILTIN: &str = "builtin:";

/// A call flow: its nodes by name, and the one calls start at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// The node a call starts at.
    pub start: String,
    /// Every node, by name.
    pub nodes: BTreeMap<String, Node>,
}

fn default_timeout_s() -> u32 {
    5
}

fn default_retries() -> u32 {
    2
}

fn default_invalid() -> Vec<String> {
    vec![format!("{BUILTIN}invalid_choice")]
}

fn default_voicemail() -> Vec<String> {
    vec![format!("{BUILTIN}voicemail")]
}

fn default_callback_offer() -> Vec<String> {
    vec![format!("{BUILTIN}callback_offer_closed")]
}

fn default_agent_ring_s() -> u32 {
    20
}

fn default_forward_ring_s() -> u32 {
    30
}

fn default_max_s() -> u32 {
    120
}

fn default_silence_s() -> u32 {
    5
}

/// One step of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Node {
    /// Plays prompts one after another, then goes on.
    Play {
        /// What is played, in order.
        prompts: Vec<String>,
        /// Where the call goes next.
        next: String,
    },
    /// Plays prompts and waits for a key; keys pressed during the prompts count (type-ahead).
    Menu {
        /// What is played before waiting.
        prompts: Vec<String>,
        /// Where each key leads (`"0"`-`"9"`, `"*"`, `"#"`).
        choices: BTreeMap<String, String>,
        /// How long to wait for a key after the prompts.
        #[serde(default = "default_timeout_s")]
        timeout_s: u32,
        /// How many more times the menu is offered after no key or a wrong one.
        #[serde(default = "default_retries")]
        retries: u32,
        /// Played after a key that leads nowhere, before the menu again.
        #[serde(default = "default_invalid")]
        invalid_prompts: Vec<String>,
        /// Where the call goes when the retries are used up.
        on_fail: String,
    },
    /// The caller waits in a queue for an agent.
    Queue {
        /// The queue's id.
        queue_id: String,
    },
    /// Rings one agent alone for a while, then the queue's agents (the caller waits in the
    /// queue from the start).
    Agent {
        /// The agent's user id.
        agent_id: String,
        /// How long they ring alone, in seconds.
        #[serde(default = "default_agent_ring_s")]
        ring_s: u32,
        /// The queue the call waits in, and whose agents get it after.
        queue_id: String,
    },
    /// Goes one way while the call center is open by a schedule, another way when it is
    /// closed.
    Hours {
        /// The schedule's id.
        schedule_id: String,
        /// Where the call goes while open.
        open: String,
        /// Where it goes while closed.
        closed: String,
    },
    /// Plays prompts (the beep's invitation), records what the caller says until they stop
    /// talking, hang up or the time is up, and leaves it as a callback task for a queue's
    /// agents; then hangs up.
    Voicemail {
        /// What is played first.
        #[serde(default = "default_voicemail")]
        prompts: Vec<String>,
        /// The queue whose agents get the callback task.
        queue_id: String,
        /// The longest message, in seconds.
        #[serde(default = "default_max_s")]
        max_s: u32,
        /// Seconds of silence that end the message (0: only the caller or the time ends it).
        #[serde(default = "default_silence_s")]
        silence_s: u32,
    },
    /// Offers to call the caller back later (1, then their number confirmed or another typed):
    /// a callback task for the queue's agents stands for it, due when the queue's business
    /// hours next open; then goodbye. No key: goodbye.
    Callback {
        /// The offer.
        #[serde(default = "default_callback_offer")]
        prompts: Vec<String>,
        /// The queue whose agents call back.
        queue_id: String,
    },
    /// Rings a number outside the call center through the trunk (the caller hears ringback)
    /// and connects the caller to it when it answers; the call then leaves the call center
    /// (no queue, no agent). Busy, refused or not answered in time: `on_fail`.
    Forward {
        /// The number, in international form (`+7 495 123-45-67`).
        number: String,
        /// How long it rings, in seconds.
        #[serde(default = "default_forward_ring_s")]
        ring_s: u32,
        /// Where the call goes when the number is not reached.
        on_fail: String,
    },
    /// Plays prompts, then hangs up.
    Hangup {
        /// What is played first (may be empty).
        #[serde(default)]
        prompts: Vec<String>,
    },
}

impl Node {
    /// The nodes this one can lead to, with the field that names each.
    pub fn branches(&self) -> Vec<(String, &str)> {
        match self {
            Node::Play { next, .. } => vec![("next".into(), next.as_str())],
            Node::Menu { choices, on_fail, .. } => choices
                .iter()
                .map(|(key, to)| (format!("choices.{key}"), to.as_str()))
                .chain(std::iter::once(("on_fail".to_owned(), on_fail.as_str())))
                .collect(),
            Node::Hours { open, closed, .. } => {
                vec![("open".into(), open.as_str()), ("closed".into(), closed.as_str())]
            }
            Node::Forward { on_fail, .. } => vec![("on_fail".into(), on_fail.as_str())],
            Node::Queue { .. }
            | Node::Hangup { .. }
            | Node::Voicemail { .. }
            | Node::Callback { .. }
            | Node::Agent { .. } => Vec::new(),
        }
    }

    /// The branches taken without the caller pressing a key.
    fn unattended(&self) -> Vec<&str> {
        match self {
            Node::Play { next, .. } => vec![next.as_str()],
            Node::Menu { on_fail, .. } => vec![on_fail.as_str()],
            Node::Hours { open, closed, .. } => vec![open.as_str(), closed.as_str()],
            Node::Forward { on_fail, .. } => vec![on_fail.as_str()],
            Node::Queue { .. }
            | Node::Hangup { .. }
            | Node::Voicemail { .. }
            | Node::Callback { .. }
            | Node::Agent { .. } => Vec::new(),
        }
    }

    fn prompts(&self) -> Vec<(&'static str, &str)> {
        match self {
            Node::Play { prompts, .. }
            | Node::Hangup { prompts }
            | Node::Voicemail { prompts, .. }
            | Node::Callback { prompts, .. } => {
                prompts.iter().map(|p| ("prompts", p.as_str())).collect()
            }
            Node::Menu { prompts, invalid_prompts, .. } => prompts
                .iter()
                .map(|p| ("prompts", p.as_str()))
                .chain(invalid_prompts.iter().map(|p| ("invalid_prompts", p.as_str())))
                .collect(),
            Node::Queue { .. } | Node::Hours { .. } | Node::Agent { .. } | Node::Forward { .. } => {
                Vec::new()
            }
        }
    }
}

/// What exists, for [`Flow::validate`]: queues, stored prompts, built-in prompts' keys and
/// schedules.
pub struct Known<'a> {
    /// Whether a queue id exists.
    pub queue: &'a dyn Fn(&str) -> bool,
    /// Whether a stored prompt's id exists.
    pub prompt: &'a dyn Fn(&str) -> bool,
    /// Whether a built-in prompt's key exists.
    pub builtin: &'a dyn Fn(&str) -> bool,
    /// Whether a schedule's id exists.
    pub schedule: &'a dyn Fn(&str) -> bool,
    /// Whether a user (an agent) exists.
    pub agent: &'a dyn Fn(&str) -> bool,
}

/// One thing wrong with a flow: where (`nodes.<name>.<field>` or `start`) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FlowProblem {
    /// Where: `start`, `nodes`, or `nodes.<name>.<field>`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// The most nodes one flow may have.
pub const MAX_NODES: usize = 200;

impl Flow {
    /// Every problem with the flow, given which queues, prompts and schedules exist
    /// (`builtin:` prompts are checked against the built-in keys). Empty when it is sound.
    pub fn validate(&self, known: &Known<'_>) -> Vec<FlowProblem> {
        let mut problems = Vec::new();
        let mut problem = |field: String, message: String| {
            problems.push(FlowProblem { field, message });
        };
        if self.nodes.is_empty() {
            problem("nodes".into(), "a flow needs at least one node".into());
        }
        if self.nodes.len() > MAX_NODES {
            problem("nodes".into(), format!("at most {MAX_NODES} nodes"));
        }
        if !self.nodes.contains_key(&self.start) {
            problem("start".into(), format!("no node named {:?}", self.start));
        }
        for (name, node) in &self.nodes {
            let at = |field: &str| format!("nodes.{name}.{field}");
            if name.trim().is_empty() || name.chars().count() > 64 {
                problem(format!("nodes.{name}"), "a node's name is 1 to 64 characters".into());
            }
            for (field, target) in node.branches() {
                if !self.nodes.contains_key(target) {
                    problem(at(&field), format!("leads to {target:?}, which is not a node"));
                }
            }
            for (field, prompt) in node.prompts() {
                let exists = match prompt.strip_prefix(BUILTIN) {
                    Some(key) => (known.builtin)(key),
                    None => (known.prompt)(prompt),
                };
                if !exists {
                    problem(at(field), format!("no prompt {prompt:?}"));
                }
            }
            match node {
                Node::Menu { choices, timeout_s, retries, .. } => {
                    if choices.is_empty() {
                        problem(at("choices"), "a menu needs at least one key".into());
                    }
                    for key in choices.keys() {
                        if !is_key(key) {
                            problem(
                                at(&format!("choices.{key}")),
                                "not a key (0-9, * or #)".into(),
                            );
                        }
                    }
                    if !(1..=60).contains(timeout_s) {
                        problem(at("timeout_s"), "1 to 60 seconds".into());
                    }
                    if *retries > 9 {
                        problem(at("retries"), "at most 9".into());
                    }
                }
                Node::Queue { queue_id } | Node::Callback { queue_id, .. }
                    if !(known.queue)(queue_id) =>
                {
                    problem(at("queue_id"), format!("no queue {queue_id:?}"));
                }
                Node::Agent { agent_id, ring_s, queue_id } => {
                    if !(known.agent)(agent_id) {
                        problem(at("agent_id"), format!("no agent {agent_id:?}"));
                    }
                    if !(known.queue)(queue_id) {
                        problem(at("queue_id"), format!("no queue {queue_id:?}"));
                    }
                    if !(5..=300).contains(ring_s) {
                        problem(at("ring_s"), "5 to 300 seconds".into());
                    }
                }
                Node::Hours { schedule_id, .. } if !(known.schedule)(schedule_id) => {
                    problem(at("schedule_id"), format!("no schedule {schedule_id:?}"));
                }
                Node::Voicemail { queue_id, max_s, silence_s, .. } => {
                    if !(known.queue)(queue_id) {
                        problem(at("queue_id"), format!("no queue {queue_id:?}"));
                    }
                    if !(5..=600).contains(max_s) {
                        problem(at("max_s"), "5 to 600 seconds".into());
                    }
                    if *silence_s > 60 {
                        problem(at("silence_s"), "at most 60 seconds".into());
                    }
                }
                Node::Forward { number, ring_s, .. } => {
                    let international = number.trim_start().starts_with('+')
                        && crate::phone::PhoneNumber::parse(number, crate::phone::Region::RU)
                            .is_ok();
                    if !international {
                        problem(
                            at("number"),
                            "an international number, with + and the country code".into(),
                        );
                    }
                    if !(5..=300).contains(ring_s) {
                        problem(at("ring_s"), "5 to 300 seconds".into());
                    }
                }
                Node::Play { prompts, .. } if prompts.is_empty() => {
                    problem(at("prompts"), "nothing to play".into());
                }
                _ => {}
            }
        }
        if let Some(cycle) = self.unattended_loop() {
            problem(
                format!("nodes.{}", cycle[0]),
                format!("loops without the caller pressing a key: {}", cycle.join(" -> ")),
            );
        }
        problems
    }

    /// A loop the call can go round forever with no key pressed (through `Play.next` and
    /// `Menu.on_fail`), as the names along it.
    fn unattended_loop(&self) -> Option<Vec<String>> {
        // Depth-first search for a back edge, over the branches that need no key.
        let mut done: HashSet<&str> = HashSet::new();
        for root in self.nodes.keys() {
            let mut path: Vec<&str> = Vec::new();
            let mut on_path: HashMap<&str, usize> = HashMap::new();
            let mut stack: Vec<(&str, usize)> = vec![(root.as_str(), 0)];
            while let Some((name, next_child)) = stack.pop() {
                if next_child == 0 {
                    if done.contains(name) {
                        continue;
                    }
                    on_path.insert(name, path.len());
                    path.push(name);
                }
                let children = self.nodes.get(name).map(Node::unattended).unwrap_or_default();
                if let Some(child) = children.get(next_child) {
                    stack.push((name, next_child + 1));
                    if let Some(&at) = on_path.get(child) {
                        let mut cycle: Vec<String> =
                            path[at..].iter().map(|s| (*s).to_owned()).collect();
                        cycle.push((*child).to_owned());
                        return Some(cycle);
                    }
                    if self.nodes.contains_key(*child) && !done.contains(child) {
                        stack.push((child, 0));
                    }
                } else {
                    on_path.remove(name);
                    path.pop();
                    done.insert(name);
                }
            }
        }
        None
    }

    /// The queues the flow sends calls (and messages) to.
    pub fn queues(&self) -> Vec<&str> {
        let mut queues: Vec<&str> = self
            .nodes
            .values()
            .filter_map(|n| match n {
                Node::Queue { queue_id }
                | Node::Voicemail { queue_id, .. }
                | Node::Callback { queue_id, .. }
                | Node::Agent { queue_id, .. } => Some(queue_id.as_str()),
                _ => None,
            })
            .collect();
        queues.sort_unstable();
        queues.dedup();
        queues
    }
}

/// Whether `key` is one key of a phone's keypad.
pub fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!((chars.next(), chars.next()), (Some('0'..='9' | '*' | '#'), None))
}

/// How a caller is answered while the flow plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerMode {
    /// 183 Session Progress with early media: the call is answered (and billed) only when
    /// an agent answers. Some carriers drop keys pressed before the answer.
    Early,
    /// 200 OK at once: keys always reach us; the caller pays from the first second.
    #[default]
    Answer,
}

/// Where calls enter: the numbers that start a flow, its language and how callers are
/// answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EntryPoint {
    /// Row id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Called numbers (or SIP users) that start this flow; each belongs to one entry point
    /// and no queue.
    pub numbers: Vec<String>,
    /// The language of the built-in prompts: "ru" or "en".
    pub language: String,
    /// How the caller is answered while the flow plays.
    pub answer: AnswerMode,
    /// What the caller hears and can do.
    pub flow: Flow,
    /// When it was created.
    pub created_at: crate::EpochMs,
    /// When it last changed.
    pub updated_at: crate::EpochMs,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(json: serde_json::Value) -> Flow {
        serde_json::from_value(json).unwrap()
    }

    fn check(flow: &Flow) -> Vec<FlowProblem> {
        flow.validate(&Known {
            queue: &|q| q == "sales" || q == "support",
            prompt: &|p| p == "p1",
            builtin: &|k| k == "greeting" || k == "invalid_choice" || k == "voicemail",
            schedule: &|s| s == "office",
            agent: &|a| a == "olga",
        })
    }

    fn menu() -> Flow {
        flow(serde_json::json!({
            "start": "hello",
            "nodes": {
                "hello": {"type": "play", "prompts": ["builtin:greeting"], "next": "menu"},
                "menu": {"type": "menu", "prompts": ["p1"],
                         "choices": {"1": "sales", "2": "support", "0": "menu"},
                         "on_fail": "sales"},
                "sales": {"type": "queue", "queue_id": "sales"},
                "support": {"type": "queue", "queue_id": "support"}
            }
        }))
    }

    #[test]
    fn a_menu_of_queues_is_sound_and_gets_the_defaults() {
        let f = menu();
        assert_eq!(check(&f), vec![]);
        let Node::Menu { timeout_s, retries, invalid_prompts, .. } = &f.nodes["menu"] else {
            panic!("a menu")
        };
        assert_eq!((*timeout_s, *retries), (5, 2));
        assert_eq!(invalid_prompts, &["builtin:invalid_choice"]);
        assert_eq!(f.queues(), ["sales", "support"]);
        // A key that leads back to the same menu is a loop the caller chooses: allowed.
    }

    #[test]
    fn dangling_branches_unknown_queues_prompts_and_keys_are_named() {
        let mut f = menu();
        f.start = "nowhere".into();
        f.nodes.insert(
            "menu".into(),
            flow(serde_json::json!({"start": "m", "nodes": {"m": {
                "type": "menu", "prompts": ["p2", "builtin:nope"],
                "choices": {"12": "sales", "3": "gone"}, "on_fail": "sales", "timeout_s": 0
            }}}))
            .nodes["m"]
                .clone(),
        );
        f.nodes.insert("sales".into(), Node::Queue { queue_id: "deleted".into() });
        let fields: Vec<String> = check(&f).into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "start",
                "nodes.menu.choices.3",
                "nodes.menu.prompts",
                "nodes.menu.prompts",
                "nodes.menu.choices.12",
                "nodes.menu.timeout_s",
                "nodes.sales.queue_id",
            ]
        );
    }

    #[test]
    fn a_loop_without_a_key_is_refused_and_one_through_a_key_is_not() {
        let looping = flow(serde_json::json!({
            "start": "a",
            "nodes": {
                "a": {"type": "play", "prompts": ["p1"], "next": "b"},
                "b": {"type": "menu", "prompts": ["p1"], "choices": {"1": "q"}, "on_fail": "a"},
                "q": {"type": "queue", "queue_id": "sales"}
            }
        }));
        let problems = check(&looping);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("a -> b -> a"), "{}", problems[0].message);
        let to_itself = flow(serde_json::json!({
            "start": "a", "nodes": {"a": {"type": "play", "prompts": ["p1"], "next": "a"}}
        }));
        assert!(check(&to_itself)[0].message.contains("a -> a"));
        // A key leading back is fine (the caller chose), so is a chain that ends.
        assert_eq!(check(&menu()), vec![]);
        let empty = Flow { start: "x".into(), nodes: BTreeMap::new() };
        assert_eq!(check(&empty).len(), 2);
    }

    #[test]
    fn hours_and_voicemail_are_checked() {
        let f = flow(serde_json::json!({
            "start": "when",
            "nodes": {
                "when": {"type": "hours", "schedule_id": "office", "open": "q", "closed": "vm"},
                "vm": {"type": "voicemail", "queue_id": "sales"},
                "q": {"type": "queue", "queue_id": "sales"}
            }
        }));
        assert_eq!(check(&f), vec![]);
        let Node::Voicemail { prompts, max_s, silence_s, .. } = &f.nodes["vm"] else {
            panic!("voicemail")
        };
        assert_eq!(
            (prompts.as_slice(), *max_s, *silence_s),
            (&["builtin:voicemail".to_owned()][..], 120, 5)
        );
        assert_eq!(f.queues(), ["sales"]);
        let bad = flow(serde_json::json!({
            "start": "when",
            "nodes": {
                "when": {"type": "hours", "schedule_id": "gone", "open": "when", "closed": "vm"},
                "vm": {"type": "voicemail", "queue_id": "deleted", "max_s": 1, "silence_s": 61}
            }
        }));
        let fields: Vec<String> = check(&bad).into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "nodes.vm.queue_id",
                "nodes.vm.max_s",
                "nodes.vm.silence_s",
                "nodes.when.schedule_id",
                "nodes.when",
            ]
        );
    }

    #[test]
    fn a_forward_step_names_an_international_number_and_a_way_out() {
        let f = flow(serde_json::json!({
            "start": "out",
            "nodes": {
                "out": {"type": "forward", "number": "+7 495 123-45-67", "on_fail": "bye"},
                "bye": {"type": "hangup"}
            }
        }));
        assert_eq!(check(&f), vec![]);
        let Node::Forward { ring_s, .. } = &f.nodes["out"] else { panic!("forward") };
        assert_eq!(*ring_s, 30);
        let bad = flow(serde_json::json!({
            "start": "out",
            "nodes": {
                "out": {"type": "forward", "number": "8 495 123-45-67", "ring_s": 2, "on_fail": "out"}
            }
        }));
        let fields: Vec<String> = check(&bad).into_iter().map(|p| p.field).collect();
        // A number that fails and tries itself again would ring forever with no key.
        assert_eq!(fields, ["nodes.out.number", "nodes.out.ring_s", "nodes.out"]);
    }

    #[test]
    fn an_agent_step_names_an_agent_and_a_queue() {
        let f = flow(serde_json::json!({"start": "a", "nodes": {
            "a": {"type": "agent", "agent_id": "olga", "queue_id": "sales"}}}));
        assert_eq!(check(&f), vec![]);
        let Node::Agent { ring_s, .. } = &f.nodes["a"] else { panic!("agent") };
        assert_eq!(*ring_s, 20);
        let bad = flow(serde_json::json!({"start": "a", "nodes": {
            "a": {"type": "agent", "agent_id": "nobody", "queue_id": "gone", "ring_s": 1}}}));
        let fields: Vec<String> = check(&bad).into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["nodes.a.agent_id", "nodes.a.queue_id", "nodes.a.ring_s"]);
    }

    #[test]
    fn unknown_fields_and_node_types_do_not_parse() {
        let bad = serde_json::json!({"start": "a", "nodes": {"a": {"type": "dance"}}});
        assert!(serde_json::from_value::<Flow>(bad).is_err());
        let extra = serde_json::json!({"start": "a", "nodes": {"a": {"type": "hangup", "x": 1}}});
        assert!(serde_json::from_value::<Flow>(extra).is_err());
        assert!(is_key("#") && is_key("0") && !is_key("") && !is_key("10") && !is_key("a"));
    }
}
