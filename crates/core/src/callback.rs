//! Callbacks: the rules that turn missed calls into tasks and overdue tasks into escalations.
//!
//! Every missed or abandoned call asks for a callback to its number. There is at most one open
//! callback task per number: a repeated miss updates it (one more missed call, and a due time
//! that never moves later than it was) instead of piling up duplicates. A callback still open
//! `escalate_after_ms` past its due time is escalated, once, to the supervisor of the assignee's
//! team. Times come in as arguments; the store and the server supply them.

use crate::EpochMs;

/// How callbacks are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackPolicy {
    /// A missed call's callback is due this long after the miss.
    pub due_after_ms: i64,
    /// An open callback is escalated this long after its due time (0: as soon as it is due).
    pub escalate_after_ms: i64,
}

impl Default for CallbackPolicy {
    fn default() -> CallbackPolicy {
        CallbackPolicy { due_after_ms: 15 * 60 * 1000, escalate_after_ms: 0 }
    }
}

/// The open callback task a number already has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCallback {
    /// The task.
    pub task_id: String,
    /// When it is due.
    pub due_at: Option<EpochMs>,
    /// Missed calls it stands for so far.
    pub missed_count: i64,
}

/// What to do about a missed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissedPlan {
    /// Create a callback task due at `due_at`.
    Create {
        /// Due time.
        due_at: EpochMs,
    },
    /// Update the number's open task.
    Update {
        /// The task.
        task_id: String,
        /// Its due time (the earlier of the old one and the new miss's).
        due_at: EpochMs,
        /// Missed calls it now stands for.
        missed_count: i64,
    },
}

/// The plan for a call from a number missed at `now`, given that number's open callback.
pub fn on_missed(policy: &CallbackPolicy, open: Option<&OpenCallback>, now: EpochMs) -> MissedPlan {
    let due_at = now.saturating_add(policy.due_after_ms.max(0));
    match open {
        None => MissedPlan::Create { due_at },
        Some(task) => MissedPlan::Update {
            task_id: task.task_id.clone(),
            due_at: task.due_at.map_or(due_at, |d| d.min(due_at)),
            missed_count: task.missed_count.max(0) + 1,
        },
    }
}

/// Who a callback goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    /// The contact's owner.
    User(String),
    /// Whoever serves the queue the call came to.
    Queue(String),
}

/// The contact's owner when there is one and they are an active user; otherwise the queue the
/// call came to (no assignee at all when the call had no queue and the owner is unavailable).
pub fn assign(owner: Option<(&str, bool)>, queue_id: Option<&str>) -> Option<Assignee> {
    match (owner, queue_id) {
        (Some((id, true)), _) => Some(Assignee::User(id.to_owned())),
        (_, Some(queue)) => Some(Assignee::Queue(queue.to_owned())),
        _ => None,
    }
}

/// An open callback as the escalation check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCallback {
    /// The task.
    pub task_id: String,
    /// When it is due.
    pub due_at: EpochMs,
    /// Already escalated (then never again).
    pub escalated_at: Option<EpochMs>,
    /// Who it is assigned to.
    pub assignee_id: Option<String>,
    /// The supervisor of the assignee's team, or for a task of a queue the supervisor of a
    /// team whose agents serve it.
    pub supervisor_id: Option<String>,
}

/// One escalation to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// The task.
    pub task_id: String,
    /// The supervisor it goes to; `None` when there is none (the server then tells the
    /// managers).
    pub to: Option<String>,
}

/// Whether a callback due at `due_at` is overdue at `now` for escalation.
pub fn is_overdue(policy: &CallbackPolicy, due_at: EpochMs, now: EpochMs) -> bool {
    now >= due_at.saturating_add(policy.escalate_after_ms.max(0))
}

/// The escalations due at `now` among open callbacks: each overdue one not escalated yet, to
/// its supervisor (unless the supervisor is the assignee, who already has it).
pub fn escalations(
    policy: &CallbackPolicy,
    tasks: &[DueCallback],
    now: EpochMs,
) -> Vec<Escalation> {
    tasks
        .iter()
        .filter(|t| t.escalated_at.is_none() && is_overdue(policy, t.due_at, now))
        .map(|t| Escalation {
            task_id: t.task_id.clone(),
            to: t.supervisor_id.clone().filter(|s| Some(s) != t.assignee_id.as_ref()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn policy() -> CallbackPolicy {
        CallbackPolicy { due_after_ms: 15 * MIN, escalate_after_ms: 5 * MIN }
    }

    #[test]
    fn a_first_miss_creates_and_repeats_update_without_postponing() {
        let p = policy();
        assert_eq!(on_missed(&p, None, 1000), MissedPlan::Create { due_at: 1000 + 15 * MIN });
        let open =
            OpenCallback { task_id: "t".into(), due_at: Some(1000 + 15 * MIN), missed_count: 1 };
        // Ten minutes later the same number misses again: still one task, due when it was.
        assert_eq!(
            on_missed(&p, Some(&open), 1000 + 10 * MIN),
            MissedPlan::Update { task_id: "t".into(), due_at: 1000 + 15 * MIN, missed_count: 2 }
        );
        // A task scheduled far ahead is brought forward by a new miss.
        let later = OpenCallback { due_at: Some(1000 + 100 * MIN), ..open.clone() };
        assert_eq!(
            on_missed(&p, Some(&later), 2000),
            MissedPlan::Update { task_id: "t".into(), due_at: 2000 + 15 * MIN, missed_count: 2 }
        );
        let undated = OpenCallback { due_at: None, ..open };
        assert_eq!(
            on_missed(&p, Some(&undated), 2000),
            MissedPlan::Update { task_id: "t".into(), due_at: 2000 + 15 * MIN, missed_count: 2 }
        );
    }

    #[test]
    fn owner_first_then_queue() {
        assert_eq!(assign(Some(("u1", true)), Some("q")), Some(Assignee::User("u1".into())));
        assert_eq!(assign(Some(("u1", false)), Some("q")), Some(Assignee::Queue("q".into())));
        assert_eq!(assign(None, Some("q")), Some(Assignee::Queue("q".into())));
        assert_eq!(assign(Some(("u1", false)), None), None);
    }

    #[test]
    fn overdue_callbacks_escalate_once_at_the_right_time() {
        let p = policy();
        let due = 10 * MIN;
        let task = DueCallback {
            task_id: "t".into(),
            due_at: due,
            escalated_at: None,
            assignee_id: Some("op".into()),
            supervisor_id: Some("sup".into()),
        };
        // Due but within the grace period: nothing.
        assert!(escalations(&p, std::slice::from_ref(&task), due).is_empty());
        assert!(escalations(&p, std::slice::from_ref(&task), due + 5 * MIN - 1).is_empty());
        // At the end of the grace period, to the supervisor.
        assert_eq!(
            escalations(&p, std::slice::from_ref(&task), due + 5 * MIN),
            vec![Escalation { task_id: "t".into(), to: Some("sup".into()) }]
        );
        // Once escalated, never again.
        let done = DueCallback { escalated_at: Some(due + 5 * MIN), ..task.clone() };
        assert!(escalations(&p, &[done], due + 60 * MIN).is_empty());
        // A supervisor's own task has nobody above in the team.
        let own = DueCallback { assignee_id: Some("sup".into()), ..task };
        assert_eq!(
            escalations(&p, &[own], due + 6 * MIN),
            vec![Escalation { task_id: "t".into(), to: None }]
        );
    }
}
