-- Traffic: what the traces services send show of their outgoing calls.
--
-- One row per day, emitting system (the resource's service.name), peer
-- host, class (internal, recipient, vendor, unknown), recipient or vendor
-- name and country, as the receiver classified it; nothing else of a span
-- is kept: no URL path or query, span name or attribute value. The
-- receiver writes partial sums every few seconds; AggregatingMergeTree
-- folds rows of the same key at merge time (sum of the counts, min of
-- first_seen, max of last_seen), and queries aggregate the same way, so
-- they are exact before any merge. Span counts are at least once: a
-- sender retries a batch whose answer it did not get. Presence and the
-- first and last time seen are exact.
CREATE TABLE IF NOT EXISTS traffic
(
    day        Date,
    system     LowCardinality(String),
    host       String,
    class      LowCardinality(String) COMMENT 'internal, recipient, vendor or unknown',
    recipient  LowCardinality(String) COMMENT 'the registry recipient or the vendor, empty for internal and unknown hosts',
    country    LowCardinality(String) COMMENT 'ISO 3166-1 code of the endpoint, where known',
    spans      SimpleAggregateFunction(sum, UInt64) COMMENT 'outgoing calls, at least once',
    errors     SimpleAggregateFunction(sum, UInt64) COMMENT 'of which failed',
    first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen  SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, system, host, class, recipient, country);
