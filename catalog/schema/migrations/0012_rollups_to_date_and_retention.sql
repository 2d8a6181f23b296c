-- Rollups to date: one row per flow holding everything from the first
-- event up to and including a day (`period` is that last day), so that a
-- question over all time reads one row per flow plus the days after it,
-- whether those are folded or still arriving. The Folder computes it from
-- the other spans once every day up to it is folded; `rollup_to_date`
-- records, for each computation, the sum of the days' `folded` it was
-- computed from. A query trusts the newest row of `rollup_to_date` only
-- while no day up to `through` is dirty and that sum is unchanged: a day
-- folded again since (a late redelivery, a rebuild) changes it.
ALTER TABLE rollups MODIFY COLUMN span Enum8('day' = 1, 'ten_days' = 2, 'month' = 3, 'year' = 4, 'to_date' = 5);

CREATE TABLE IF NOT EXISTS rollup_to_date
(
    through Date COMMENT 'the last day the to_date rows hold',
    folded  UInt64 COMMENT 'the sum of max(folded) of the days up to through when they were computed'
)
ENGINE = MergeTree
ORDER BY (through, folded);

-- Retention rollups: the rollups of collections and erasures per system,
-- category, data subject and declared retention only — what the retention
-- question reads. A period has a few rows per system and category instead
-- of one per flow, so finding the day where a system's collections stop
-- being covered by its erasures reads a few hundred rows per step. The
-- Folder writes them from the rollup rows it has just computed, for every
-- span, before it records the days as folded: they are clean and dirty
-- with the rollups.
CREATE TABLE IF NOT EXISTS retention_rollups
(
    span           Enum8('day' = 1, 'ten_days' = 2, 'month' = 3, 'year' = 4, 'to_date' = 5),
    period         Date COMMENT 'the first day of the period, or for to_date the last day it holds',
    kind           Enum8('collected' = 1, 'shared' = 2, 'erased' = 3),
    source         LowCardinality(String),
    category       LowCardinality(String),
    data_subject   LowCardinality(String),
    retention      LowCardinality(String),
    retention_days UInt32,
    events         UInt64 COMMENT 'distinct events',
    records        UInt64 COMMENT 'sum of their counts',
    first_seen     DateTime64(3, 'UTC'),
    last_seen      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(events)
PARTITION BY toYYYYMM(period)
ORDER BY (span, period, kind, source, category, data_subject, retention, retention_days)
SETTINGS index_granularity = 1024;

-- Backfill from the rollups there are; rows of days dirty now are not
-- read until those days are folded again, which writes them anew.
INSERT INTO retention_rollups
SELECT span, period, kind, source, category, data_subject, retention, retention_days,
       sum(events), sum(records), min(first_seen), max(last_seen)
FROM rollups FINAL
WHERE kind IN ('collected', 'erased')
GROUP BY span, period, kind, source, category, data_subject, retention, retention_days;

-- Hourly rollups: the day being written is answered from its folded hours,
-- and only the hours that received events since the last folding are read
-- raw. `hourly_rollups` holds one row per flow and hour for the newest
-- two days with events (within the last five days): the Folder folds those
-- days hour by hour, their day rows summed from their hours; older days
-- are folded whole. Same columns and versioning as `rollups`. Partitioned
-- by day and kept a week, which is longer than any query reads them.
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
PARTITION BY toDate(hour)
ORDER BY (hour, kind, source, category, data_subject, purpose, legal_basis, special_condition,
          retention, retention_days, activity, recipient_name, recipient_role, recipient_country,
          recipient_safeguard, recipient_contract)
TTL hour + INTERVAL 7 DAY
SETTINGS index_granularity = 1024, ttl_only_drop_parts = 1;

-- rollup_hours is rollup_days by the hour, for the hours of the last eight
-- days: `arrived` counts the rows each INSERT into events brought to the
-- hour, `folded` the arrivals the hour's last recomputation read before
-- it read the events. An hour is answered from its rows while
-- sum(arrived) <= max(folded); an hour of the last five days without a row
-- here has no events.
CREATE TABLE IF NOT EXISTS rollup_hours
(
    hour    DateTime('UTC'),
    arrived SimpleAggregateFunction(sum, UInt64),
    folded  SimpleAggregateFunction(max, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY hour
TTL hour + INTERVAL 8 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_hours_mv TO rollup_hours AS
SELECT toStartOfHour(time) AS hour, count() AS arrived
FROM events
WHERE time >= now() - INTERVAL 8 DAY
GROUP BY hour;

-- The hours of the last eight days that have events already; an INSERT
-- counted by the view as well only costs one more recomputation.
INSERT INTO rollup_hours (hour, arrived)
SELECT toStartOfHour(time) AS hour, count() AS arrived
FROM events
WHERE time >= now() - INTERVAL 8 DAY
GROUP BY hour;

-- A part written by an INSERT or a merge puts its marks in the mark cache
-- at once, and every part loads its primary key when it is loaded, not on
-- first use: the first question to read a part after a folding or a
-- background merge does not load them itself.
ALTER TABLE rollups MODIFY SETTING prewarm_mark_cache = 1, primary_key_lazy_load = 0;
ALTER TABLE retention_rollups MODIFY SETTING prewarm_mark_cache = 1, primary_key_lazy_load = 0;
ALTER TABLE hourly_rollups MODIFY SETTING prewarm_mark_cache = 1, primary_key_lazy_load = 0;
ALTER TABLE rollup_days MODIFY SETTING prewarm_mark_cache = 1, primary_key_lazy_load = 0;
ALTER TABLE rollup_hours MODIFY SETTING prewarm_mark_cache = 1, primary_key_lazy_load = 0;
