//! Routing and timeouts, replayed by passing times: a 20 s ring timeout takes microseconds.

use super::*;
use crate::id::CallId;

const RING: i64 = 20_000;
const MAX_WAIT: i64 = 120_000;

fn center(strategy: Strategy, wrap_up_ms: i64) -> CallCenter {
    let mut c = CallCenter::new();
    c.set_queue(QueueConfig {
        id: "sales".into(),
        strategy,
        ring_timeout_ms: RING,
        max_wait_ms: MAX_WAIT,
        wrap_up_ms,
        skills: Default::default(),
    });
    c
}

fn login(c: &mut CallCenter, agent: &str, at: EpochMs) {
    c.handle(Input::AgentLogin { agent_id: agent.into(), queues: vec!["sales".into()] }, at)
        .unwrap();
}

fn arrive(c: &mut CallCenter, call: &str, at: EpochMs) -> Vec<Action> {
    c.handle(
        Input::CallArrived {
            call_id: call.into(),
            queue_id: "sales".into(),
            priority: 0,
            preferred: None,
        },
        at,
    )
    .unwrap()
}

fn offers(actions: &[Action]) -> Vec<(String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Offer { call_id, agent_id } => {
                Some((call_id.as_str().to_owned(), agent_id.as_str().to_owned()))
            }
            _ => None,
        })
        .collect()
}

fn offer(call: &str, agent: &str) -> (String, String) {
    (call.to_owned(), agent.to_owned())
}

#[test]
fn longest_idle_agent_gets_the_call_then_wraps_up() {
    let mut c = center(Strategy::LongestIdle, 30_000);
    login(&mut c, "b", 200);
    login(&mut c, "a", 100);
    login(&mut c, "c", 300);
    let out = arrive(&mut c, "call1", 1_000);
    assert_eq!(offers(&out), vec![offer("call1", "a")], "a has been free since 100");
    let out =
        c.handle(Input::Answered { call_id: "call1".into(), agent_id: "a".into() }, 3_000).unwrap();
    assert!(out.contains(&Action::Connect { call_id: "call1".into(), agent_id: "a".into() }));
    assert_eq!(c.agent_state("a"), AgentState::OnCall { call_id: "call1".into(), since: 3_000 });
    c.handle(Input::CallEnded { call_id: "call1".into() }, 63_000).unwrap();
    assert_eq!(c.next_deadline(), Some(93_000), "wrap-up ends by itself");
    assert!(c.tick(92_999).is_empty());
    c.tick(93_000);
    assert_eq!(c.agent_state("a"), AgentState::Available { since: 93_000 });
    // a is now the most recently freed: the next call goes to b.
    assert_eq!(offers(&arrive(&mut c, "call2", 94_000)), vec![offer("call2", "b")]);
}

#[test]
fn ring_timeout_moves_to_the_next_agent() {
    let mut c = center(Strategy::LongestIdle, 0);
    login(&mut c, "a", 0);
    login(&mut c, "b", 1);
    assert_eq!(offers(&arrive(&mut c, "call", 10)), vec![offer("call", "a")]);
    assert_eq!(c.next_deadline(), Some(10 + RING));
    assert!(c.tick(10 + RING - 1).is_empty());
    let out = c.tick(10 + RING);
    assert!(out.contains(&Action::CancelOffer {
        call_id: "call".into(),
        agent_id: "a".into(),
        reason: OfferEnd::NoAnswer
    }));
    assert_eq!(offers(&out), vec![offer("call", "b")]);
    // b does not answer either: back to a, who is the only one left to try.
    let out = c.tick(10 + 2 * RING);
    assert_eq!(offers(&out), vec![offer("call", "a")]);
}

#[test]
fn caller_released_after_the_maximum_wait() {
    let mut c = center(Strategy::LongestIdle, 0);
    arrive(&mut c, "call", 5_000);
    assert_eq!(c.waiting("sales"), vec![(CallId::from("call"), 5_000)]);
    assert_eq!(c.next_deadline(), Some(5_000 + MAX_WAIT));
    let out = c.tick(5_000 + MAX_WAIT);
    assert_eq!(out, vec![Action::ReleaseMaxWait { call_id: "call".into() }]);
    assert!(c.waiting("sales").is_empty());
    assert_eq!(c.next_deadline(), None);
}

#[test]
fn max_wait_also_stops_a_ringing_agent() {
    let mut c = center(Strategy::LongestIdle, 0);
    c.set_queue(QueueConfig {
        id: "sales".into(),
        strategy: Strategy::LongestIdle,
        ring_timeout_ms: 60_000,
        max_wait_ms: 30_000,
        wrap_up_ms: 0,
        skills: Default::default(),
    });
    login(&mut c, "a", 0);
    arrive(&mut c, "call", 0);
    let out = c.tick(30_000);
    assert!(out.contains(&Action::CancelOffer {
        call_id: "call".into(),
        agent_id: "a".into(),
        reason: OfferEnd::CallGone
    }));
    assert!(out.contains(&Action::ReleaseMaxWait { call_id: "call".into() }));
    assert!(c.agent_state("a").is_available());
}

#[test]
fn ring_all_first_answer_wins() {
    let mut c = center(Strategy::RingAll, 0);
    login(&mut c, "a", 0);
    login(&mut c, "b", 0);
    login(&mut c, "c", 0);
    c.handle(Input::AgentPause { agent_id: "c".into(), reason: "обед".into() }, 1).unwrap();
    assert_eq!(offers(&arrive(&mut c, "call", 10)), vec![offer("call", "a"), offer("call", "b")]);
    let out =
        c.handle(Input::Answered { call_id: "call".into(), agent_id: "b".into() }, 20).unwrap();
    assert!(out.contains(&Action::Connect { call_id: "call".into(), agent_id: "b".into() }));
    assert!(out.contains(&Action::CancelOffer {
        call_id: "call".into(),
        agent_id: "a".into(),
        reason: OfferEnd::TakenByOther
    }));
    assert!(c.agent_state("a").is_available());
    let late = c.handle(Input::Answered { call_id: "call".into(), agent_id: "a".into() }, 21);
    assert_eq!(late, Err(AcdError::NotOffered { agent_id: "a".into(), call_id: "call".into() }));
}

#[test]
fn round_robin_takes_turns() {
    let mut c = center(Strategy::RoundRobin, 0);
    for agent in ["a", "b", "c"] {
        login(&mut c, agent, 0);
    }
    let mut order = Vec::new();
    for i in 0..4 {
        let call = format!("call{i}");
        let out = arrive(&mut c, &call, 100 * i);
        let (_, agent) = offers(&out).pop().unwrap();
        c.handle(
            Input::Answered { call_id: call.clone().into(), agent_id: agent.clone().into() },
            100 * i + 1,
        )
        .unwrap();
        c.handle(Input::CallEnded { call_id: call.into() }, 100 * i + 2).unwrap();
        order.push(agent);
    }
    assert_eq!(order, ["a", "b", "c", "a"]);
}

#[test]
fn caller_hangs_up_while_ringing() {
    let mut c = center(Strategy::LongestIdle, 0);
    login(&mut c, "a", 0);
    arrive(&mut c, "call", 10);
    let out = c.handle(Input::CallerHungUp { call_id: "call".into() }, 15).unwrap();
    assert!(out.contains(&Action::CancelOffer {
        call_id: "call".into(),
        agent_id: "a".into(),
        reason: OfferEnd::CallGone
    }));
    assert!(out.contains(&Action::Abandoned { call_id: "call".into() }));
    assert_eq!(c.agent_state("a"), AgentState::Available { since: 15 });
}

#[test]
fn paused_agents_are_skipped_until_they_unpause() {
    let mut c = center(Strategy::LongestIdle, 0);
    login(&mut c, "a", 0);
    c.handle(Input::AgentPause { agent_id: "a".into(), reason: "training".into() }, 1).unwrap();
    assert!(offers(&arrive(&mut c, "call", 10)).is_empty());
    let out = c.handle(Input::AgentUnpause { agent_id: "a".into() }, 50).unwrap();
    assert_eq!(offers(&out), vec![offer("call", "a")]);
}

#[test]
fn rejected_offer_goes_to_someone_else_at_once() {
    let mut c = center(Strategy::LongestIdle, 0);
    login(&mut c, "a", 0);
    login(&mut c, "b", 5);
    arrive(&mut c, "call", 10);
    let out =
        c.handle(Input::Rejected { call_id: "call".into(), agent_id: "a".into() }, 12).unwrap();
    assert_eq!(offers(&out), vec![offer("call", "b")]);
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let mut c = center(Strategy::LongestIdle, 0);
    assert_eq!(
        c.handle(
            Input::CallArrived {
                call_id: "x".into(),
                queue_id: "nope".into(),
                priority: 0,
                preferred: None
            },
            0
        ),
        Err(AcdError::UnknownQueue("nope".into()))
    );
    assert_eq!(
        c.handle(Input::AgentLogout { agent_id: "ghost".into() }, 0),
        Err(AcdError::UnknownAgent("ghost".into()))
    );
    assert_eq!(
        c.handle(Input::CallEnded { call_id: "x".into() }, 0),
        Err(AcdError::UnknownCall("x".into()))
    );
    arrive(&mut c, "x", 0);
    assert_eq!(
        c.handle(
            Input::CallArrived {
                call_id: "x".into(),
                queue_id: "sales".into(),
                priority: 0,
                preferred: None
            },
            1
        ),
        Err(AcdError::DuplicateCall("x".into()))
    );
    login(&mut c, "a", 2);
    c.handle(Input::Answered { call_id: "x".into(), agent_id: "a".into() }, 3).unwrap();
    // An agent on a call cannot log out.
    assert!(matches!(
        c.handle(Input::AgentLogout { agent_id: "a".into() }, 4),
        Err(AcdError::Illegal(_))
    ));
}

#[test]
fn an_agent_dialing_out_is_skipped_until_the_outbound_call_ends() {
    let mut c = center(Strategy::LongestIdle, 0);
    login(&mut c, "a", 0);
    c.handle(Input::Dialing { agent_id: "a".into(), call_id: "out".into() }, 5).unwrap();
    assert!(offers(&arrive(&mut c, "in", 10)).is_empty(), "busy on the outbound call");
    let out = c.handle(Input::OutboundEnded { agent_id: "a".into() }, 20).unwrap();
    assert_eq!(
        offers(&out),
        vec![offer("in", "a")],
        "free again: the waiting call is offered at once"
    );
    // Ending again (a late report) changes nothing.
    assert!(c.handle(Input::OutboundEnded { agent_id: "a".into() }, 21).unwrap().is_empty());
}

#[test]
fn blind_transfer_to_an_agent_then_back_to_the_queue_when_unanswered() {
    let mut c = center(Strategy::LongestIdle, 10_000);
    login(&mut c, "a", 0);
    login(&mut c, "b", 1);
    login(&mut c, "c", 2);
    arrive(&mut c, "call1", 1_000);
    c.handle(Input::Answered { call_id: "call1".into(), agent_id: "a".into() }, 2_000).unwrap();
    // Only the agent talking may transfer; the target must be free.
    let wrong = c.handle(
        Input::Transfer {
            call_id: "call1".into(),
            agent_id: "b".into(),
            to: TransferTo::Queue("sales".into()),
        },
        3_000,
    );
    assert!(matches!(wrong, Err(AcdError::NotConnected { .. })));
    let busy = c.handle(
        Input::Transfer {
            call_id: "call1".into(),
            agent_id: "a".into(),
            to: TransferTo::Agent("a".into()),
        },
        3_000,
    );
    assert!(matches!(busy, Err(AcdError::NotAvailable(_))));
    // To c (not the longest idle): only c rings; a goes to wrap-up.
    let out = c
        .handle(
            Input::Transfer {
                call_id: "call1".into(),
                agent_id: "a".into(),
                to: TransferTo::Agent("c".into()),
            },
            50_000,
        )
        .unwrap();
    assert!(out.contains(&Action::Transferred { call_id: "call1".into(), agent_id: "a".into() }));
    assert_eq!(offers(&out), vec![offer("call1", "c")]);
    assert!(matches!(c.agent_state("a"), AgentState::WrapUp { .. }));
    // Next: a's wrap-up (60 s), then c's ring timeout (70 s); the maximum wait counts from
    // the transfer (170 s), not from the arrival (121 s).
    assert_eq!(c.next_deadline(), Some(60_000));
    c.tick(60_000);
    assert_eq!(c.next_deadline(), Some(50_000 + RING));
    // c lets it ring out: it goes to the queue (b), not back to c alone.
    let out = c.tick(50_000 + RING);
    assert_eq!(offers(&out), vec![offer("call1", "b")]);
    c.handle(Input::Answered { call_id: "call1".into(), agent_id: "b".into() }, 71_000).unwrap();
    assert_eq!(c.agent_state("b"), AgentState::OnCall { call_id: "call1".into(), since: 71_000 });
}

#[test]
fn blind_transfer_to_a_queue_resets_the_maximum_wait() {
    let mut c = center(Strategy::LongestIdle, 0);
    c.set_queue(QueueConfig {
        id: "billing".into(),
        strategy: Strategy::LongestIdle,
        ring_timeout_ms: RING,
        max_wait_ms: MAX_WAIT,
        wrap_up_ms: 0,
        skills: Default::default(),
    });
    login(&mut c, "a", 0);
    arrive(&mut c, "call1", 0);
    c.handle(Input::Answered { call_id: "call1".into(), agent_id: "a".into() }, 1_000).unwrap();
    let out = c
        .handle(
            Input::Transfer {
                call_id: "call1".into(),
                agent_id: "a".into(),
                to: TransferTo::Queue("billing".into()),
            },
            200_000,
        )
        .unwrap();
    assert!(offers(&out).is_empty(), "nobody serves billing yet");
    assert_eq!(c.waiting("billing").len(), 1);
    assert_eq!(c.agent_state("a"), AgentState::Available { since: 200_000 });
    assert!(c.tick(200_000 + MAX_WAIT - 1).is_empty());
    assert!(
        c.tick(200_000 + MAX_WAIT).contains(&Action::ReleaseMaxWait { call_id: "call1".into() })
    );
    assert!(matches!(
        c.handle(
            Input::Transfer {
                call_id: "x".into(),
                agent_id: "a".into(),
                to: TransferTo::Queue("nope".into())
            },
            1
        ),
        Err(AcdError::NotConnected { .. })
    ));
}

#[test]
fn blind_transfer_out_of_the_call_center_frees_the_agent() {
    let mut c = center(Strategy::LongestIdle, 0);
    login(&mut c, "a", 0);
    arrive(&mut c, "call1", 0);
    c.handle(Input::Answered { call_id: "call1".into(), agent_id: "a".into() }, 1_000).unwrap();
    let out = c
        .handle(
            Input::Transfer {
                call_id: "call1".into(),
                agent_id: "a".into(),
                to: TransferTo::External,
            },
            9_000,
        )
        .unwrap();
    assert!(out.contains(&Action::Transferred { call_id: "call1".into(), agent_id: "a".into() }));
    assert_eq!(c.agent_state("a"), AgentState::Available { since: 9_000 });
    assert!(c.waiting("sales").is_empty(), "the call left the queues");
    assert!(matches!(
        c.handle(Input::CallEnded { call_id: "call1".into() }, 10_000),
        Err(AcdError::UnknownCall(_))
    ));
}

fn arrive_with(
    c: &mut CallCenter,
    call: &str,
    at: EpochMs,
    priority: i64,
    preferred: Option<(&str, EpochMs)>,
) -> Vec<Action> {
    let preferred = preferred.map(|(agent, until)| (agent.into(), until));
    let input =
        Input::CallArrived { call_id: call.into(), queue_id: "sales".into(), priority, preferred };
    c.handle(input, at).unwrap()
}

#[test]
fn a_higher_priority_call_is_offered_before_older_ones() {
    let mut c = center(Strategy::LongestIdle, 0);
    arrive(&mut c, "old", 1_000);
    arrive(&mut c, "older", 500);
    arrive_with(&mut c, "vip", 2_000, 10, None);
    let order: Vec<String> = c.waiting("sales").into_iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(order, ["vip", "older", "old"], "the order callers are told and served in");
    let login_now = |c: &mut CallCenter, agent: &str, at: EpochMs| {
        let input = Input::AgentLogin { agent_id: agent.into(), queues: vec!["sales".into()] };
        offers(&c.handle(input, at).unwrap())
    };
    assert_eq!(login_now(&mut c, "a", 3_000), [offer("vip", "a")], "the VIP caller first");
    assert_eq!(login_now(&mut c, "b", 3_001), [offer("older", "b")], "then the oldest");
}

#[test]
fn a_call_kept_for_its_owner_rings_only_them_then_the_queue() {
    let mut c = center(Strategy::LongestIdle, 0);
    login(&mut c, "a", 100);
    login(&mut c, "owner", 200);
    // The owner is free: only they are rung, although a has been free longer.
    let out = arrive_with(&mut c, "c1", 1_000, 0, Some(("owner", 16_000)));
    assert_eq!(offers(&out), [offer("c1", "owner")]);
    // They let it ring out (the ring timeout): the queue gets it at once.
    let out = c.tick(1_000 + RING);
    assert_eq!(offers(&out), [offer("c1", "a")]);

    // The owner is busy: the call waits for them until its time is up, then goes to the queue.
    let mut c = center(Strategy::LongestIdle, 0);
    login(&mut c, "a", 100);
    c.handle(Input::AgentLogin { agent_id: "owner".into(), queues: vec![] }, 100).unwrap();
    c.handle(Input::AgentPause { agent_id: "owner".into(), reason: "lunch".into() }, 150).unwrap();
    let out = arrive_with(&mut c, "c2", 1_000, 0, Some(("owner", 16_000)));
    assert!(offers(&out).is_empty(), "kept for the owner (not in this queue, paused)");
    assert_eq!(c.next_deadline(), Some(16_000));
    let out = c.handle(Input::AgentUnpause { agent_id: "owner".into() }, 5_000).unwrap();
    assert_eq!(offers(&out), [offer("c2", "owner")], "the owner is rung as soon as they are free");
    c.handle(Input::Rejected { call_id: "c2".into(), agent_id: "owner".into() }, 6_000).unwrap();
    assert!(
        matches!(c.agent_state("a"), AgentState::Ringing { .. }),
        "a refusal ends the wait for them"
    );

    let mut c = center(Strategy::LongestIdle, 0);
    login(&mut c, "a", 100);
    let out = arrive_with(&mut c, "c3", 1_000, 0, Some(("owner", 16_000)));
    assert!(offers(&out).is_empty(), "the owner is not logged in: kept until the time is up");
    assert!(c.tick(15_999).is_empty());
    assert_eq!(offers(&c.tick(16_000)), [offer("c3", "a")]);
}

fn skills(list: &[(&str, u8)]) -> Skills {
    list.iter().map(|(name, level)| ((*name).to_owned(), *level)).collect()
}

fn skilled_queue(c: &mut CallCenter, strategy: Strategy, needs: Skills) {
    c.set_queue(QueueConfig {
        id: "sales".into(),
        strategy,
        ring_timeout_ms: RING,
        max_wait_ms: MAX_WAIT,
        wrap_up_ms: 0,
        skills: needs,
    });
}

#[test]
fn a_queue_that_needs_skills_is_offered_only_to_agents_who_have_them() {
    let mut c = CallCenter::new();
    skilled_queue(&mut c, Strategy::LongestIdle, skills(&[("english", 3)]));
    // The longest idle agent speaks English at level 2 only: passed over.
    c.set_skills("weak", skills(&[("english", 2)]));
    c.set_skills("fluent", skills(&[("english", 4), ("1c", 1)]));
    login(&mut c, "weak", 0);
    login(&mut c, "none", 10);
    login(&mut c, "fluent", 500);
    assert_eq!(offers(&arrive(&mut c, "call", 1_000)), [offer("call", "fluent")]);
    // With the only qualified agent busy, the next call waits instead of going to the others.
    assert!(offers(&arrive(&mut c, "second", 2_000)).is_empty());
    assert!(qualified(&skills(&[("english", 5)]), &skills(&[("english", 3)])));
    assert!(!qualified(&Skills::new(), &skills(&[("english", 1)])));
    assert!(qualified(&Skills::new(), &Skills::new()), "no skills needed: everyone");
}

#[test]
fn the_skills_strategy_picks_the_best_fit_then_the_longest_idle() {
    let mut c = CallCenter::new();
    skilled_queue(&mut c, Strategy::Skills, skills(&[("english", 1), ("1c", 1)]));
    c.set_skills("a", skills(&[("english", 2), ("1c", 1)]));
    c.set_skills("b", skills(&[("english", 5), ("1c", 3)]));
    c.set_skills("c", skills(&[("english", 5), ("1c", 3)]));
    login(&mut c, "c", 100);
    login(&mut c, "b", 50);
    login(&mut c, "a", 0);
    // b and c fit best (8); b has been idle longer. Then c, then a.
    assert_eq!(offers(&arrive(&mut c, "1", 1_000)), [offer("1", "b")]);
    assert_eq!(offers(&arrive(&mut c, "2", 1_001)), [offer("2", "c")]);
    assert_eq!(offers(&arrive(&mut c, "3", 1_002)), [offer("3", "a")]);
    assert_eq!(
        fit(
            &skills(&[("english", 5), ("1c", 3), ("de", 4)]),
            &skills(&[("english", 1), ("1c", 1)])
        ),
        8
    );
    assert_eq!("skills".parse::<Strategy>(), Ok(Strategy::Skills));
}

#[test]
fn a_transfer_to_one_agent_ignores_the_queues_skills() {
    let mut c = CallCenter::new();
    skilled_queue(&mut c, Strategy::LongestIdle, skills(&[("german", 2)]));
    c.set_skills("speaks", skills(&[("german", 2)]));
    login(&mut c, "speaks", 0);
    login(&mut c, "other", 0);
    arrive(&mut c, "call", 100);
    c.handle(Input::Answered { call_id: "call".into(), agent_id: "speaks".into() }, 200).unwrap();
    let to = TransferTo::Agent("other".into());
    let out = c
        .handle(Input::Transfer { call_id: "call".into(), agent_id: "speaks".into(), to }, 300)
        .unwrap();
    assert_eq!(offers(&out), [offer("call", "other")]);
    assert!(check_skills(&skills(&[("english", 6)])).is_err());
    assert!(check_skills(&skills(&[(" english", 1)])).is_err());
    assert!(check_skills(&skills(&[("английский", 5)])).is_ok());
}

#[test]
fn a_call_waiting_without_its_caller_outlives_the_maximum_wait_and_keeps_its_place() {
    let mut c = center(Strategy::LongestIdle, 0);
    arrive(&mut c, "callback", 0);
    arrive(&mut c, "later", 1_000);
    c.handle(Input::WaitsWithoutCaller { call_id: "callback".into() }, 2_000).unwrap();
    let out = c.tick(MAX_WAIT + 1_000);
    assert_eq!(
        out,
        [Action::ReleaseMaxWait { call_id: "later".into() }],
        "only the caller who waited"
    );
    assert_eq!(c.next_deadline(), None, "nothing due for the callback");
    login(&mut c, "a", 10 * MAX_WAIT);
    assert!(matches!(c.agent_state("a"), AgentState::Ringing { .. }), "{:?}", c.agent_state("a"));
    assert!(c.handle(Input::WaitsWithoutCaller { call_id: "nope".into() }, 0).is_err());
}
