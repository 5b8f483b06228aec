-- When a deal is expected to close (the forecast groups open deals by its month).
ALTER TABLE deals ADD COLUMN expected_close_at BIGINT;
-- The reports read deals by when they were created and closed, and leads by when they came.
CREATE INDEX deals_created ON deals (created_at);
CREATE INDEX deals_closed ON deals (closed_at) WHERE closed_at IS NOT NULL;
