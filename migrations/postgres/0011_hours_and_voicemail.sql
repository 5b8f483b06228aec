-- Business hours, voicemail and queue callbacks.

-- Business hours: weekly hours in an IANA time zone and exceptions by date (holidays,
-- shortened days, working weekends), as JSON checked by the application. A call flow's
-- `hours` step and a queue refer to a schedule by id.
CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    time_zone TEXT NOT NULL,
    week TEXT NOT NULL,
    exceptions TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A queue closed by its schedule: its callers hear the after-hours prompt and leave a
-- message (after_hours 'voicemail') or are let go ('hangup').
ALTER TABLE queues ADD COLUMN schedule_id TEXT REFERENCES schedules(id) ON DELETE SET NULL;
ALTER TABLE queues ADD COLUMN after_hours TEXT NOT NULL DEFAULT 'voicemail';

-- The call whose recording is the caller's message, on the callback task it left.
ALTER TABLE tasks ADD COLUMN voicemail_call_id TEXT;

-- Queue callback ("virtual hold"): a waiting caller is offered to be called back after
-- callback_after_s of waiting, or at once when the queue's typical wait is over
-- callback_over_wait_s (0: never for that); the customer is called up to callback_attempts
-- times, callback_retry_s apart.
ALTER TABLE queues ADD COLUMN callback_after_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN callback_over_wait_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN callback_attempts INTEGER NOT NULL DEFAULT 3;
ALTER TABLE queues ADD COLUMN callback_retry_s INTEGER NOT NULL DEFAULT 300;

-- Skills (a language, a product) with levels 1-5, as JSON objects: what an agent has, and what
-- a queue's calls need (each at least at its level) to be offered to them.
ALTER TABLE users ADD COLUMN skills TEXT NOT NULL DEFAULT '{}';
ALTER TABLE queues ADD COLUMN skills TEXT NOT NULL DEFAULT '{}';
