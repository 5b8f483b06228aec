-- Telephony (issue 3): agents' SIP phones, queue wrap-up, call outcomes.

-- An agent's SIP phone: either a fixed URI the gateway calls, or an extension the phone
-- registers as with the gateway (digest secret kept as HA1 = MD5(extension:switchboard:password)).
CREATE TABLE sip_endpoints (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    uri TEXT,
    extension TEXT UNIQUE,
    ha1 TEXT,
    updated_at INTEGER NOT NULL,
    CHECK ((uri IS NULL) <> (extension IS NULL))
);

ALTER TABLE queues ADD COLUMN wrap_up_ms INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX queues_number ON queues (number);

-- How the call came in (trunk or account name) and, for calls that failed, the SIP status.
ALTER TABLE calls ADD COLUMN origin TEXT;
ALTER TABLE calls ADD COLUMN sip_code INTEGER;
