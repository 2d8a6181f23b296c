-- Hourly rollups: the day being written is answered from its folded hours
-- and only its unfolded hours are read raw.
--
-- `hourly_rollups` holds one row per flow and hour, for the newest days
-- (package catalog/rollup folds them hour by hour; older days are folded
-- whole, as before). A query reads a dirty day's clean hours from these
-- rows and only its dirty hours from the raw events, so the raw part of
-- an answer is the hours that received events since the last fold, not
-- the whole day. Same columns and versioning as `rollups`: an hour's rows
-- are recomputed from `events FINAL`, the row with the most events is the
-- newest.
CREATE TABLE IF NOT EXISTS hourly_rollups
(
    hour                DateTime('UTC'),
    kind                Enum8('collected' = 1, 'shared' = 2, 'erased' = 3),
    source              LowCardinality(String),
    category            LowCardinality(String),
    data_subject        LowCardinality(String),
    purpose             LowCardinality(String),
    legal_basis         LowCardinality(String),
    special_condition   LowCardinality(String),
    retention           LowCardinality(String),
    retention_days      UInt32,
    activity            LowCardinality(String),
    recipient_name      LowCardinality(String),
    recipient_role      LowCardinality(String),
    recipient_country   LowCardinality(String),
    recipient_safeguard LowCardinality(String),
    recipient_contract  LowCardinality(String),
    events              UInt64 COMMENT 'distinct events',
    records             UInt64 COMMENT 'sum of their counts',
    first_seen          DateTime64(3, 'UTC'),
    last_seen           DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(events)
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, kind, source, category, data_subject, purpose, legal_basis, special_condition,
          retention, retention_days, activity, recipient_name, recipient_role, recipient_country,
          recipient_safeguard, recipient_contract)
SETTINGS index_granularity = 1024;

-- rollup_hours is rollup_days by the hour: `arrived` counts the rows each
-- INSERT into events brought to the hour, `folded` the arrivals an hour's
-- recomputation read before it read the events, `covered` that the hour's
-- rows were computed at all (an hour of a day folded before this migration
-- has none). An hour is answered from its rows while covered and
-- sum(arrived) <= max(folded). A day's arrivals are the sum of
-- rollup_days' (counted before this migration) and of its hours'.
CREATE TABLE IF NOT EXISTS rollup_hours
(
    hour    DateTime('UTC'),
    arrived SimpleAggregateFunction(sum, UInt64),
    folded  SimpleAggregateFunction(max, UInt64),
    covered SimpleAggregateFunction(max, UInt8)
)
ENGINE = AggregatingMergeTree
ORDER BY hour;

-- Arrivals are counted by the hour from now on, once: the view by the day
-- goes once this one counts. An INSERT between the two statements is
-- counted by both, which only costs one more recomputation of its day.
CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_hours_mv TO rollup_hours AS
SELECT toStartOfHour(time) AS hour, count() AS arrived
FROM events
GROUP BY hour;

DROP VIEW IF EXISTS rollup_days_mv;
