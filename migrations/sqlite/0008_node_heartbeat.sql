-- The moment each gateway node was last known to be alive, written every second while it
-- serves. Calls and agents' states that a crash leaves open are closed at that moment at the
-- next start, so the downtime is not counted as talk or state time.
CREATE TABLE node_heartbeat (
    node TEXT PRIMARY KEY,
    alive_at INTEGER NOT NULL
);
