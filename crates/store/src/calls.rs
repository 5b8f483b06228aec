//! The call log: one row per call that follows it from offer to end, and its events.
//! The telephony adapters write here; statistics and timelines read it.

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::call::{CallEventKind, EndReason};
use switchboard_core::entity::{Call, CallDirection, CallEvent, DealStatus};
use switchboard_core::new_id;

use crate::sql::{Sql, parse_col, parse_opt_col};
use crate::{Actor, Page, PageRequest, Store, StoreError, audit, now_ms};

/// What the operator records about a call (absent fields stay as they are).
#[derive(Debug, Clone, Default)]
pub struct CallOutcome {
    /// Who called: the contact to link (`Some(None)` unlinks).
    pub contact_id: Option<Option<String>>,
    /// The deal to link (`Some(None)` unlinks). When the contact changes and no deal is given,
    /// the contact's one open deal is linked (none when it has several).
    pub deal_id: Option<Option<String>>,
    /// Why they called.
    pub reason: Option<String>,
    /// Outcome from the configured list (checked by the caller of this).
    pub disposition: Option<String>,
    /// Notes.
    pub notes: Option<String>,
}

/// A call entering the system.
#[derive(Debug, Clone)]
pub struct NewCall {
    /// In or out.
    pub direction: CallDirection,
    /// Caller (E.164 when it parsed).
    pub from_e164: String,
    /// Called number.
    pub to_e164: String,
    /// Queue, for inbound calls.
    pub queue_id: Option<String>,
    /// When it was offered.
    pub offered_at: i64,
    /// Id to use (the telephony edge names its calls); `None` mints one.
    pub id: Option<String>,
    /// Trunk or account it came through, for inbound calls.
    pub origin: Option<String>,
    /// The agent, when known from the start (click-to-call).
    pub agent_id: Option<String>,
    /// The task it is placed for (a callback from the task list).
    pub task_id: Option<String>,
}

pub(crate) const CALL_COLUMNS: &str = "id, direction, from_e164, to_e164, queue_id, agent_id, contact_id, deal_id, offered_at, \
    answered_at, ended_at, wait_ms, talk_ms, hold_ms, end_reason, origin, sip_code, reason, disposition, notes, wrapup_ms, task_id, \
    recording_path, recording_duration_ms, recording_size, recording_purged_at, legal_hold";

pub(crate) fn call_from_row(row: &AnyRow) -> Result<Call, StoreError> {
    Ok(Call {
        id: row.try_get("id")?,
        direction: parse_col(row, "direction")?,
        from_e164: row.try_get("from_e164")?,
        to_e164: row.try_get("to_e164")?,
        queue_id: row.try_get("queue_id")?,
        agent_id: row.try_get("agent_id")?,
        contact_id: row.try_get("contact_id")?,
        deal_id: row.try_get("deal_id")?,
        offered_at: row.try_get("offered_at")?,
        answered_at: row.try_get("answered_at")?,
        ended_at: row.try_get("ended_at")?,
        wait_ms: row.try_get("wait_ms")?,
        talk_ms: row.try_get("talk_ms")?,
        hold_ms: row.try_get("hold_ms")?,
        end_reason: parse_opt_col(row, "end_reason")?,
        origin: row.try_get("origin")?,
        sip_code: row.try_get("sip_code")?,
        reason: row.try_get("reason")?,
        disposition: row.try_get("disposition")?,
        notes: row.try_get("notes")?,
        wrapup_ms: row.try_get("wrapup_ms")?,
        task_id: row.try_get("task_id")?,
        recorded: row.try_get::<Option<String>, _>("recording_path")?.is_some(),
        recording_duration_ms: row.try_get("recording_duration_ms")?,
        recording_size: row.try_get("recording_size")?,
        recording_purged_at: row.try_get("recording_purged_at")?,
        legal_hold: row.try_get::<i64, _>("legal_hold")? != 0,
    })
}

async fn insert_event(
    conn: &mut sqlx::AnyConnection,
    call_id: &str,
    at: i64,
    kind: CallEventKind,
    agent_id: Option<&str>,
    detail: &Value,
) -> Result<(), StoreError> {
    let mut sql =
        Sql::new("INSERT INTO call_events (id, call_id, at, kind, agent_id, detail) VALUES (");
    sql.bind(new_id())
        .push(", ")
        .bind(call_id.to_owned())
        .push(", ")
        .bind(at)
        .push(", ")
        .bind(kind.as_str().to_owned());
    sql.push(", ").bind(agent_id.map(str::to_owned)).push(", ").bind(detail.to_string()).push(")");
    sql.execute(conn).await?;
    Ok(())
}

impl Store {
    /// Logs a new call. A call from a task links the task's contact and deal; otherwise the
    /// customer's number links the contact when exactly one contact has it, and the deal when
    /// that contact has exactly one open deal; the operator picks the rest later.
    pub async fn create_call(&self, new: NewCall) -> Result<Call, StoreError> {
        let customer = match new.direction {
            CallDirection::Inbound => &new.from_e164,
            CallDirection::Outbound => &new.to_e164,
        };
        let contacts = self.find_contacts_by_phone(customer).await?;
        // A call placed from a task is about the task's contact and deal (a lead's callback
        // is linked to the lead's deal even when the contact has several).
        let task = match &new.task_id {
            Some(id) => self.get_task(id).await.ok(),
            None => None,
        };
        let contact_id =
            match (task.as_ref().and_then(|t| t.contact_id.clone()), contacts.as_slice()) {
                (Some(contact), _) => Some(contact),
                (None, [only]) => Some(only.id.clone()),
                (None, _) => None,
            };
        let deal_id = match (task.as_ref().and_then(|t| t.deal_id.clone()), &contact_id) {
            (Some(deal), _) => Some(deal),
            (None, Some(contact)) => self.only_open_deal(contact).await?,
            (None, None) => None,
        };
        let id = new.id.clone().unwrap_or_else(new_id);
        let mut sql = Sql::new(
            "INSERT INTO calls (id, direction, from_e164, to_e164, queue_id, contact_id, deal_id, offered_at, origin, agent_id, task_id) VALUES (",
        );
        sql.bind(id.clone())
            .push(", ")
            .bind(new.direction.as_str().to_owned())
            .push(", ")
            .bind(new.from_e164.clone());
        sql.push(", ")
            .bind(new.to_e164.clone())
            .push(", ")
            .bind(new.queue_id.clone())
            .push(", ")
            .bind(contact_id);
        sql.push(", ")
            .bind(deal_id)
            .push(", ")
            .bind(new.offered_at)
            .push(", ")
            .bind(new.origin.clone())
            .push(", ")
            .bind(new.agent_id.clone());
        sql.push(", ").bind(new.task_id.clone()).push(")");
        sql.execute(&self.pool).await?;
        self.add_call_event(
            &id,
            new.offered_at,
            CallEventKind::Offered,
            None,
            json!({"from": new.from_e164, "to": new.to_e164}),
        )
        .await?;
        self.get_call(&id).await
    }

    /// The contact's open deal when it has exactly one.
    async fn only_open_deal(&self, contact_id: &str) -> Result<Option<String>, StoreError> {
        let mut sql = Sql::new("SELECT id FROM deals WHERE contact_id = ");
        sql.bind(contact_id.to_owned())
            .push(" AND status = ")
            .bind(DealStatus::Open.as_str().to_owned())
            .push(" LIMIT 2");
        let rows = sql.fetch_all(&self.pool).await?;
        match rows.as_slice() {
            [only] => Ok(Some(only.try_get::<String, _>("id")?)),
            _ => Ok(None),
        }
    }

    /// Records the operator's form for a call: who called, the deal, reason, disposition and
    /// notes. Audited, and a `form_saved` event on the call.
    pub async fn set_call_outcome(
        &self,
        actor: &Actor,
        id: &str,
        outcome: CallOutcome,
    ) -> Result<Call, StoreError> {
        let call = self.get_call(id).await?;
        let contact_id = match &outcome.contact_id {
            Some(Some(contact)) => Some(self.get_contact(contact).await?.id),
            Some(None) => None,
            None => call.contact_id.clone(),
        };
        let deal_id = match &outcome.deal_id {
            Some(Some(deal)) => Some(self.get_deal(deal).await?.id),
            Some(None) => None,
            None if contact_id != call.contact_id => match &contact_id {
                Some(contact) => self.only_open_deal(contact).await?,
                None => None,
            },
            None => call.deal_id.clone(),
        };
        let reason = outcome.reason.clone().or(call.reason);
        let disposition = outcome.disposition.clone().or(call.disposition);
        let notes = outcome.notes.clone().or(call.notes);
        let mut tx = self.begin_write().await?;
        let before = crate::stats::call_fact(&mut tx, id).await?;
        let mut sql = Sql::new("UPDATE calls SET contact_id = ");
        sql.bind(contact_id.clone())
            .push(", deal_id = ")
            .bind(deal_id.clone())
            .push(", reason = ")
            .bind(reason.clone());
        sql.push(", disposition = ")
            .bind(disposition.clone())
            .push(", notes = ")
            .bind(notes.clone())
            .push(" WHERE id = ")
            .bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        let after = crate::stats::call_fact(&mut tx, id).await?;
        self.apply_stats(&mut tx, before.as_ref(), after.as_ref()).await?;
        let detail = json!({"contact_id": contact_id, "deal_id": deal_id, "reason": reason, "disposition": disposition});
        audit::record(&mut tx, actor, "call.outcome", "call", Some(id), detail.clone()).await?;
        tx.commit().await?;
        let who = actor.user_id.as_deref();
        self.add_call_event(id, now_ms(), CallEventKind::FormSaved, who, detail).await?;
        self.get_call(id).await
    }

    /// A call by id.
    pub async fn get_call(&self, id: &str) -> Result<Call, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {CALL_COLUMNS} FROM calls WHERE id = "));
        sql.bind(id.to_owned());
        call_from_row(&sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("call"))?)
    }

    /// Records that the call flow sent the call to `queue_id` at `at`: its wait is counted
    /// from here, not from its arrival (time in the menus is not queue wait).
    pub async fn call_queued(&self, id: &str, queue_id: &str, at: i64) -> Result<(), StoreError> {
        let mut sql = Sql::new("UPDATE calls SET queue_id = ");
        sql.bind(queue_id.to_owned()).push(", queued_at = ").bind(at);
        sql.push(" WHERE id = ").bind(id.to_owned()).push(" AND ended_at IS NULL");
        sql.execute(&self.pool).await?;
        self.add_call_event(id, at, CallEventKind::Queued, None, json!({"queue_id": queue_id}))
            .await
    }

    /// Records that `agent_id` answered at `at`; the wait is counted from the offer (or from
    /// when the call flow queued it).
    pub async fn call_answered(
        &self,
        id: &str,
        agent_id: &str,
        at: i64,
    ) -> Result<Call, StoreError> {
        let mut sql = Sql::new("UPDATE calls SET agent_id = ");
        sql.bind(agent_id.to_owned())
            .push(", answered_at = ")
            .bind(at)
            .push(", wait_ms = ")
            .bind(at)
            .push(" - COALESCE(queued_at, offered_at)");
        sql.push(" WHERE id = ")
            .bind(id.to_owned())
            .push(" AND answered_at IS NULL AND ended_at IS NULL");
        if sql.execute(&self.pool).await? == 0 {
            self.get_call(id).await?;
            return Err(StoreError::Conflict("the call was already answered or has ended".into()));
        }
        self.add_call_event(id, at, CallEventKind::Answered, Some(agent_id), json!({})).await?;
        self.get_call(id).await
    }

    /// The agent a transferred call is now with (the answer time stays the first agent's).
    pub async fn call_transferred_to(
        &self,
        id: &str,
        agent_id: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut sql = Sql::new("UPDATE calls SET agent_id = ");
        sql.bind(agent_id.to_owned()).push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&self.pool).await?;
        self.add_call_event(
            id,
            at,
            CallEventKind::Answered,
            Some(agent_id),
            json!({"after_transfer": true}),
        )
        .await
    }

    /// Closes a call at `at` with its reason and the hold time counted by the caller of this.
    /// Talk time runs from the answer; an unanswered call's wait runs to the end.
    pub async fn call_ended(
        &self,
        id: &str,
        at: i64,
        end_reason: EndReason,
        hold_ms: i64,
    ) -> Result<Call, StoreError> {
        let mut tx = self.begin_write().await?;
        if !self.end_call(&mut tx, id, at, end_reason, Some(hold_ms)).await? {
            drop(tx);
            self.get_call(id).await?;
            return Err(StoreError::Conflict("the call has already ended".into()));
        }
        tx.commit().await?;
        self.get_call(id).await
    }

    /// Ends an open call through `conn` (with its `ended` event and its statistics); false
    /// when it was not open.
    async fn end_call(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: &str,
        at: i64,
        end_reason: EndReason,
        hold_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut sql = Sql::new("UPDATE calls SET ended_at = ");
        sql.bind(at).push(", end_reason = ").bind(end_reason.as_str().to_owned());
        if let Some(hold) = hold_ms {
            sql.push(", hold_ms = ").bind(hold.max(0));
        }
        sql.push(", talk_ms = CASE WHEN answered_at IS NULL THEN NULL ELSE ")
            .bind(at)
            .push(" - answered_at END");
        sql.push(", wait_ms = CASE WHEN answered_at IS NULL THEN ")
            .bind(at)
            .push(" - COALESCE(queued_at, offered_at) ELSE wait_ms END");
        sql.push(" WHERE id = ").bind(id.to_owned()).push(" AND ended_at IS NULL");
        if sql.execute(&mut *conn).await? == 0 {
            return Ok(false);
        }
        let detail = json!({"reason": end_reason.as_str()});
        insert_event(&mut *conn, id, at, CallEventKind::Ended, None, &detail).await?;
        let fact = crate::stats::call_fact(&mut *conn, id).await?;
        self.apply_stats(&mut *conn, None, fact.as_ref()).await?;
        Ok(true)
    }

    /// Records the SIP status of a call that failed (an outbound leg refused, for instance).
    pub async fn set_call_sip_code(&self, id: &str, code: i64) -> Result<(), StoreError> {
        let mut sql = Sql::new("UPDATE calls SET sip_code = ");
        sql.bind(code).push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every call still open (after a crash or restart) with `end_reason`, each at the
    /// last moment the gateway is known to have carried it (see
    /// [`switchboard_core::recovery::interrupted_end`]): the node's last heartbeat
    /// (`last_alive`) or the end of the call's recording, not `now`. Returns how many.
    pub async fn close_open_calls(
        &self,
        now: i64,
        last_alive: Option<i64>,
        end_reason: EndReason,
    ) -> Result<u64, StoreError> {
        let open = Sql::new("SELECT id, offered_at, answered_at, recording_duration_ms FROM calls WHERE ended_at IS NULL").fetch_all(&self.pool).await?;
        let mut ends = Vec::with_capacity(open.len());
        for row in &open {
            let id: String = row.try_get("id")?;
            let at = switchboard_core::recovery::interrupted_end(
                now,
                last_alive,
                row.try_get("offered_at")?,
                row.try_get("answered_at")?,
                row.try_get("recording_duration_ms")?,
            );
            ends.push((id, at));
        }
        let mut closed = 0;
        for chunk in ends.chunks(500) {
            let mut tx = self.begin_write().await?;
            for (id, at) in chunk {
                if self.end_call(&mut tx, id, *at, end_reason, None).await? {
                    closed += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(closed)
    }

    /// Notes that `node` is alive at `at` (written every second while it serves).
    pub async fn heartbeat(&self, node: &str, at: i64) -> Result<(), StoreError> {
        let mut sql = Sql::new("INSERT INTO node_heartbeat (node, alive_at) VALUES (");
        sql.bind(node.to_owned())
            .push(", ")
            .bind(at)
            .push(") ON CONFLICT (node) DO UPDATE SET alive_at = excluded.alive_at");
        sql.execute(&self.pool).await?;
        Ok(())
    }

    /// The last moment `node` was known to be alive, if it ever ran with heartbeats.
    pub async fn last_heartbeat(&self, node: &str) -> Result<Option<i64>, StoreError> {
        let mut sql = Sql::new("SELECT alive_at FROM node_heartbeat WHERE node = ");
        sql.bind(node.to_owned());
        Ok(match sql.fetch_optional(&self.pool).await? {
            Some(row) => Some(row.try_get("alive_at")?),
            None => None,
        })
    }

    /// Whether `agent_id` handled a call with `contact_id` since `since` (epoch ms): such an
    /// agent may fill in the caller's details on the after-call form.
    pub async fn handled_call_with(
        &self,
        agent_id: &str,
        contact_id: &str,
        since: i64,
    ) -> Result<bool, StoreError> {
        let mut sql = Sql::new("SELECT COUNT(*) FROM calls WHERE agent_id = ");
        sql.bind(agent_id.to_owned())
            .push(" AND contact_id = ")
            .bind(contact_id.to_owned())
            .push(" AND offered_at >= ")
            .bind(since);
        Ok(sql.fetch_count(&self.pool).await? > 0)
    }

    /// Calls, newest first; only `agent_id`'s when given.
    pub async fn list_calls(
        &self,
        agent_id: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Call>, StoreError> {
        let build = |select: &str| {
            let mut sql = Sql::new(select);
            sql.push(" FROM calls WHERE 1 = 1");
            if let Some(agent) = agent_id {
                sql.push(" AND agent_id = ").bind(agent.to_owned());
            }
            sql
        };
        let total = build("SELECT COUNT(*)").fetch_count(&self.pool).await?;
        let mut sql = build(&format!("SELECT {CALL_COLUMNS}"));
        sql.push(" ORDER BY offered_at DESC, id DESC LIMIT ").bind(i64::from(page.per_page));
        sql.push(" OFFSET ").bind(page.offset());
        let items = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(call_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, page: page.page, per_page: page.per_page, total })
    }

    /// The latest `limit` calls of a contact (when given) or else from a number, newest first
    /// (for the client card; both lookups use an index).
    pub async fn recent_calls(
        &self,
        contact_id: Option<&str>,
        from_e164: &str,
        limit: u32,
    ) -> Result<Vec<Call>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {CALL_COLUMNS} FROM calls WHERE "));
        match contact_id {
            Some(id) => sql.push("contact_id = ").bind(id.to_owned()),
            None => sql.push("from_e164 = ").bind(from_e164.to_owned()),
        };
        sql.push(" ORDER BY offered_at DESC LIMIT ").bind(i64::from(limit));
        sql.fetch_all(&self.pool).await?.iter().map(call_from_row).collect()
    }

    /// Appends an event to a call's timeline.
    pub async fn add_call_event(
        &self,
        call_id: &str,
        at: i64,
        kind: CallEventKind,
        agent_id: Option<&str>,
        detail: Value,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_event(&mut conn, call_id, at, kind, agent_id, &detail).await
    }

    /// A call's events, in order.
    pub async fn call_events(&self, call_id: &str) -> Result<Vec<CallEvent>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, call_id, at, kind, agent_id, detail FROM call_events WHERE call_id = ",
        );
        sql.bind(call_id.to_owned()).push(" ORDER BY at, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let detail: String = row.try_get("detail")?;
                Ok(CallEvent {
                    id: row.try_get("id")?,
                    call_id: row.try_get("call_id")?,
                    at: row.try_get("at")?,
                    kind: parse_col(row, "kind")?,
                    agent_id: row.try_get("agent_id")?,
                    detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
                })
            })
            .collect()
    }
}
