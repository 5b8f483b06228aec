-- The stages a fresh install starts with carry a key, and the pages say them in the reader's
-- language; a stage an administrator names (or renames) has no key and shows its name.
ALTER TABLE pipeline_stages ADD COLUMN key TEXT;
UPDATE pipeline_stages SET key = 'new' WHERE name = 'New';
UPDATE pipeline_stages SET key = 'qualified' WHERE name = 'Qualified';
UPDATE pipeline_stages SET key = 'proposal' WHERE name = 'Proposal';
UPDATE pipeline_stages SET key = 'negotiation' WHERE name = 'Negotiation';
