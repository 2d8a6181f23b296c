-- A person's facts: every event that carried a subject reference, with the
-- reference, and nothing else about the person. References are
-- pseudonymous personal data (docs/subjects.md): they live only here, never
-- in `events`, are read only by the subject questions, and each row is
-- deleted when keep_until passes — the end of the retention of its
-- category, or of the evidence period for consents and requests.
--
-- ORDER BY starts with the reference, so a person's rows are one range of
-- the primary index: `subject show` reads a few granules whatever the
-- table's size. (source, id) completes the event identity, so
-- ReplacingMergeTree collapses redeliveries as in `events`; queries read
-- FINAL.
CREATE TABLE IF NOT EXISTS subject_refs
(
    ref               String COMMENT 'subject reference (sr1:…), a keyed pseudonym of one person',
    source            LowCardinality(String),
    id                String,
    kind              LowCardinality(String),
    time              DateTime64(3, 'UTC'),
    category          LowCardinality(String),
    data_subject      LowCardinality(String),
    purpose           LowCardinality(String),
    legal_basis       LowCardinality(String),
    recipient_name    LowCardinality(String),
    recipient_role    LowCardinality(String),
    recipient_country LowCardinality(String),
    reason            LowCardinality(String),
    request_right     LowCardinality(String),
    channel           LowCardinality(String),
    grounds           LowCardinality(String),
    keep_until        DateTime('UTC') COMMENT 'when the row is deleted (TTL)',
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (ref, source, id)
TTL keep_until
SETTINGS non_replicated_deduplication_window = 1000;

-- Who asked about whom: one row per subject question asked and per use of
-- the subject role. Append-only: nothing in datamap updates or deletes it,
-- and the API has no route that writes it except by asking.
CREATE TABLE IF NOT EXISTS subject_audit
(
    at       DateTime64(3, 'UTC'),
    who      LowCardinality(String) COMMENT 'the subject token name, or the CLI user, never a token',
    surface  LowCardinality(String) COMMENT 'cli, api or web',
    question LowCardinality(String),
    ref      String COMMENT 'the subject reference asked about, empty for a list'
)
ENGINE = MergeTree
ORDER BY at;
