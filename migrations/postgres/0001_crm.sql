-- Switchboard schema, PostgreSQL dialect. Keep in step with ../sqlite/0001_crm.sql:
-- the same tables and columns; ids are TEXT (UUIDv7 hex), times BIGINT epoch milliseconds,
-- flags BIGINT 0/1, money BIGINT minor units. UUIDv7 ids sort by creation time, so lists order
-- by id instead of keeping an index on created_at.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'manager', 'admin')),
    password_hash TEXT NOT NULL,
    team_id TEXT,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    supervisor_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);
ALTER TABLE users ADD CONSTRAINT users_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE SET NULL;
CREATE INDEX users_team ON users (team_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE queues (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    number TEXT,
    strategy TEXT NOT NULL DEFAULT 'longest_idle',
    ring_timeout_ms BIGINT NOT NULL DEFAULT 20000,
    max_wait_ms BIGINT NOT NULL DEFAULT 300000,
    record BIGINT NOT NULL DEFAULT 1,
    sl_answer_ms BIGINT NOT NULL DEFAULT 20000,
    sl_target_pct BIGINT NOT NULL DEFAULT 80,
    created_at BIGINT NOT NULL
);

CREATE TABLE queue_members (
    queue_id TEXT NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    priority BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (queue_id, user_id)
);

CREATE TABLE sip_accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    registrar TEXT NOT NULL,
    password TEXT NOT NULL,
    expiry_s BIGINT NOT NULL DEFAULT 300,
    enabled BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

CREATE TABLE companies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    tax_id TEXT,
    website TEXT,
    address TEXT,
    owner_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX companies_name_key ON companies (name_key);
CREATE INDEX companies_owner ON companies (owner_id);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    middle_name TEXT NOT NULL DEFAULT '',
    position TEXT,
    company_id TEXT REFERENCES companies (id) ON DELETE SET NULL,
    owner_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    search_text TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX contacts_owner ON contacts (owner_id);
CREATE INDEX contacts_company ON contacts (company_id);

-- contact_phones and contact_emails have no foreign key to contacts on purpose: the check
-- costs more than half of a bulk import's insert time, and only the store writes these rows,
-- in the same transaction as their contact (deleting a contact deletes them explicitly).
CREATE TABLE contact_phones (
    contact_id TEXT NOT NULL,
    e164 TEXT NOT NULL,
    extension TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'mobile',
    position BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (contact_id, e164, extension)
);
CREATE INDEX contact_phones_e164 ON contact_phones (e164);

CREATE TABLE contact_emails (
    contact_id TEXT NOT NULL,
    email TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (contact_id, email)
);
CREATE INDEX contact_emails_email ON contact_emails (email);

CREATE TABLE custom_field_defs (
    id TEXT PRIMARY KEY,
    entity TEXT NOT NULL CHECK (entity IN ('contact', 'company', 'deal')),
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    field_type TEXT NOT NULL CHECK (field_type IN ('text', 'number', 'date', 'choice')),
    choices TEXT NOT NULL DEFAULT '[]',
    required BIGINT NOT NULL DEFAULT 0,
    position BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (entity, key)
);

CREATE TABLE custom_field_values (
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    field_key TEXT NOT NULL,
    value_text TEXT NOT NULL,
    value_key TEXT NOT NULL,
    value_number DOUBLE PRECISION,
    PRIMARY KEY (entity, entity_id, field_key)
);
CREATE INDEX custom_field_values_search ON custom_field_values (entity, field_key, value_key);

CREATE TABLE pipeline_stages (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    position BIGINT NOT NULL,
    probability BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE deals (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    contact_id TEXT REFERENCES contacts (id) ON DELETE SET NULL,
    company_id TEXT REFERENCES companies (id) ON DELETE SET NULL,
    stage_id TEXT NOT NULL REFERENCES pipeline_stages (id),
    amount_minor BIGINT,
    currency TEXT NOT NULL DEFAULT 'RUB',
    probability BIGINT,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    loss_reason TEXT,
    competitor TEXT,
    owner_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    closed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX deals_contact ON deals (contact_id, status);
CREATE INDEX deals_company ON deals (company_id);
CREATE INDEX deals_stage ON deals (stage_id, status);
CREATE INDEX deals_owner ON deals (owner_id);

CREATE TABLE deal_changes (
    id TEXT PRIMARY KEY,
    deal_id TEXT NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    from_stage_id TEXT,
    to_stage_id TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT,
    competitor TEXT,
    changed_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX deal_changes_deal ON deal_changes (deal_id, changed_at);

CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    from_e164 TEXT NOT NULL,
    to_e164 TEXT NOT NULL,
    queue_id TEXT REFERENCES queues (id) ON DELETE SET NULL,
    agent_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    contact_id TEXT REFERENCES contacts (id) ON DELETE SET NULL,
    deal_id TEXT REFERENCES deals (id) ON DELETE SET NULL,
    task_id TEXT,
    offered_at BIGINT NOT NULL,
    answered_at BIGINT,
    ended_at BIGINT,
    wait_ms BIGINT,
    talk_ms BIGINT,
    hold_ms BIGINT NOT NULL DEFAULT 0,
    wrapup_ms BIGINT,
    end_reason TEXT,
    disposition TEXT,
    notes TEXT,
    recording_path TEXT,
    recording_duration_ms BIGINT,
    recording_size BIGINT,
    recording_purged_at BIGINT,
    legal_hold BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX calls_contact ON calls (contact_id, offered_at);
CREATE INDEX calls_deal ON calls (deal_id);
CREATE INDEX calls_agent ON calls (agent_id, offered_at);
CREATE INDEX calls_queue ON calls (queue_id, offered_at);
CREATE INDEX calls_from ON calls (from_e164, offered_at);
CREATE INDEX calls_offered ON calls (offered_at);

CREATE TABLE call_events (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    agent_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX call_events_call ON call_events (call_id, at);

CREATE TABLE agent_state_log (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    reason TEXT,
    started_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX agent_state_log_user ON agent_state_log (user_id, started_at);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'meeting', 'email', 'todo')),
    subject TEXT NOT NULL,
    description TEXT,
    due_at BIGINT,
    assignee_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    queue_id TEXT REFERENCES queues (id) ON DELETE SET NULL,
    contact_id TEXT REFERENCES contacts (id) ON DELETE SET NULL,
    deal_id TEXT REFERENCES deals (id) ON DELETE SET NULL,
    call_id TEXT REFERENCES calls (id) ON DELETE SET NULL,
    phone_e164 TEXT,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    result TEXT,
    completed_at BIGINT,
    escalated_at BIGINT,
    escalated_to TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX tasks_assignee ON tasks (assignee_id, status, due_at);
CREATE INDEX tasks_contact ON tasks (contact_id, status);
CREATE INDEX tasks_deal ON tasks (deal_id);
CREATE INDEX tasks_due ON tasks (status, due_at);

CREATE TABLE notes (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    contact_id TEXT REFERENCES contacts (id) ON DELETE CASCADE,
    company_id TEXT REFERENCES companies (id) ON DELETE CASCADE,
    deal_id TEXT REFERENCES deals (id) ON DELETE CASCADE,
    call_id TEXT REFERENCES calls (id) ON DELETE SET NULL,
    author_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notes_contact ON notes (contact_id, created_at);
CREATE INDEX notes_company ON notes (company_id, created_at);
CREATE INDEX notes_deal ON notes (deal_id, created_at);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_user ON audit_log (user_id, id);
