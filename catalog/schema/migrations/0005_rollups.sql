-- Rollups: the data map answered from flows, not from events.
--
-- `rollups` holds one row per flow (every column a question groups or
-- filters by) and period: a day, ten days (the 1st–10th, 11th–20th and
-- 21st–end of a month), a calendar month or a year, each the sum of the
-- shorter periods it is made of. A day's rows are recomputed from
-- `events FINAL` whenever it receives events, so they count distinct
-- events however often they were delivered, and then the rows of the
-- longer periods holding it. Recomputing only ever adds events to a row,
-- so the newest version of a row is the one with the most events:
-- ReplacingMergeTree(events) keeps it, and queries read `rollups FINAL`.
-- Partitioned by month so that FINAL merges only the months that were
-- recomputed since their last merge; small granules, because a question
-- reads a few thousand rows of a period (measured: a fifth of the CPU of
-- the default 8192 for a year's rows).
CREATE TABLE IF NOT EXISTS rollups
(
    span                Enum8('day' = 1, 'ten_days' = 2, 'month' = 3, 'year' = 4),
    period              Date COMMENT 'the first day of the period',
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
PARTITION BY toYYYYMM(period)
ORDER BY (span, period, kind, source, category, data_subject, purpose, legal_basis, special_condition,
          retention, retention_days, activity, recipient_name, recipient_role, recipient_country,
          recipient_safeguard, recipient_contract)
SETTINGS index_granularity = 1024;

-- rollup_days says which days' rollup rows are stale. `arrived` counts the
-- rows inserted into `events` for the day (redeliveries included); `folded`
-- is the `arrived` a recomputation of the day read before it read the
-- events. A day is dirty while sum(arrived) > max(folded). Both only grow
-- and are merged by sum and max, so concurrent inserts and recomputations
-- need no coordination. `sealed` marks days whose raw events expire (raw
-- TTL): their rollup rows are final.
CREATE TABLE IF NOT EXISTS rollup_days
(
    day     Date,
    arrived SimpleAggregateFunction(sum, UInt64),
    folded  SimpleAggregateFunction(max, UInt64),
    sealed  SimpleAggregateFunction(max, UInt8)
)
ENGINE = AggregatingMergeTree
ORDER BY day;

-- Every INSERT into events counts its rows per day here. The view runs
-- after the events part is committed, within the same INSERT, and runs
-- again when a retried INSERT is deduplicated, so a day with new events is
-- dirty by the time any recomputation could miss them.
CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_days_mv TO rollup_days AS
SELECT toDate(time) AS day, count() AS arrived
FROM events
GROUP BY day;

-- A day's raw events are read by time: a skip index on time finds them
-- without scanning the table (event ids are time-ordered, so a day's events
-- sit in few granules). Parts written before this migration get the index
-- in the background.
ALTER TABLE events ADD INDEX IF NOT EXISTS time_minmax time TYPE minmax GRANULARITY 1;
ALTER TABLE events MATERIALIZE INDEX time_minmax;

-- Backfill: every day that already has events is dirty, so the rollups are
-- built by the same recomputation that keeps them current (datamap serve
-- runs it in the background; `datamap rollups --fold` runs it with a
-- progress bar). Events inserted while this runs are counted twice here,
-- which only costs one more recomputation of their day.
INSERT INTO rollup_days (day, arrived)
SELECT toDate(time) AS day, count() AS arrived
FROM events
GROUP BY day;
