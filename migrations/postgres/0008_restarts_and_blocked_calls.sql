-- The moment each gateway node was last known to be alive, written every second while it
-- serves. Calls and agents' states that a crash leaves open are closed at that moment at the
-- next start, so the downtime is not counted as talk or state time.
CREATE TABLE node_heartbeat (
    node TEXT PRIMARY KEY,
    alive_at BIGINT NOT NULL
);

-- Calls refused at the door for capacity (503 beyond sip.max_calls) are logged as calls that
-- ended as 'blocked'; the rollups count them (they are also counted as offered).
ALTER TABLE call_stats ADD COLUMN blocked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE call_stats_queue ADD COLUMN blocked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE call_stats_day ADD COLUMN blocked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE call_stats_agent_day ADD COLUMN blocked BIGINT NOT NULL DEFAULT 0;

-- Agents' desk phones registered with the gateway's registrar, kept so that after a restart
-- the gateway knows which phones are still registered (until their bindings expire) and can
-- put their agents back in the state they had.
CREATE TABLE sip_bindings (
    extension TEXT PRIMARY KEY,
    contact TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
