-- The raw event log: one row per event, deduplicated by identity.
--
-- ORDER BY is the event identity (source, id), so ReplacingMergeTree
-- collapses a redelivered or re-published event into one row at merge time,
-- and `FINAL` collapses it at query time before that. The dedup window makes
-- a retried INSERT of the same batch (same insert_deduplication_token) a
-- no-op, so the duplicate never reaches disk in the common case.
CREATE TABLE IF NOT EXISTS events
(
    source              LowCardinality(String) COMMENT 'the emitting system',
    id                  String,
    kind                Enum8('collected' = 1, 'shared' = 2, 'erased' = 3),
    time                DateTime64(3, 'UTC'),
    category            LowCardinality(String),
    data_subject        LowCardinality(String),
    purpose             LowCardinality(String),
    legal_basis         LowCardinality(String),
    special_condition   LowCardinality(String),
    retention           LowCardinality(String) COMMENT 'ISO 8601 duration as declared',
    retention_days      UInt32 COMMENT 'retention in days, averaged over calendar lengths, 0 when none',
    origin              LowCardinality(String),
    location            LowCardinality(String),
    activity            LowCardinality(String),
    recipient_name      LowCardinality(String),
    recipient_role      LowCardinality(String),
    recipient_country   LowCardinality(String),
    recipient_safeguard LowCardinality(String),
    recipient_contract  LowCardinality(String),
    reason              LowCardinality(String),
    count               UInt64,
    traceparent         String,
    tracestate          String,
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (source, id)
SETTINGS non_replicated_deduplication_window = 1000;
