-- Browser agents (issue 4): the operator's after-call form. `disposition` and `notes` exist
-- since 0001; the reason the customer called is new.
ALTER TABLE calls ADD COLUMN reason TEXT;
