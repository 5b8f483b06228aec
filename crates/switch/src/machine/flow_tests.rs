//! Call flows replayed through the machine: prompts, menus with type-ahead, wrong keys and
//! silence, retries, the queue at the end, hang-ups in the flow; no sockets, no sleeps.

use serde_json::json;

use super::replay::Replay;
use super::*;

fn menu_flow() -> serde_json::Value {
    json!({
        "start": "notice",
        "nodes": {
            "notice": {"type": "play", "prompts": ["builtin:recording_notice"], "next": "menu"},
            "menu": {"type": "menu", "prompts": ["menu-prompt"], "timeout_s": 5, "retries": 1,
                     "choices": {"1": "sales", "2": "support"}, "on_fail": "bye"},
            "sales": {"type": "queue", "queue_id": "sales"},
            "support": {"type": "queue", "queue_id": "support"},
            "bye": {"type": "hangup", "prompts": ["builtin:goodbye"]}
        }
    })
}

pub(super) fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_notice_plays_then_the_menu_and_a_key_sends_the_call_to_its_queue() {
    let mut r = Replay::new();
    r.login("boris", "support");
    r.enter("c1", menu_flow());
    assert!(r.done.iter().any(|e| matches!(e, Effect::StartFlow { answer: true, .. })));
    assert_eq!(r.played("c1").len(), 1);
    assert_eq!(r.played("c1")[0].0, strings(&["builtin:recording_notice"]));
    assert!(r.rung().is_empty(), "nobody is rung while the flow plays");
    r.now += 4_000;
    r.sound_done("c1");
    assert_eq!(r.played("c1")[1].0, strings(&["menu-prompt"]));
    r.sound_done("c1");
    r.now += 1_500;
    r.key("c1", '2');
    assert_eq!(r.rung(), [("c1".into(), "boris".into())]);
    assert!(r.done.iter().any(|e| matches!(e, Effect::PlayWaiting { .. })), "the queue's sound");
    let queued = r.done.iter().find_map(|e| match e {
        Effect::Log(Write::Queued { queue_id, at, .. }) => Some((queue_id.clone(), *at)),
        _ => None,
    });
    assert_eq!(queued, Some(("support".into(), r.now)), "the wait starts here");
    let created = r.done.iter().find_map(|e| match e {
        Effect::Log(Write::Create(new)) => Some(new.queue_id.clone()),
        _ => None,
    });
    assert_eq!(created, Some(None), "no queue while in the flow");
    assert_eq!(r.events("c1")[..2], [Kind::Flow, Kind::Dtmf]);
    // From here it is any queued call.
    r.answer("c1", "boris");
    assert_eq!(r.state("boris"), "on_call");
}

#[test]
fn keys_pressed_during_a_prompt_are_kept_for_the_menu() {
    let mut r = Replay::new();
    r.login("anna", "sales");
    r.enter("c1", menu_flow());
    // The caller knows the menu: '1' during the notice.
    r.key("c1", '1');
    assert!(r.rung().is_empty());
    r.sound_done("c1");
    assert_eq!(r.rung(), [("c1".into(), "anna".into())], "used as soon as the menu starts");
}

#[test]
fn a_wrong_key_plays_the_invalid_prompt_and_the_menu_again_then_silence_ends_it() {
    let mut r = Replay::new();
    r.enter("c1", menu_flow());
    r.sound_done("c1");
    r.sound_done("c1");
    r.key("c1", '7');
    let again = r.played("c1").pop().unwrap().0;
    assert_eq!(again, strings(&["builtin:invalid_choice", "menu-prompt"]));
    assert!(r.events("c1").contains(&Kind::MenuChoice));
    // A late end of the earlier prompt changes nothing.
    let stale = r.played("c1")[1].1;
    r.input(CallInput::SoundDone { call_id: "c1".into(), id: stale }).unwrap();
    assert_eq!(r.machine.next_deadline(), None, "still playing the menu again");
    r.sound_done("c1");
    let waiting_from = r.now;
    assert_eq!(r.machine.next_deadline(), Some(waiting_from + 5_000));
    r.clear();
    r.until(waiting_from + 4_999);
    assert!(r.done.is_empty());
    // No key in time, and the one retry is used: the flow says goodbye and hangs up.
    r.until(waiting_from + 5_000);
    assert_eq!(r.events("c1"), [Kind::MenuTimeout]);
    assert_eq!(r.played("c1").pop().unwrap().0, strings(&["builtin:goodbye"]));
    assert_eq!(r.released("c1"), None, "after the goodbye");
    r.sound_done("c1");
    assert_eq!(r.released("c1"), Some(480));
    assert_eq!(r.ended("c1"), Some((EndReason::InFlow, 0)));
}

#[test]
fn a_caller_who_hangs_up_in_the_flow_is_offered_to_no_queue() {
    let mut r = Replay::new();
    r.login("anna", "sales");
    r.enter("c1", menu_flow());
    r.input(CallInput::Ended { call_id: "c1".into(), by: EndedBy::Caller }).unwrap();
    assert_eq!(r.ended("c1"), Some((EndReason::InFlow, 0)));
    assert!(r.missed("c1").is_none(), "no callback for leaving the menu");
    assert_eq!(r.count(forgotten_any), 1);
    assert_eq!(r.machine.next_deadline(), None);
    // Unanswered (early media): the same.
    r.enter("c2", menu_flow());
    r.input(CallInput::CallerGone { call_id: "c2".into() }).unwrap();
    assert_eq!(r.ended("c2"), Some((EndReason::InFlow, 0)));
    assert_eq!(r.state("anna"), "available");
}

fn forgotten_any(e: &Effect) -> bool {
    matches!(e, Effect::Forget { call_id } if call_id.as_str() == "c1")
}

#[test]
fn a_flow_that_leads_to_a_missing_node_or_loops_hangs_up_instead_of_spinning() {
    let mut r = Replay::new();
    r.enter(
        "c1",
        json!({"start": "a", "nodes": {"a": {"type": "play", "prompts": ["p"], "next": "gone"}}}),
    );
    r.sound_done("c1");
    assert_eq!(r.ended("c1"), Some((EndReason::InFlow, 0)));
    // A loop that validation would refuse, if it ever got here: bounded.
    r.enter(
        "c2",
        json!({"start": "a", "nodes": {"a": {"type": "play", "prompts": ["p"], "next": "a"}}}),
    );
    for _ in 0..100 {
        if r.ended("c2").is_some() {
            break;
        }
        r.sound_done("c2");
    }
    assert_eq!(r.ended("c2"), Some((EndReason::InFlow, 0)));
}

fn announced(r: &Replay, call: &str) -> Vec<Vec<String>> {
    r.done
        .iter()
        .filter_map(|e| match e {
            Effect::Announce { call_id, prompts, .. } if call_id.as_str() == call => {
                Some(prompts.clone())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn waiting_callers_hear_their_position_and_then_the_typical_wait_every_interval() {
    let mut r = Replay::new();
    let settings = QueueSettings {
        sound: Some("music".into()),
        announce_every_ms: 30_000,
        ..QueueSettings::default()
    };
    let config = |id: &str| switchboard_core::acd::QueueConfig {
        id: id.into(),
        strategy: switchboard_core::acd::Strategy::LongestIdle,
        ring_timeout_ms: super::replay::RING,
        max_wait_ms: 600_000,
        wrap_up_ms: 0,
        skills: Default::default(),
    };
    r.machine.set_queue(config("sales"), settings);
    r.arrive("c1", "sales");
    let sound = r.done.iter().find_map(|e| match e {
        Effect::PlayWaiting { sound, .. } => Some(sound.clone()),
        _ => None,
    });
    assert_eq!(sound, Some(Some("music".into())), "the queue's own sound");
    r.now += 5_000;
    r.arrive("c2", "sales");
    let start = r.now;
    r.until(start + 25_000);
    // c1 entered 5 s before c2: its first announcement came at 30 s, c2's not yet.
    assert_eq!(announced(&r, "c1"), [strings(&["builtin:position_1"])], "no answer yet: no wait");
    assert!(announced(&r, "c2").is_empty());
    r.until(start + 30_000);
    assert_eq!(announced(&r, "c2"), [strings(&["builtin:position_2"])]);
    // An agent answers c1 after 95 s of waiting: the typical wait is now 95 s, so c2 (now
    // first) hears "two minutes".
    r.now = start + 90_000;
    r.login("anna", "sales");
    r.answer("c1", "anna");
    r.clear();
    r.until(start + 120_000);
    assert_eq!(announced(&r, "c2"), [strings(&["builtin:position_1", "builtin:wait_2"])]);
    assert!(announced(&r, "c1").is_empty(), "nothing is announced to a call that is answered");
    assert_eq!(waiting::wait_prompt(30_000), "builtin:wait_less");
    assert_eq!(waiting::wait_prompt(20 * 60_000), "builtin:wait_more");
    assert_eq!(waiting::position_prompt(21), "builtin:position_more");
}

/// A card for the caller: one contact with this owner and custom fields.
fn card(owner: Option<&str>, custom: serde_json::Value) -> crate::card::ClientCard {
    let contact: switchboard_core::entity::Contact = serde_json::from_value(json!({
        "id": "k1", "first_name": "Иван", "last_name": "Петров", "middle_name": "",
        "position": null, "company_id": null, "owner_id": owner, "phones": [], "emails": [],
        "custom": custom, "created_at": 0, "updated_at": 0
    }))
    .unwrap();
    crate::card::ClientCard {
        number: "+79161234567".into(),
        matches: vec![crate::card::CardContact {
            contact,
            name: "Петров Иван".into(),
            company: None,
            owner: None,
            open_deals: vec![],
            last_calls: vec![],
            open_tasks: vec![],
        }],
        recent_calls: vec![],
    }
}

fn crm_queue(r: &mut Replay) {
    let settings = QueueSettings {
        owner_first_ms: 15_000,
        vip_field: Some("vip".into()),
        ..QueueSettings::default()
    };
    let config = switchboard_core::acd::QueueConfig {
        id: "sales".into(),
        strategy: switchboard_core::acd::Strategy::LongestIdle,
        ring_timeout_ms: super::replay::RING,
        max_wait_ms: 600_000,
        wrap_up_ms: 0,
        skills: Default::default(),
    };
    r.machine.set_queue(config, settings);
}

#[test]
fn a_caller_with_an_owner_rings_the_owner_first_once_the_card_says_who_they_are() {
    let mut r = Replay::new();
    crm_queue(&mut r);
    r.login("anna", "sales");
    r.login("boris", "support");
    r.arrive("c1", "sales");
    assert!(r.rung().is_empty(), "nobody before the card");
    r.now += 40;
    let card = card(Some("boris"), json!({}));
    r.input(CallInput::CardReady { call_id: "c1".into(), card }).unwrap();
    assert_eq!(r.rung(), [("c1".into(), "boris".into())], "the owner, although anna waits longer");
    assert!(r.events("c1").contains(&Kind::Routed));
    // Boris lets it ring out: anna gets it.
    r.clear();
    r.until(r.now + super::replay::RING);
    assert_eq!(r.rung(), [("c1".into(), "anna".into())]);
}

#[test]
fn a_vip_jumps_the_queue_and_a_late_card_does_not_hold_a_call_up() {
    let mut r = Replay::new();
    crm_queue(&mut r);
    r.arrive("c1", "sales");
    r.input(CallInput::CardReady { call_id: "c1".into(), card: card(None, json!({})) }).unwrap();
    r.now += 1_000;
    r.arrive("vip", "sales");
    let card = card(None, json!({"vip": "да"}));
    r.input(CallInput::CardReady { call_id: "vip".into(), card }).unwrap();
    let order: Vec<String> =
        r.machine.waiting("sales").into_iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(order, ["vip", "c1"]);
    r.login("anna", "sales");
    assert_eq!(r.rung(), [("vip".into(), "anna".into())], "the VIP is served first");
    // No card within a second: the call is queued as anyone's.
    r.arrive("c3", "sales");
    let arrived = r.now;
    let queued = |r: &Replay| r.machine.waiting("sales").iter().any(|(id, _)| id.as_str() == "c3");
    assert!(!queued(&r), "c3 waits for its card");
    r.until(arrived + super::crm::CARD_WAIT_MS - 1);
    assert!(!queued(&r));
    r.until(arrived + super::crm::CARD_WAIT_MS);
    assert!(queued(&r), "queued without it after a second");
}

/// Open Monday to Friday 09:00-18:00 Moscow time.
pub(super) fn office_hours() -> switchboard_core::hours::Schedule {
    serde_json::from_value(json!({
        "id": "office", "name": "Офис", "time_zone": "Europe/Moscow",
        "week": {"mon": ["09:00-18:00"], "tue": ["09:00-18:00"], "wed": ["09:00-18:00"],
                 "thu": ["09:00-18:00"], "fri": ["09:00-18:00"]},
        "exceptions": {}, "created_at": 0, "updated_at": 0
    }))
    .unwrap()
}

fn hours_flow() -> serde_json::Value {
    json!({
        "start": "when",
        "nodes": {
            "when": {"type": "hours", "schedule_id": "office", "open": "q", "closed": "closed"},
            "q": {"type": "queue", "queue_id": "sales"},
            "closed": {"type": "play", "prompts": ["builtin:after_hours"], "next": "vm"},
            "vm": {"type": "voicemail", "queue_id": "sales", "max_s": 60, "silence_s": 4}
        }
    })
}

/// Thursday 3 December 2026 at `hh:mm` Moscow time (UTC+3).
pub(super) fn moscow(hh: i64, mm: i64) -> EpochMs {
    1_796_256_000_000 + ((hh - 3) * 60 + mm) * 60_000
}

#[test]
fn open_hours_send_the_call_to_its_queue() {
    let mut r = Replay::new();
    r.machine.set_schedules(vec![office_hours()]);
    r.login("anna", "sales");
    r.now = moscow(10, 0);
    r.enter("c1", hours_flow());
    assert_eq!(r.rung(), [("c1".into(), "anna".into())]);
    assert_eq!(r.events("c1")[..2], [Kind::Flow, Kind::Hours]);
}

#[test]
fn after_hours_the_caller_leaves_a_message_that_silence_ends() {
    let mut r = Replay::new();
    r.machine.set_schedules(vec![office_hours()]);
    r.login("anna", "sales");
    r.now = moscow(18, 0);
    r.enter("c1", hours_flow());
    assert!(r.rung().is_empty(), "nobody is rung after hours");
    assert_eq!(r.played("c1")[0].0, strings(&["builtin:after_hours"]));
    r.sound_done("c1");
    assert_eq!(r.played("c1")[1].0, strings(&["builtin:voicemail"]));
    // Keys during the invitation do nothing.
    r.key("c1", '1');
    assert!(!r.done.iter().any(|e| matches!(e, Effect::RecordMessage { .. })));
    r.sound_done("c1");
    assert!(r.done.iter().any(|e| matches!(e, Effect::RecordMessage { silence_ms: 4_000, .. })));
    assert!(r.done.iter().any(|e| matches!(e, Effect::Log(Write::RecordingStarted { .. }))));
    assert_eq!(r.missed("c1"), None, "nothing yet while they talk");
    r.now += 12_000;
    r.input(CallInput::Silence { call_id: "c1".into() }).unwrap();
    assert!(r.done.iter().any(|e| matches!(e, Effect::StopMessage { .. })));
    assert_eq!(r.missed("c1"), Some(EndReason::Voicemail), "a callback task for the message");
    assert_eq!(r.played("c1")[2].0, strings(&["builtin:goodbye"]));
    r.sound_done("c1");
    assert_eq!(r.released("c1"), Some(480));
    assert_eq!(r.ended("c1"), Some((EndReason::Voicemail, 0)));
}

#[test]
fn a_message_ends_when_the_caller_hangs_up_or_at_its_longest() {
    let mut r = Replay::new();
    r.machine.set_schedules(vec![office_hours()]);
    r.now = moscow(23, 0);
    r.enter("c1", hours_flow());
    r.sound_done("c1");
    r.sound_done("c1");
    r.now += 5_000;
    r.input(CallInput::CallerGone { call_id: "c1".into() }).unwrap();
    assert_eq!(r.missed("c1"), Some(EndReason::Voicemail));
    assert_eq!(r.ended("c1"), Some((EndReason::Voicemail, 0)));
    assert_eq!(r.released("c1"), None, "the caller is gone already");

    // Nobody says anything and the phone sends nothing: the longest message is 60 s.
    r.clear();
    r.enter("c2", hours_flow());
    r.sound_done("c2");
    r.sound_done("c2");
    let started = r.now;
    r.until(started + 59_999);
    assert_eq!(r.missed("c2"), None);
    r.until(started + 60_000);
    assert_eq!(r.missed("c2"), Some(EndReason::Voicemail));
    r.sound_done("c2");
    assert_eq!(r.ended("c2"), Some((EndReason::Voicemail, 0)));
    // A caller who hangs up during the invitation left no message.
    r.clear();
    r.enter("c3", hours_flow());
    r.sound_done("c3");
    r.input(CallInput::CallerGone { call_id: "c3".into() }).unwrap();
    assert_eq!((r.missed("c3"), r.ended("c3")), (None, Some((EndReason::InFlow, 0))));
}

pub(super) fn closed_queue(r: &mut Replay, after_hours: AfterHours) {
    r.machine.set_schedules(vec![office_hours()]);
    let settings = QueueSettings {
        schedule_id: Some("office".into()),
        after_hours,
        ..QueueSettings::default()
    };
    let config = switchboard_core::acd::QueueConfig {
        id: "sales".into(),
        strategy: switchboard_core::acd::Strategy::LongestIdle,
        ring_timeout_ms: super::replay::RING,
        max_wait_ms: 600_000,
        wrap_up_ms: 0,
        skills: Default::default(),
    };
    r.machine.set_queue(config, settings);
}

#[test]
fn a_queue_closed_by_its_hours_takes_a_message_instead_of_a_wait() {
    let mut r = Replay::new();
    closed_queue(&mut r, AfterHours::Voicemail);
    r.login("anna", "sales");
    // Straight to the queue at 20:00: the after-hours prompt, then the message.
    r.now = moscow(20, 0);
    r.arrive("c1", "sales");
    assert!(r.rung().is_empty());
    assert!(r.done.iter().any(|e| matches!(e, Effect::StartFlow { answer: true, .. })));
    assert_eq!(r.played("c1")[0].0, strings(&["builtin:after_hours"]));
    r.sound_done("c1");
    assert_eq!(r.played("c1")[1].0, strings(&["builtin:voicemail"]));
    r.sound_done("c1");
    r.input(CallInput::Silence { call_id: "c1".into() }).unwrap();
    assert_eq!(r.missed("c1"), Some(EndReason::Voicemail));
    // Through a flow at 08:00 the next morning: the same.
    r.clear();
    r.now = moscow(32, 0);
    r.enter("c2", json!({"start": "q", "nodes": {"q": {"type": "queue", "queue_id": "sales"}}}));
    assert!(r.rung().is_empty());
    assert_eq!(r.events("c2")[..2], [Kind::Flow, Kind::Hours]);
    assert_eq!(r.played("c2")[0].0, strings(&["builtin:after_hours"]));
    // At 09:00 the queue is open again: its agent is rung.
    r.clear();
    r.now = moscow(33, 0);
    r.arrive("c3", "sales");
    assert_eq!(r.rung(), [("c3".into(), "anna".into())]);
}

#[test]
fn a_queue_closed_by_its_hours_may_only_say_so() {
    let mut r = Replay::new();
    closed_queue(&mut r, AfterHours::Hangup);
    r.now = moscow(20, 0);
    r.arrive("c1", "sales");
    assert!(r.done.iter().any(|e| matches!(e, Effect::StartFlow { answer: false, .. })));
    assert_eq!(r.played("c1")[0].0, strings(&["builtin:after_hours"]));
    r.sound_done("c1");
    assert_eq!(r.released("c1"), Some(480));
    assert_eq!((r.missed("c1"), r.ended("c1")), (None, Some((EndReason::InFlow, 0))));
}

#[test]
fn an_agents_skills_from_their_login_route_a_queue_that_needs_them() {
    let mut r = Replay::new();
    let settings = QueueSettings::default();
    let config = switchboard_core::acd::QueueConfig {
        id: "sales".into(),
        strategy: switchboard_core::acd::Strategy::LongestIdle,
        ring_timeout_ms: super::replay::RING,
        max_wait_ms: 600_000,
        wrap_up_ms: 0,
        skills: [("english".to_owned(), 2)].into(),
    };
    r.machine.set_queue(config, settings);
    for (agent, level) in [("anna", 1u8), ("boris", 3)] {
        let reach = Reach {
            phone: Some(format!("ext:{agent}")),
            queues: vec!["sales".into()],
            skills: [("english".to_owned(), level)].into(),
            ..Reach::default()
        };
        let target = AgentTarget::Available;
        r.input(CallInput::SetState { agent_id: agent.into(), target, reach }).unwrap();
        r.now += 10;
    }
    r.arrive("c1", "sales");
    assert_eq!(r.rung(), [("c1".into(), "boris".into())], "anna, idle longer, speaks too little");
}

#[test]
fn an_agent_step_rings_that_agent_alone_then_the_queue() {
    let mut r = Replay::new();
    r.login("anna", "sales");
    r.now += 1_000;
    r.login("boris", "sales");
    r.enter(
        "c1",
        json!({"start": "a", "nodes": {
            "a": {"type": "agent", "agent_id": "boris", "ring_s": 10, "queue_id": "sales"}}}),
    );
    // Boris alone, although anna has been idle longer.
    assert_eq!(r.rung(), [("c1".into(), "boris".into())]);
    r.clear();
    // He lets it ring out: the queue's agents get it.
    r.until(r.now + super::replay::RING);
    assert!(r.rung().contains(&("c1".into(), "anna".into())), "{:?}", r.rung());
}

fn forward_flow() -> serde_json::Value {
    json!({
        "start": "out",
        "nodes": {
            "out": {"type": "forward", "number": "+7 495 123-45-67", "ring_s": 20,
                    "on_fail": "sales"},
            "sales": {"type": "queue", "queue_id": "sales"}
        }
    })
}

fn numbers_rung(r: &Replay) -> Vec<String> {
    r.done
        .iter()
        .filter_map(|e| match e {
            Effect::RingNumber { e164, .. } => Some(e164.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_forward_step_puts_the_caller_through_to_an_outside_number() {
    let mut r = Replay::new();
    r.login("anna", "sales");
    r.enter("c1", forward_flow());
    assert_eq!(numbers_rung(&r), ["+74951234567"]);
    let ringback = r.done.iter().any(
        |e| matches!(e, Effect::PlayWaiting { sound: Some(s), .. } if s.as_str() == "ringback"),
    );
    assert!(ringback, "the caller hears the number ring");
    assert!(r.events("c1").contains(&Kind::Forwarding));
    let leg = "number:+74951234567".to_owned();
    r.input(CallInput::NumberAnswered { call_id: "c1".into(), leg: leg.clone() }).unwrap();
    assert!(r.done.iter().any(|e| matches!(e, Effect::ConnectNumber { .. })));
    r.input(CallInput::NumberBridged { call_id: "c1".into(), leg, result: Ok(()) }).unwrap();
    assert!(r.rung().is_empty(), "no agent has it");
    assert!(r.machine.next_deadline().is_none(), "no ring timeout any more");
    // A key now is the caller's business with the number, not the flow's.
    r.key("c1", '1');
    r.now += 60_000;
    r.edge_ended("c1", EndedBy::Agent);
    assert_eq!(r.ended("c1"), Some((EndReason::Forwarded, 0)));
    assert_eq!(r.state("anna"), "available");
}

#[test]
fn a_forward_that_is_not_answered_goes_on_at_its_on_fail_step() {
    let mut r = Replay::new();
    r.login("anna", "sales");
    // Busy at once.
    r.enter("c1", forward_flow());
    r.input(CallInput::NumberFailed { call_id: "c1".into(), code: Some(486) }).unwrap();
    assert!(r.events("c1").contains(&Kind::TransferFailed));
    assert_eq!(r.rung(), [("c1".into(), "anna".into())], "then the queue");
    assert_eq!(r.released("c1"), None);
    r.answer("c1", "anna");
    r.clear();
    // Not answered in its 20 s: the ringing leg is cancelled, then the queue (with anna busy,
    // the call waits).
    r.enter("c2", forward_flow());
    let t0 = r.now;
    r.until(t0 + 19_999);
    assert!(r.cancelled().is_empty());
    r.until(t0 + 20_000);
    assert_eq!(r.cancelled(), ["number:+74951234567"]);
    assert_eq!(r.machine.waiting("sales").len(), 1);
    // A caller who hangs up while it rings ends in the flow.
    r.enter("c3", forward_flow());
    r.input(CallInput::CallerGone { call_id: "c3".into() }).unwrap();
    assert_eq!(r.ended("c3"), Some((EndReason::InFlow, 0)));
}
