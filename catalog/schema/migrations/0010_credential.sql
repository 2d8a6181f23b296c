-- Which credential brought each event: its name, never its secret —
-- http:<token name> for the HTTP ingest, nats:<source> for a service's own
-- NATS subject, nats:legacy for the old shared subjects (docs/security.md).
-- Rows stored before read as empty: brought before it was recorded.
ALTER TABLE events ADD COLUMN IF NOT EXISTS credential LowCardinality(String) DEFAULT ''
    COMMENT 'the credential that brought the event (a name, never a secret), empty before it was recorded';
ALTER TABLE subject_refs ADD COLUMN IF NOT EXISTS credential LowCardinality(String) DEFAULT ''
    COMMENT 'the credential that brought the event (a name, never a secret), empty before it was recorded';
-- subject_rights is a copy of rows of subject_refs, column for column.
ALTER TABLE subject_rights ADD COLUMN IF NOT EXISTS credential LowCardinality(String) DEFAULT ''
    COMMENT 'the credential that brought the event (a name, never a secret), empty before it was recorded';
