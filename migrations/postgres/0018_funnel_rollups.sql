-- The funnel report over many deals reads day rollups instead of every deal and its history.
-- The highest position a deal reached among its current pipeline's stages (kept on each move).
ALTER TABLE deals ADD COLUMN reached_position BIGINT NOT NULL DEFAULT 0;
-- Deals by the UTC day they were created (created_at / 86400000), their pipeline, the
-- position they reached, where they are now, their status and currency.
CREATE TABLE deal_funnel_days (
    pipeline_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    reached BIGINT NOT NULL,
    stage_id TEXT NOT NULL,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    deals BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (pipeline_id, day, reached, stage_id, status, currency)
);
-- Finished stays in a stage (the deal moved on) by the UTC day the deal was created.
CREATE TABLE deal_stay_days (
    stage_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    total_ms BIGINT NOT NULL,
    stays BIGINT NOT NULL,
    PRIMARY KEY (stage_id, day)
);
-- The console shows a lead's callback task at once: tasks are looked up by their lead.
CREATE INDEX leads_task ON leads (task_id);
-- Open deals by pipeline, currency and the quarter hour they are expected to close in
-- (expected_close_at / 900000; dated 0 for none), with their amounts weighted by probability
-- (the deal's own, else its stage's): the forecast reads this instead of every open deal.
CREATE TABLE deal_forecast_slots (
    pipeline_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    dated BIGINT NOT NULL,
    slot BIGINT NOT NULL,
    deals BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    weighted_minor BIGINT NOT NULL,
    PRIMARY KEY (pipeline_id, currency, dated, slot)
);
