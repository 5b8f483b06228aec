-- Prompts: audio played to callers (uploaded files and synthesized text), stored as what the
-- gateway sends: G.711 mu-law at 8 kHz, mono. The built-in prompts ship in the binary and
-- are not rows.
CREATE TABLE prompts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL,
    source TEXT NOT NULL,
    text TEXT,
    file_name TEXT,
    duration_ms INTEGER NOT NULL,
    audio BLOB NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL
);
