-- Coarser statistics rollups (issue 6), so that a dashboard over months reads hundreds or
-- thousands of rows, not millions. Each holds the same additive counters as call_stats, summed
-- over the dimensions it leaves out, and is maintained by the same diff in the same
-- transaction. A day is the start of the local day (epoch ms) under stats.utc_offset_minutes
-- when written.

-- Per 15-minute slot and queue: hourly charts, and ranges that are not whole days.
CREATE TABLE call_stats_queue (
    slot INTEGER NOT NULL,
    queue_id TEXT NOT NULL,
    offered INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    abandoned INTEGER NOT NULL DEFAULT 0,
    short_abandoned INTEGER NOT NULL DEFAULT 0,
    timed_out INTEGER NOT NULL DEFAULT 0,
    answered_in_sl INTEGER NOT NULL DEFAULT 0,
    answer_wait_ms INTEGER NOT NULL DEFAULT 0,
    handled INTEGER NOT NULL DEFAULT 0,
    talk_ms INTEGER NOT NULL DEFAULT 0,
    hold_ms INTEGER NOT NULL DEFAULT 0,
    wrapup_ms INTEGER NOT NULL DEFAULT 0,
    missed_offers INTEGER NOT NULL DEFAULT 0,
    outbound_attempts INTEGER NOT NULL DEFAULT 0,
    outbound_connected INTEGER NOT NULL DEFAULT 0,
    outbound_talk_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (slot, queue_id)
);

-- Per day, queue and disposition: totals, queues, outcomes, days and weeks over whole days.
CREATE TABLE call_stats_day (
    day INTEGER NOT NULL,
    queue_id TEXT NOT NULL,
    disposition TEXT NOT NULL,
    offered INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    abandoned INTEGER NOT NULL DEFAULT 0,
    short_abandoned INTEGER NOT NULL DEFAULT 0,
    timed_out INTEGER NOT NULL DEFAULT 0,
    answered_in_sl INTEGER NOT NULL DEFAULT 0,
    answer_wait_ms INTEGER NOT NULL DEFAULT 0,
    handled INTEGER NOT NULL DEFAULT 0,
    talk_ms INTEGER NOT NULL DEFAULT 0,
    hold_ms INTEGER NOT NULL DEFAULT 0,
    wrapup_ms INTEGER NOT NULL DEFAULT 0,
    missed_offers INTEGER NOT NULL DEFAULT 0,
    outbound_attempts INTEGER NOT NULL DEFAULT 0,
    outbound_connected INTEGER NOT NULL DEFAULT 0,
    outbound_talk_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, queue_id, disposition)
);

-- Per day, queue and agent: agents' figures over whole days.
CREATE TABLE call_stats_agent_day (
    day INTEGER NOT NULL,
    queue_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    offered INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    abandoned INTEGER NOT NULL DEFAULT 0,
    short_abandoned INTEGER NOT NULL DEFAULT 0,
    timed_out INTEGER NOT NULL DEFAULT 0,
    answered_in_sl INTEGER NOT NULL DEFAULT 0,
    answer_wait_ms INTEGER NOT NULL DEFAULT 0,
    handled INTEGER NOT NULL DEFAULT 0,
    talk_ms INTEGER NOT NULL DEFAULT 0,
    hold_ms INTEGER NOT NULL DEFAULT 0,
    wrapup_ms INTEGER NOT NULL DEFAULT 0,
    missed_offers INTEGER NOT NULL DEFAULT 0,
    outbound_attempts INTEGER NOT NULL DEFAULT 0,
    outbound_connected INTEGER NOT NULL DEFAULT 0,
    outbound_talk_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, queue_id, agent_id)
);
CREATE INDEX call_stats_agent_day_agent ON call_stats_agent_day (agent_id, day);

-- Agents' handling and available time per local day, from state spans once they have ended
-- (an open span is added when read). Occupancy over whole days reads these.
CREATE TABLE agent_state_day (
    day INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    handling_ms INTEGER NOT NULL DEFAULT 0,
    available_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, agent_id)
);
CREATE INDEX agent_state_log_still_open ON agent_state_log (user_id) WHERE ended_at IS NULL;

-- Callback figures from the index alone (no table lookups over a month of tasks).
DROP INDEX tasks_callback_created;
CREATE INDEX tasks_callback_stats ON tasks (callback, created_at, status, completed_at, due_at, escalated_at);

-- What the day rollups were derived under: a store opened with another stats.utc_offset_minutes
-- (or just migrated) derives the day tables again at start-up.
CREATE TABLE stats_meta (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
