-- The facts that say who exercised a right: requests and their answers,
-- consents, erasures on request. A copy of those rows of subject_refs,
-- kept by a materialized view, so that "who has an open request" and "who
-- withdrew a consent" read a table of thousands of rows instead of every
-- fact about every person (subject_refs is ordered by ref, so a question
-- about one kind of fact would read all of it). The people found here are
-- then read from subject_refs by their ref, one index range each.
--
-- Same columns, key and TTL as subject_refs: a redelivery collapses here
-- too (queries read FINAL), and a row leaves both tables at the same
-- keep_until. `datamap subject forget` deletes from both.
CREATE TABLE IF NOT EXISTS subject_rights
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

CREATE MATERIALIZED VIEW IF NOT EXISTS subject_rights_feed TO subject_rights AS
SELECT *
FROM subject_refs
WHERE kind IN ('consent_given', 'consent_withdrawn', 'request_received', 'request_completed', 'request_refused')
   OR (kind = 'erased' AND reason = 'subject_request');

-- The backfill: rows written before the view existed. A row the view also
-- copied while this ran has the same (ref, source, id) and collapses.
INSERT INTO subject_rights
SELECT *
FROM subject_refs
WHERE kind IN ('consent_given', 'consent_withdrawn', 'request_received', 'request_completed', 'request_refused')
   OR (kind = 'erased' AND reason = 'subject_request');

-- What an erasure must reach: each collection and disclosure of a person,
-- in the few columns that say by which system, of which category, to which
-- recipient, when. `subject requests` reads it for every open erasure
-- request, one index range per person; hundreds of people make hundreds of
-- ranges, so the table is thin and its granules and compressed blocks small
-- (a range costs what its granule holds, not what the person has). A plain
-- MergeTree: a redelivered row changes no holder, category or last
-- collection, so duplicates need no collapsing.
CREATE TABLE IF NOT EXISTS subject_holdings
(
    ref               String,
    source            LowCardinality(String),
    kind              LowCardinality(String),
    time              DateTime64(3, 'UTC'),
    category          LowCardinality(String),
    recipient_name    LowCardinality(String),
    recipient_role    LowCardinality(String),
    recipient_country LowCardinality(String),
    keep_until        DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (ref, time)
TTL keep_until
SETTINGS index_granularity = 256, min_compress_block_size = 4096, max_compress_block_size = 65536;

CREATE MATERIALIZED VIEW IF NOT EXISTS subject_holdings_feed TO subject_holdings AS
SELECT ref, source, kind, time, category, recipient_name, recipient_role, recipient_country, keep_until
FROM subject_refs
WHERE kind IN ('collected', 'shared');

INSERT INTO subject_holdings
SELECT ref, source, kind, time, category, recipient_name, recipient_role, recipient_country, keep_until
FROM subject_refs
WHERE kind IN ('collected', 'shared');
