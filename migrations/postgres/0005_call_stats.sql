-- Statistics (issue 6): additive counters per 15-minute slot, queue, agent and disposition
-- ('' for none), maintained in the same transaction as every change to an ended call
-- (switchboard_core::stats::contribution says what a call adds). Dashboards sum these rows
-- instead of scanning the calls.
CREATE TABLE call_stats (
    slot BIGINT NOT NULL,
    queue_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    disposition TEXT NOT NULL,
    offered BIGINT NOT NULL DEFAULT 0,
    answered BIGINT NOT NULL DEFAULT 0,
    abandoned BIGINT NOT NULL DEFAULT 0,
    short_abandoned BIGINT NOT NULL DEFAULT 0,
    timed_out BIGINT NOT NULL DEFAULT 0,
    answered_in_sl BIGINT NOT NULL DEFAULT 0,
    answer_wait_ms BIGINT NOT NULL DEFAULT 0,
    handled BIGINT NOT NULL DEFAULT 0,
    talk_ms BIGINT NOT NULL DEFAULT 0,
    hold_ms BIGINT NOT NULL DEFAULT 0,
    wrapup_ms BIGINT NOT NULL DEFAULT 0,
    missed_offers BIGINT NOT NULL DEFAULT 0,
    outbound_attempts BIGINT NOT NULL DEFAULT 0,
    outbound_connected BIGINT NOT NULL DEFAULT 0,
    outbound_talk_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (slot, queue_id, agent_id, disposition)
);
CREATE INDEX call_stats_agent ON call_stats (agent_id, slot);

-- Which calls are ended and in the rollups, by offer time (the recount walks them).
CREATE INDEX calls_ended ON calls (ended_at);
CREATE INDEX agent_state_log_open ON agent_state_log (user_id, ended_at);
CREATE INDEX tasks_callback_created ON tasks (callback, created_at);
