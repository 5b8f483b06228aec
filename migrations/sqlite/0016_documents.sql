-- Documents from templates (offers, invoices, contracts, acts), numbered per kind and year,
-- kept as the PDF that was rendered, approved when they must be, and e-mailed.

-- A company's requisites, printed on documents (tax_id is its ИНН).
ALTER TABLE companies ADD COLUMN kpp TEXT;
ALTER TABLE companies ADD COLUMN ogrn TEXT;
ALTER TABLE companies ADD COLUMN bank_name TEXT;
ALTER TABLE companies ADD COLUMN bik TEXT;
ALTER TABLE companies ADD COLUMN bank_account TEXT;
ALTER TABLE companies ADD COLUMN corr_account TEXT;

-- A template is typst source with {{placeholders}}; it is checked (known placeholders, it
-- compiles) before it is saved. The templates a fresh install starts with carry a key, and
-- the pages say their names in the reader's language until an administrator renames them.
CREATE TABLE document_templates (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('offer', 'invoice', 'contract', 'act')),
    name TEXT NOT NULL UNIQUE,
    key TEXT,
    source TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The last number given per kind and year.
CREATE TABLE document_numbers (
    kind TEXT NOT NULL,
    year INTEGER NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (kind, year)
);

-- status: ready (needs no approval), pending (waits for an approver), approved, rejected.
-- Only ready and approved documents may be sent. The PDF is stored whole: a document is
-- written only after it rendered, so none is ever half there.
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    deal_id TEXT NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    template_id TEXT REFERENCES document_templates (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    number TEXT NOT NULL,
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    total_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    max_discount INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('ready', 'pending', 'approved', 'rejected')),
    approval_reason TEXT,
    decided_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    decided_at INTEGER,
    decision_comment TEXT,
    pdf BLOB NOT NULL,
    pdf_size INTEGER NOT NULL,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, year, seq)
);
CREATE INDEX documents_deal ON documents (deal_id, created_at);
CREATE INDEX documents_status ON documents (status, created_at);

-- Every e-mail of a document: to whom, by whom, and what the mail server said.
CREATE TABLE document_sends (
    id TEXT PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    to_address TEXT NOT NULL,
    sent_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    sent_at INTEGER NOT NULL,
    error TEXT
);
CREATE INDEX document_sends_document ON document_sends (document_id, sent_at);
