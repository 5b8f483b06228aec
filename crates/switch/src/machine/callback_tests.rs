//! Queue callback replayed through the machine: the offer while waiting, the number confirmed
//! or typed, the place kept without the caller, the calls placed when it comes up and their
//! retries; and the callback offered after hours, due when the queue opens.

use super::flow_tests::{closed_queue, moscow, strings};
use super::replay::Replay;
use super::*;

fn callback_queue(r: &mut Replay) {
    let settings = QueueSettings {
        callback_after_ms: 30_000,
        callback_attempts: 2,
        callback_retry_ms: 60_000,
        ..QueueSettings::default()
    };
    let config = switchboard_core::acd::QueueConfig {
        id: "sales".into(),
        strategy: switchboard_core::acd::Strategy::LongestIdle,
        ring_timeout_ms: super::replay::RING,
        max_wait_ms: 3_600_000,
        wrap_up_ms: 0,
        skills: Default::default(),
    };
    r.machine.set_queue(config, settings);
}

fn dialed(r: &Replay) -> Vec<(String, String, String)> {
    r.done
        .iter()
        .filter_map(|e| match e {
            Effect::Dial { call_id, agent_id, e164, .. } => {
                Some((call_id.to_string(), agent_id.to_string(), e164.clone()))
            }
            _ => None,
        })
        .collect()
}

fn callback_results(r: &Replay) -> Vec<(bool, String)> {
    r.done
        .iter()
        .filter_map(|e| match e {
            Effect::Log(Write::CallbackResult { done, result, .. }) => {
                Some((*done, result.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_waiting_caller_asks_for_a_callback_keeps_the_place_and_is_called_when_it_comes() {
    let mut r = Replay::new();
    callback_queue(&mut r);
    r.arrive("c1", "sales");
    let t0 = r.now;
    r.until(t0 + 29_999);
    assert!(r.events("c1").iter().all(|k| *k != Kind::CallbackOffered));
    r.until(t0 + 30_000);
    let offer = r.done.iter().any(|e| {
        matches!(e, Effect::Announce { prompts, .. } if prompts == &strings(&["builtin:callback_offer"]))
    });
    assert!(offer, "the offer is spoken after 30 s");
    assert_eq!(r.count(|e| matches!(e, Effect::Answer { .. })), 0);
    r.key("c1", '1');
    assert_eq!(r.played("c1").last().unwrap().0, strings(&["builtin:callback_number"]));
    // Taking the offer answers a caller on early media: they will be let go with a BYE.
    assert_eq!(r.count(|e| matches!(e, Effect::Answer { call_id } if call_id.as_str() == "c1")), 1);
    r.key("c1", '1');
    assert_eq!(r.missed("c1"), Some(EndReason::CallbackRequested), "the callback task");
    assert_eq!(r.played("c1").last().unwrap().0, strings(&["builtin:callback_confirmed"]));
    r.sound_done("c1");
    assert_eq!(r.released("c1"), Some(480));
    assert_eq!(r.ended("c1"), Some((EndReason::CallbackRequested, 0)));
    // The edge reports the caller gone: the place stays, longer than the queue's maximum wait.
    r.input(CallInput::Ended { call_id: "c1".into(), by: EndedBy::Caller }).unwrap();
    r.until(t0 + 2 * 3_600_000);
    assert_eq!(r.machine.waiting("sales").first().map(|(id, _)| id.to_string()), Some("c1".into()));
    // A second caller arrives later: behind the first. From the same number, they are not
    // offered a second callback.
    r.arrive("c2", "sales");
    r.until(r.now + 30_000);
    assert_eq!(r.events("c2").iter().filter(|k| **k == Kind::CallbackOffered).count(), 0);

    // An agent comes: nobody rings for c1; the agent is called, then the customer.
    r.clear();
    r.login("anna", "sales");
    assert!(r.rung().is_empty(), "c1's turn: no ringing, a call placed for the agent");
    assert_eq!(dialed(&r), [("c1-1".into(), "anna".into(), "+79161234567".into())]);
    assert!(
        r.done
            .iter()
            .any(|e| matches!(e, Effect::Log(Write::CallbackLeg { of, .. }) if of == "c1"))
    );
    assert_eq!(r.state("anna"), "on_call");
    // Nobody answers: tried again a minute later; meanwhile anna takes c2.
    r.input(CallInput::OutboundFailed {
        call_id: "c1-1".into(),
        outcome: switchboard_sip::edge::OutboundOutcome::NoAnswer,
        code: Some(480),
    })
    .unwrap();
    assert_eq!(callback_results(&r), [(false, "attempt 1: not reached, trying again".into())]);
    assert_eq!(r.rung(), [("c2".into(), "anna".into())]);
    r.answer("c2", "anna");
    r.edge_ended("c2", EndedBy::Agent);
    r.clear();
    let failed_at = r.now;
    r.until(failed_at + 60_000);
    assert_eq!(dialed(&r), [("c1-2".into(), "anna".into(), "+79161234567".into())]);
    r.input(CallInput::OutboundConnected { call_id: "c1-2".into() }).unwrap();
    r.now += 90_000;
    r.edge_ended("c1-2", EndedBy::Caller);
    assert_eq!(callback_results(&r), [(true, "called back on attempt 2: connected".into())]);
    assert!(r.machine.waiting("sales").is_empty());
    assert_ne!(r.state("anna"), "on_call");
}

#[test]
fn a_caller_may_type_another_number_or_go_back_to_waiting() {
    let mut r = Replay::new();
    callback_queue(&mut r);
    r.arrive("c1", "sales");
    r.until(r.now + 30_000);
    r.key("c1", '1');
    r.key("c1", '2');
    assert_eq!(r.played("c1").last().unwrap().0, strings(&["builtin:enter_number"]));
    for d in "12#".chars() {
        r.key("c1", d);
    }
    assert_eq!(
        r.played("c1").last().unwrap().0,
        strings(&["builtin:invalid_choice", "builtin:enter_number"])
    );
    for d in "8 (495) 123-45-67".chars().filter(char::is_ascii_digit).chain(['#']) {
        r.key("c1", d);
    }
    let number = r.done.iter().find_map(|e| match e {
        Effect::Log(Write::Missed(m)) if m.call_id == "c1" => Some(m.e164.clone()),
        _ => None,
    });
    assert_eq!(number.as_deref(), Some("+74951234567"));
    // The caller hangs up during the confirmation: the callback stands.
    r.input(CallInput::CallerGone { call_id: "c1".into() }).unwrap();
    assert_eq!(r.ended("c1"), Some((EndReason::CallbackRequested, 0)));
    assert!(!r.machine.waiting("sales").is_empty());

    // Another caller presses 1 and then * : back to waiting, and silence gives up too.
    r.clear();
    r.arrive("c2", "sales");
    r.until(r.now + 30_000);
    r.key("c2", '1');
    r.key("c2", '*');
    assert!(
        r.done.iter().any(|e| matches!(e, Effect::PlayWaiting { call_id, .. } if call_id == "c2"))
    );
    r.key("c2", '1');
    r.clear();
    r.until(r.now + 15_000);
    assert!(
        r.done.iter().any(|e| matches!(e, Effect::PlayWaiting { call_id, .. } if call_id == "c2"))
    );
    assert_eq!(r.missed("c2"), None);
    // A caller who hangs up while simply waiting abandons as ever.
    r.input(CallInput::CallerGone { call_id: "c2".into() }).unwrap();
    assert_eq!(r.ended("c2"), Some((EndReason::Abandoned, 0)));
}

fn missed_not_before(r: &Replay, call: &str) -> Option<Option<EpochMs>> {
    r.done.iter().find_map(|e| match e {
        Effect::Log(Write::Missed(m)) if m.call_id == call => Some(m.not_before),
        _ => None,
    })
}

#[test]
fn after_hours_a_caller_asks_to_be_called_back_when_the_queue_opens() {
    let mut r = Replay::new();
    closed_queue(&mut r, AfterHours::Callback);
    r.login("anna", "sales");
    // Thursday 20:00 Moscow time: the after-hours prompt, then the offer.
    r.now = moscow(20, 0);
    r.arrive("c1", "sales");
    assert!(r.rung().is_empty());
    assert_eq!(r.played("c1")[0].0, strings(&["builtin:after_hours"]));
    // The caller knows the offer: 1 during the after-hours prompt is kept for it.
    r.key("c1", '1');
    r.sound_done("c1");
    assert_eq!(r.played("c1")[1].0, strings(&["builtin:callback_offer_closed"]));
    assert_eq!(r.played("c1")[2].0, strings(&["builtin:callback_number"]));
    r.key("c1", '1');
    assert_eq!(r.missed("c1"), Some(EndReason::CallbackRequested));
    // Due when the office opens: Friday 09:00 Moscow time.
    assert_eq!(missed_not_before(&r, "c1"), Some(Some(moscow(20, 0) + 13 * 3_600_000)));
    assert_eq!(r.played("c1")[3].0, strings(&["builtin:callback_confirmed_closed"]));
    r.sound_done("c1");
    assert_eq!(r.released("c1"), Some(480), "a BYE: the call was answered");
    assert_eq!(r.ended("c1"), Some((EndReason::CallbackRequested, 0)));
    assert!(r.machine.waiting("sales").is_empty(), "no place is kept");
    assert_eq!(r.machine.next_deadline(), None);
    assert_eq!(r.state("anna"), "available");
}

#[test]
fn after_hours_no_key_after_the_callback_offer_is_goodbye() {
    let mut r = Replay::new();
    closed_queue(&mut r, AfterHours::Callback);
    r.now = moscow(20, 0);
    r.arrive("c1", "sales");
    r.sound_done("c1");
    r.sound_done("c1");
    let offered_at = r.now;
    r.until(offered_at + 14_999);
    assert_eq!(r.played("c1").len(), 2);
    r.until(offered_at + 15_000);
    assert_eq!(r.played("c1")[2].0, strings(&["builtin:goodbye"]));
    r.sound_done("c1");
    assert_eq!(r.ended("c1"), Some((EndReason::InFlow, 0)));
    assert_eq!(r.missed("c1"), None);
    // Another caller types a number, then hangs up while the confirmation plays: the
    // callback stands.
    r.arrive("c2", "sales");
    r.sound_done("c2");
    r.key("c2", '1');
    r.key("c2", '2');
    for d in "84951234567#".chars() {
        r.key("c2", d);
    }
    assert_eq!(r.played("c2").last().unwrap().0, strings(&["builtin:callback_confirmed_closed"]));
    r.input(CallInput::CallerGone { call_id: "c2".into() }).unwrap();
    assert_eq!(r.ended("c2"), Some((EndReason::CallbackRequested, 0)));
    let number = r.done.iter().find_map(|e| match e {
        Effect::Log(Write::Missed(m)) if m.call_id == "c2" => Some(m.e164.clone()),
        _ => None,
    });
    assert_eq!(number.as_deref(), Some("+74951234567"));
}
