-- Entry points: the called numbers that start a call flow (prompts, menus, then a queue),
-- the flow itself as JSON (checked by the application before it is stored), its language and
-- how callers are answered. Each number belongs to one entry point.
CREATE TABLE entry_points (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL,
    answer TEXT NOT NULL,
    flow TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE entry_point_numbers (
    number TEXT PRIMARY KEY,
    entry_point_id TEXT NOT NULL REFERENCES entry_points(id) ON DELETE CASCADE
);

-- When the call flow sent a call to its queue; the queue wait is counted from here (from
-- offered_at when the call went straight to a queue).
ALTER TABLE calls ADD COLUMN queued_at INTEGER;

-- What a queue's waiting callers hear: 'ringback', 'music' or a prompt's id (NULL: the
-- gateway's sip.waiting_sound), and every how many seconds they are told their position and
-- the expected wait (0: never), in which language.
ALTER TABLE queues ADD COLUMN waiting_sound TEXT;
ALTER TABLE queues ADD COLUMN announce_every_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN language TEXT NOT NULL DEFAULT 'ru';

-- Routing by what the CRM knows: a caller whose contact (or open deal) has an owner rings
-- that owner alone for owner_first_s seconds first (0: no); a contact whose custom field
-- vip_field is set is served before the others.
ALTER TABLE queues ADD COLUMN owner_first_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN vip_field TEXT;
