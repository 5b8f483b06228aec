-- Several pipelines (sales, service, ...) each with its own stages; rules that run when a deal
-- enters a stage; the product catalogue and deals' line items. (The SQLite version says more.)

CREATE TABLE pipelines (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key TEXT,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO pipelines (id, name, key, position, created_at)
VALUES ('sales', 'Sales', 'sales', 1, (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT);

ALTER TABLE pipeline_stages DROP CONSTRAINT pipeline_stages_name_key;
ALTER TABLE pipeline_stages ADD COLUMN pipeline_id TEXT REFERENCES pipelines (id);
UPDATE pipeline_stages SET pipeline_id = 'sales';
ALTER TABLE pipeline_stages ALTER COLUMN pipeline_id SET NOT NULL;
ALTER TABLE pipeline_stages ADD COLUMN required_fields TEXT NOT NULL DEFAULT '[]';
ALTER TABLE pipeline_stages ADD CONSTRAINT pipeline_stages_pipeline_name UNIQUE (pipeline_id, name);
CREATE INDEX pipeline_stages_pipeline ON pipeline_stages (pipeline_id, position);

CREATE TABLE stage_rules (
    id TEXT PRIMARY KEY,
    stage_id TEXT NOT NULL REFERENCES pipeline_stages (id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('task', 'notify')),
    task_kind TEXT NOT NULL DEFAULT 'todo',
    subject TEXT NOT NULL,
    assignee TEXT NOT NULL CHECK (assignee IN ('owner', 'user', 'role')),
    assignee_user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    assignee_role TEXT,
    due_hours BIGINT,
    due_field TEXT,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX stage_rules_stage ON stage_rules (stage_id, position);

ALTER TABLE notifications ADD COLUMN deal_id TEXT REFERENCES deals (id) ON DELETE CASCADE;

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    sku TEXT UNIQUE,
    unit TEXT NOT NULL,
    price_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    vat_rate BIGINT,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX products_name ON products (active, name_key);

CREATE TABLE deal_items (
    id TEXT PRIMARY KEY,
    deal_id TEXT NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    product_id TEXT REFERENCES products (id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    sku TEXT,
    unit TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    price_minor BIGINT NOT NULL,
    discount BIGINT NOT NULL DEFAULT 0,
    vat_rate BIGINT,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX deal_items_deal ON deal_items (deal_id, position);

ALTER TABLE deals ADD COLUMN amount_manual BIGINT NOT NULL DEFAULT 0;
UPDATE deals SET amount_manual = 1 WHERE amount_minor IS NOT NULL;
