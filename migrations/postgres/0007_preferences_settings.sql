-- Each user's language for the pages (NULL: the browser's), and settings an admin changes in
-- the browser (dispositions, recording retention), which override the configuration file.
ALTER TABLE users ADD COLUMN language TEXT;

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
