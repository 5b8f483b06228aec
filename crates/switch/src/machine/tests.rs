//! Whole calls replayed through the call machine and the ACD, at memory speed: no sockets, no
//! sleeps, no clock (the harness is `replay.rs`).

use super::replay::{MAX_WAIT, RING, Replay, WRAP, forgotten, recording_started};
use super::*;
use crate::protocol::WithdrawReason;

#[test]
fn a_call_rings_the_longest_idle_agent_and_the_next_after_the_ring_timeout() {
    let mut r = Replay::new();
    r.login("anna", "sales");
    r.login("boris", "sales");
    r.arrive("c1", "sales");
    assert_eq!(r.rung(), [("c1".into(), "anna".into())]);
    assert!(
        r.told("anna").iter().any(|m| matches!(m, AgentMessage::Ringing { desk_phone: true, .. }))
    );
    assert_eq!(r.state("anna"), "ringing");
    let rang_at = r.now;
    r.clear();
    r.until(rang_at + RING - 1);
    assert!(r.done.is_empty(), "nothing happens before the ring timeout");
    r.until(rang_at + RING);
    assert_eq!(r.cancelled(), ["anna"]);
    assert_eq!(r.events("c1"), [Kind::NoAnswer, Kind::Offer]);
    assert!(
        r.told("anna")
            .iter()
            .any(|m| matches!(m, AgentMessage::Withdrawn { reason: WithdrawReason::NoAnswer, .. }))
    );
    assert_eq!(r.rung(), [("c1".into(), "boris".into())]);
    assert_eq!(r.ended("c1"), None, "the caller still waits");
}

#[test]
fn a_waiting_caller_hears_the_sound_before_anyone_is_rung() {
    let mut r = Replay::new();
    r.login("anna", "sales");
    r.arrive("c1", "sales");
    let waiting = r.done.iter().position(|e| matches!(e, Effect::PlayWaiting { .. }));
    let ringing = r.done.iter().position(|e| matches!(e, Effect::Ring { .. }));
    assert!(waiting.unwrap() < ringing.unwrap());
    // A transferred call is not played the sound again: it was answered.
    r.answer("c1", "anna");
    r.clear();
    r.login("boris", "support");
    r.transfer("c1", "anna", Transfer::Queue("support".into()));
    assert_eq!(r.count(|e| matches!(e, Effect::PlayWaiting { .. })), 0);
}

#[test]
fn an_answered_call_is_bridged_logged_recorded_and_wrapped_up() {
    let mut r = Replay::new();
    r.login("anna", "sales");
    r.arrive("c1", "sales");
    r.now += 3_000;
    r.answer("c1", "anna");
    assert!(r.done.iter().any(|e| matches!(e, Effect::Connect { browser: false, .. })));
    assert!(r.done.iter().any(|e| matches!(e, Effect::Log(Write::Answered { .. }))));
    assert_eq!(r.count(recording_started), 1);
    let recorded = r.count(|e| matches!(e, Effect::Log(Write::RecordingStarted { .. })));
    assert_eq!(recorded, 1);
    assert_eq!(r.state("anna"), "on_call");
    // The card built after the answer still reaches the agent talking.
    r.clear();
    let card =
        ClientCard { number: "+79161234567".into(), matches: Vec::new(), recent_calls: Vec::new() };
    r.input(CallInput::CardReady { call_id: "c1".into(), card }).unwrap();
    assert!(matches!(r.told("anna")[..], [AgentMessage::Card { .. }]));
    r.now += 60_000;
    r.edge_ended("c1", EndedBy::Caller);
    assert_eq!(r.ended("c1"), Some((EndReason::CallerHangup, 0)));
    assert_eq!(r.count(forgotten("c1")), 1, "the recording is closed");
    assert!(r.told("anna").iter().any(|m| matches!(m, AgentMessage::Ended { by: "caller", .. })));
    assert_eq!(r.state("anna"), "wrap_up");
    r.clear();
    r.until(r.now + WRAP);
    assert_eq!(r.state("anna"), "available");
    assert!(r.done.iter().any(|e| matches!(e, Effect::Log(Write::WrapUp { ms: WRAP, .. }))));
}

#[test]
fn hold_time_is_summed_over_every_hold() {
    let mut r = Replay::talking(&[]);
    for (at, on) in [(10_000, true), (13_000, false), (20_000, true)] {
        r.now = at;
        r.input(CallInput::Hold { call_id: "c1".into(), by: Party::Agent, on }).unwrap();
    }
    assert!(r.told("anna").iter().any(|m| matches!(m, AgentMessage::Hold { on: true, .. })));
    // The agent held the caller: music on, off, on again.
    let music: Vec<bool> = r
        .done
        .iter()
        .filter_map(|e| match e {
            Effect::HoldSound { on, .. } => Some(*on),
            _ => None,
        })
        .collect();
    assert_eq!(music, [true, false, true]);
    r.now = 21_000;
    r.edge_ended("c1", EndedBy::Agent);
    // 3 s, then 1 s still on hold when the agent hung up.
    assert_eq!(r.ended("c1"), Some((EndReason::AgentHangup, 4_000)));
    assert!(r.events("c1").ends_with(&[Kind::Hold, Kind::Resume, Kind::Hold]));
}

#[test]
fn a_caller_who_holds_the_agent_plays_them_no_music() {
    let mut r = Replay::talking(&[]);
    r.clear();
    r.input(CallInput::Hold { call_id: "c1".into(), by: Party::Caller, on: true }).unwrap();
    assert_eq!(r.count(|e| matches!(e, Effect::HoldSound { .. })), 0);
    assert_eq!(r.events("c1"), [Kind::Hold]);
}

#[test]
fn blind_transfer_to_an_agent_rings_them_and_logs_the_transfer_not_a_new_answer() {
    let mut r = Replay::talking(&[("boris", "support")]);
    r.clear();
    let to = Transfer::Agent("boris".into());
    r.transfer("c1", "anna", to);
    assert!(matches!(&r.done[0], Effect::Log(Write::Event { kind: Kind::Transferred, .. })));
    assert!(
        r.done
            .iter()
            .any(|e| matches!(e, Effect::Park { agent_id, .. } if agent_id.as_str() == "anna"))
    );
    assert!(r.told("anna").iter().any(|m| matches!(m, AgentMessage::Ended { by: "transfer", .. })));
    assert_eq!(r.rung(), [("c1".into(), "boris".into())]);
    r.answer("c1", "boris");
    assert!(r.done.iter().any(|e| matches!(e, Effect::Log(Write::TransferredTo { .. }))));
    assert_eq!(r.count(|e| matches!(e, Effect::Log(Write::Answered { .. }))), 0);
    assert_eq!(r.count(recording_started), 0, "the recording goes on through the transfer");
    r.edge_ended("c1", EndedBy::Caller);
    assert_eq!(r.ended("c1"), Some((EndReason::CallerHangup, 0)));
    assert_eq!(r.state("boris"), "wrap_up");
}

#[test]
fn blind_transfer_to_a_queue_rings_its_agents() {
    let mut r = Replay::talking(&[("vera", "support"), ("gleb", "support")]);
    r.clear();
    let to = Transfer::Queue("support".into());
    r.transfer("c1", "anna", to);
    let mut rung = r.rung();
    rung.sort();
    assert_eq!(rung, [("c1".into(), "gleb".into()), ("c1".into(), "vera".into())], "ring-all");
    r.answer("c1", "vera");
    assert_eq!(r.cancelled(), ["gleb"], "the other phone stops");
    assert_eq!(r.state("vera"), "on_call");
    assert_eq!(r.state("anna"), "wrap_up");
}

#[test]
fn a_refused_transfer_is_told_to_the_agent_and_changes_nothing() {
    let mut r = Replay::talking(&[]);
    r.clear();
    let to = Transfer::Agent("nobody".into());
    r.transfer("c1", "anna", to);
    assert!(matches!(r.told("anna")[..], [AgentMessage::Error { .. }]));
    assert_eq!(r.done.len(), 1);
    assert_eq!(r.state("anna"), "on_call");
}

#[test]
fn blind_transfer_to_a_number_bridges_it_when_it_answers() {
    let mut r = Replay::talking(&[]);
    r.clear();
    let to = Transfer::Number { e164: "+74951234567".into(), ring_ms: 30_000 };
    r.transfer("c1", "anna", to);
    assert!(r.done.iter().any(|e| matches!(
        e,
        Effect::RingNumber { leg, .. } if leg == "number:+74951234567"
    )));
    assert_eq!(r.state("anna"), "wrap_up", "the agent is free of the call");
    r.now += 5_000;
    let leg = "number:+74951234567".to_owned();
    r.input(CallInput::NumberAnswered { call_id: "c1".into(), leg }).unwrap();
    assert!(r.events("c1").contains(&Kind::TransferAnswered));
    assert_eq!(r.machine.next_deadline(), Some(r.now - 5_000 + WRAP), "only the wrap-up is due");
    r.until(r.now + 60_000);
    assert_eq!(r.released("c1"), None, "an answered number is not timed out");
    r.edge_ended("c1", EndedBy::Agent);
    assert_eq!(r.ended("c1"), Some((EndReason::TransferTargetHangup, 0)));
}

#[test]
fn a_number_that_does_not_answer_releases_the_caller_after_its_ring_timeout() {
    let mut r = Replay::talking(&[]);
    let to = Transfer::Number { e164: "+74951234567".into(), ring_ms: 30_000 };
    r.transfer("c1", "anna", to);
    let sent = r.now;
    r.clear();
    r.until(sent + 29_999);
    assert_eq!(r.released("c1"), None);
    r.until(sent + 30_000);
    assert_eq!(r.cancelled(), ["number:+74951234567"]);
    assert_eq!(r.released("c1"), Some(480));
    assert_eq!(r.ended("c1"), Some((EndReason::TransferFailed, 0)));
    assert_eq!(r.machine.next_deadline(), None);
    // A refusal arriving late changes nothing more.
    r.clear();
    r.input(CallInput::NumberFailed { call_id: "c1".into(), code: Some(486) }).unwrap();
    assert_eq!(r.ended("c1"), None);
}

#[test]
fn a_number_that_refuses_releases_the_caller_at_once() {
    let mut r = Replay::talking(&[]);
    let to = Transfer::Number { e164: "+74951234567".into(), ring_ms: 30_000 };
    r.transfer("c1", "anna", to);
    r.clear();
    r.input(CallInput::NumberFailed { call_id: "c1".into(), code: Some(486) }).unwrap();
    assert_eq!(r.released("c1"), Some(480));
    assert_eq!(r.ended("c1"), Some((EndReason::TransferFailed, 0)));
    assert_eq!(r.machine.next_deadline(), Some(r.now + WRAP), "the wrap-up only");
}

#[test]
fn the_caller_hangs_up_in_every_state() {
    let mut r = Replay::new();
    // Waiting, nobody free: abandoned, and a callback.
    r.arrive("waiting", "sales");
    r.input(CallInput::CallerGone { call_id: "waiting".into() }).unwrap();
    assert_eq!(r.ended("waiting"), Some((EndReason::Abandoned, 0)));
    assert_eq!(r.missed("waiting"), Some(EndReason::Abandoned));
    assert_eq!(r.count(forgotten("waiting")), 1);

    // Ringing: the phone stops, the agent is free again.
    r.login("anna", "sales");
    r.arrive("ringing", "sales");
    r.input(CallInput::CallerGone { call_id: "ringing".into() }).unwrap();
    assert_eq!(r.cancelled(), ["anna"]);
    assert_eq!(r.ended("ringing"), Some((EndReason::Abandoned, 0)));
    assert_eq!(r.missed("ringing"), Some(EndReason::Abandoned));
    assert_eq!(r.state("anna"), "available");

    // Talking: a hang-up, no callback.
    r.arrive("talking", "sales");
    r.answer("talking", "anna");
    r.edge_ended("talking", EndedBy::Caller);
    assert_eq!(r.ended("talking"), Some((EndReason::CallerHangup, 0)));
    assert_eq!(r.missed("talking"), None);
    r.until(r.now + WRAP);

    // Transferred and waiting for the next agent: answered before, so a hang-up, no callback.
    r.login("boris", "support");
    r.arrive("moving", "sales");
    r.answer("moving", "anna");
    let to = Transfer::Queue("support".into());
    r.transfer("moving", "anna", to);
    r.input(CallInput::CallerGone { call_id: "moving".into() }).unwrap();
    assert_eq!(r.ended("moving"), Some((EndReason::CallerHangup, 0)));
    assert_eq!(r.missed("moving"), None);
    assert_eq!(r.state("boris"), "available");
    r.until(r.now + WRAP);

    // While a number rings for it: a hang-up, and no timeout fires later.
    r.arrive("out", "sales");
    r.answer("out", "anna");
    let to = Transfer::Number { e164: "+74951234567".into(), ring_ms: 30_000 };
    r.transfer("out", "anna", to);
    r.edge_ended("out", EndedBy::Caller);
    assert_eq!(r.ended("out"), Some((EndReason::CallerHangup, 0)));
    r.clear();
    r.until(r.now + 60_000);
    assert_eq!(r.released("out"), None);

    // Waited the maximum time: released, and a callback.
    r.input(CallInput::SetState {
        agent_id: "anna".into(),
        target: AgentTarget::Paused("lunch".into()),
        reach: Reach::default(),
    })
    .unwrap();
    r.arrive("long", "sales");
    r.until(r.now + MAX_WAIT);
    assert_eq!(r.released("long"), Some(480));
    assert_eq!(r.ended("long"), Some((EndReason::MaxWait, 0)));
    assert_eq!(r.missed("long"), Some(EndReason::MaxWait));
}

#[test]
fn a_phone_that_cannot_be_rung_is_tried_once_more_then_left_to_its_ring_timeout() {
    let mut r = Replay::new();
    r.unreachable.insert("anna");
    r.login("anna", "sales");
    r.arrive("c1", "sales");
    // Nobody else is free: the ACD offers the call to anna again at once; the second failure
    // at the same instant is not fed back, or this would loop.
    assert_eq!(r.rung().len(), 2);
    assert_eq!(r.events("c1"), [Kind::Rejected, Kind::Rejected]);
    assert_eq!(r.state("anna"), "ringing");
    r.unreachable.clear();
    r.clear();
    r.until(r.now + RING);
    assert_eq!(r.cancelled(), ["anna"]);
    assert_eq!(r.rung(), [("c1".into(), "anna".into())], "tried again after the timeout");
    assert_eq!(r.events("c1"), [Kind::NoAnswer, Kind::Offer]);
}

#[test]
fn a_browser_agent_whose_softphone_drops_is_paused_and_the_call_goes_on() {
    let mut r = Replay::new();
    let browser = Reach { browser_ready: true, queues: vec!["sales".into()], ..Reach::default() };
    let target = AgentTarget::Available;
    r.input(CallInput::SetState { agent_id: "anna".into(), target, reach: browser.clone() })
        .unwrap();
    r.now += 10;
    r.login("boris", "sales");
    r.arrive("c1", "sales");
    assert_eq!(r.rung(), [("c1".into(), "anna".into())]);
    r.input(CallInput::BrowserDown { agent_id: "anna".into() }).unwrap();
    assert_eq!(r.state("anna"), "paused");
    assert_eq!(r.rung()[1..], [("c1".into(), "boris".into())]);
    // Back, she is available again; without the softphone she cannot make herself so.
    let down = Reach { queues: vec!["sales".into()], ..Reach::default() };
    let refused = r.input(CallInput::SetState {
        agent_id: "anna".into(),
        target: AgentTarget::Available,
        reach: down,
    });
    assert!(matches!(refused, Err(SwitchError::SoftphoneNotConnected)));
    r.input(CallInput::BrowserUp { agent_id: "anna".into() }).unwrap();
    assert_eq!(r.state("anna"), "available");
}

#[test]
fn click_to_call_marks_the_agent_busy_and_frees_them_when_it_fails() {
    let mut r = Replay::new();
    r.login("anna", "sales");
    let dial = |call: &str| CallInput::Dial {
        call_id: call.into(),
        agent_id: "anna".into(),
        e164: "+79161234567".into(),
        endpoint: Endpoint::Sip("ext:anna".into()),
        caller_id: "+74950000000".into(),
        task_id: None,
    };
    r.input(dial("o1")).unwrap();
    assert!(r.events("o1").contains(&Kind::DialingAgent));
    assert!(matches!(r.input(dial("o2")), Err(SwitchError::Busy)));
    r.arrive("c1", "sales");
    assert!(r.rung().is_empty(), "no queue call while she dials");
    r.input(CallInput::OutboundFailed {
        call_id: "o1".into(),
        outcome: OutboundOutcome::Busy,
        code: Some(486),
    })
    .unwrap();
    assert_eq!(r.ended("o1"), Some((EndReason::Busy, 0)));
    assert_eq!(r.rung(), [("c1".into(), "anna".into())], "free again, the waiting call rings");
}

#[test]
fn after_a_restart_agents_come_back_and_calls_of_the_old_run_change_nothing() {
    // The run before the crash: anna talking, boris paused.
    let mut before = Replay::new();
    before.login("anna", "sales");
    before.login("boris", "sales");
    before.arrive("old", "sales");
    before.answer("old", "anna");
    drop(before);

    // The new run: the switch puts desk-phone agents back as the old run left them (available
    // from any state of taking calls, paused with its reason), as `restore_agents` does.
    let mut r = Replay::new();
    r.login("anna", "sales");
    r.login("boris", "sales");
    let paused = AgentTarget::Paused("lunch".into());
    r.input(CallInput::SetState {
        agent_id: "boris".into(),
        target: paused,
        reach: Reach::default(),
    })
    .unwrap();
    assert_eq!((r.state("anna"), r.state("boris")), ("available", "paused"));
    // The edge's late news of the old call: nothing is bridged, released or queued for it.
    r.clear();
    r.answer("old", "anna");
    r.edge_ended("old", EndedBy::Caller);
    r.input(CallInput::CallerGone { call_id: "old".into() }).unwrap();
    r.input(CallInput::Hold { call_id: "old".into(), by: Party::Caller, on: true }).unwrap();
    assert_eq!(r.count(|e| matches!(e, Effect::Connect { .. } | Effect::Release { .. })), 0);
    assert_eq!(r.count(|e| matches!(e, Effect::Log(Write::Missed(_)))), 0);
    assert_eq!(r.state("anna"), "available", "anna is not put on a call she is not on");
    // A new call goes to the agent taking calls.
    r.clear();
    r.arrive("new", "sales");
    assert_eq!(r.rung(), [("new".into(), "anna".into())]);
    r.answer("new", "anna");
    assert_eq!(r.state("anna"), "on_call");
}
