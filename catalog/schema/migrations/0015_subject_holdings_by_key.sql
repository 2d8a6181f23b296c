-- subject_holdings sorted by a fixed-width key of the reference instead of
-- the reference itself. `subject requests` reads the holdings of every
-- person with an open erasure request: hundreds of references, each an
-- index range per part. Sorted by the reference (a string of 55
-- characters), finding those ranges compared strings thousands of times
-- per part, and reading them read the reference of every row in their
-- granules (nine tenths of the bytes read). Sorted by ref_key, the
-- 128-bit SipHash of the reference, the ranges are found by comparing
-- 16-byte keys, and the read takes the key, not the reference: the reader
-- names the people by joining the keys with the references it asked about.
-- Two references with one key are as likely as guessing a 128-bit secret.
--
-- The table is made again with the new sorting key and filled from
-- subject_refs, as migration 0007 first filled it; rows the view copies
-- while the fill runs are read once, by DISTINCT. The old table is dropped
-- at once (SYNC), so that on a cluster its replicas' place in Keeper is
-- free for the new one.
DROP VIEW IF EXISTS subject_holdings_feed;

DROP TABLE IF EXISTS subject_holdings SYNC;

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
    keep_until        DateTime('UTC'),
    ref_key           FixedString(16) MATERIALIZED sipHash128(ref)
)
ENGINE = MergeTree
ORDER BY (ref_key, time)
TTL keep_until
SETTINGS index_granularity = 256, min_compress_block_size = 4096, max_compress_block_size = 65536;

CREATE MATERIALIZED VIEW IF NOT EXISTS subject_holdings_feed TO subject_holdings AS
SELECT ref, source, kind, time, category, recipient_name, recipient_role, recipient_country, keep_until
FROM subject_refs
WHERE kind IN ('collected', 'shared');

INSERT INTO subject_holdings (ref, source, kind, time, category, recipient_name, recipient_role, recipient_country, keep_until)
SELECT ref, source, kind, time, category, recipient_name, recipient_role, recipient_country, keep_until
FROM subject_refs
WHERE kind IN ('collected', 'shared');
