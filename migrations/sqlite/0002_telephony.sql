-- Telephony (issue 3): agents' SIP phones, queue wrap-up, call outcomes.

-- An agent's SIP phone: a fixed URI the gateway calls (extension registration comes later).
CREATE TABLE sip_endpoints (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    uri TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

ALTER TABLE queues ADD COLUMN wrap_up_ms INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX queues_number ON queues (number);

-- How the call came in (trunk or account name) and, for calls that failed, the SIP status.
ALTER TABLE calls ADD COLUMN origin TEXT;
ALTER TABLE calls ADD COLUMN sip_code INTEGER;
