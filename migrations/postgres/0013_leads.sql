-- Leads from outside: web forms (each with its own public token) and integrations.

-- A form on a website: its token is in the form's address, so a post needs no account;
-- posts from other sites' pages are refused unless listed in allowed_origins (a JSON array
-- of origins, '*' for any). A lead's callback task is due callback_minutes after it arrives
-- and goes to the contact's owner, else in turn to the active members of team_id.
CREATE TABLE lead_forms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL UNIQUE,
    callback_minutes BIGINT NOT NULL DEFAULT 15,
    team_id TEXT REFERENCES teams (id) ON DELETE SET NULL,
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    active BIGINT NOT NULL DEFAULT 1,
    spam BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Each lead as it arrived, with where it came from and what it made.
CREATE TABLE leads (
    id TEXT PRIMARY KEY,
    form_id TEXT REFERENCES lead_forms (id) ON DELETE SET NULL,
    channel TEXT NOT NULL CHECK (channel IN ('form', 'api')),
    name TEXT,
    phone_e164 TEXT,
    email TEXT,
    message TEXT,
    source TEXT,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    utm_term TEXT,
    utm_content TEXT,
    referrer TEXT,
    contact_id TEXT REFERENCES contacts (id) ON DELETE SET NULL,
    deal_id TEXT REFERENCES deals (id) ON DELETE SET NULL,
    task_id TEXT REFERENCES tasks (id) ON DELETE SET NULL,
    assignee_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    contact_created BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX leads_created ON leads (created_at);
CREATE INDEX leads_form ON leads (form_id, created_at);
CREATE INDEX leads_deal ON leads (deal_id);
