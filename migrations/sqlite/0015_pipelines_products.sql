-- Several pipelines (sales, service, ...) each with its own stages; rules that run when a deal
-- enters a stage; the product catalogue and deals' line items.
--
-- This version runs outside the migrator's transaction: SQLite cannot drop the old global
-- uniqueness of a stage's name in place, so the stages table is rebuilt the documented way
-- (new table, copy every row, drop, rename) with foreign keys off for the swap, inside our
-- own transaction.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE pipelines (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key TEXT,
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
-- The pipeline every existing stage belongs to (and a fresh install's first one).
INSERT INTO pipelines (id, name, key, position, created_at)
VALUES ('sales', 'Sales', 'sales', 1, CAST(strftime('%s', 'now') AS INTEGER) * 1000);

-- required_fields: a JSON array of what a deal must have before it may enter the stage
-- ("amount", "contact_id", "company_id", "owner_id", "items", or a deal custom field's key).
CREATE TABLE pipeline_stages_new (
    id TEXT PRIMARY KEY,
    pipeline_id TEXT NOT NULL REFERENCES pipelines (id),
    name TEXT NOT NULL,
    key TEXT,
    position INTEGER NOT NULL,
    probability INTEGER NOT NULL DEFAULT 0,
    required_fields TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    UNIQUE (pipeline_id, name)
);
INSERT INTO pipeline_stages_new (id, pipeline_id, name, key, position, probability, created_at)
SELECT id, 'sales', name, key, position, probability, created_at FROM pipeline_stages;
DROP TABLE pipeline_stages;
ALTER TABLE pipeline_stages_new RENAME TO pipeline_stages;
CREATE INDEX pipeline_stages_pipeline ON pipeline_stages (pipeline_id, position);

-- What happens when a deal enters a stage: a task (kind, subject, assignee, due) or a
-- notification. assignee: 'owner' (the deal's), 'user' (assignee_user_id) or 'role' (the
-- active user of assignee_role with the fewest open tasks; every such user for a notification).
-- due: due_hours after entering, or on the date in the deal's custom field due_field (at
-- due_hours o'clock UTC when both are set).
CREATE TABLE stage_rules (
    id TEXT PRIMARY KEY,
    stage_id TEXT NOT NULL REFERENCES pipeline_stages (id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('task', 'notify')),
    task_kind TEXT NOT NULL DEFAULT 'todo',
    subject TEXT NOT NULL,
    assignee TEXT NOT NULL CHECK (assignee IN ('owner', 'user', 'role')),
    assignee_user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    assignee_role TEXT,
    due_hours INTEGER,
    due_field TEXT,
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX stage_rules_stage ON stage_rules (stage_id, position);

-- A notification can be about a deal (a stage rule, an approval) as well as a task.
ALTER TABLE notifications ADD COLUMN deal_id TEXT REFERENCES deals (id) ON DELETE CASCADE;

-- The product catalogue. Prices in minor units of currency; vat_rate in hundredths of a
-- percent (2000 is 20%), NULL for goods sold without VAT.
CREATE TABLE products (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    sku TEXT UNIQUE,
    unit TEXT NOT NULL,
    price_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    vat_rate INTEGER,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX products_name ON products (active, name_key);

-- A deal's line items: what the product was when added (name, unit, price and VAT are copied,
-- so a later price change does not rewrite an offer). quantity in thousandths; discount in
-- hundredths of a percent.
CREATE TABLE deal_items (
    id TEXT PRIMARY KEY,
    deal_id TEXT NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    product_id TEXT REFERENCES products (id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    sku TEXT,
    unit TEXT NOT NULL,
    quantity_milli INTEGER NOT NULL,
    price_minor INTEGER NOT NULL,
    discount INTEGER NOT NULL DEFAULT 0,
    vat_rate INTEGER,
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX deal_items_deal ON deal_items (deal_id, position);

-- 1 when a user typed the deal's amount: it no longer follows the line items.
ALTER TABLE deals ADD COLUMN amount_manual INTEGER NOT NULL DEFAULT 0;
UPDATE deals SET amount_manual = 1 WHERE amount_minor IS NOT NULL;

COMMIT;
PRAGMA foreign_keys = ON;
