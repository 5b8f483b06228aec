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
