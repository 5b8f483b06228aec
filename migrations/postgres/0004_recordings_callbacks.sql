-- Recordings and callbacks (issue 5).

-- Callback tasks: created for missed and abandoned calls (one open task per number, its
-- count of missed calls going up) or scheduled by an operator from the card.
ALTER TABLE tasks ADD COLUMN callback BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN missed_count BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tasks_callback_phone ON tasks (phone_e164, status);

-- What a user is told that is not a call: escalated tasks, for now. Read when the user sees
-- it in the console (or through the API).
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    task_id TEXT REFERENCES tasks (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, read_at);

-- Recordings still on disk, by age: what the retention job walks.
CREATE INDEX calls_recording_live ON calls (offered_at) WHERE recording_path IS NOT NULL AND recording_purged_at IS NULL;
