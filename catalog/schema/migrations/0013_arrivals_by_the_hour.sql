-- Arrivals counted once, by the hour. Until now two views counted every
-- INSERT into events, by the day (rollup_days) and, for the last days, by
-- the hour (rollup_hours): two more parts written and synced per INSERT.
-- One view now counts every INSERT's rows by the hour, for all time, and a
-- day's arrivals are the sum of its hours'. What the Folder recorded per
-- day (the arrivals a folding covered, and whether the day is sealed)
-- moves to its own table, which the view never writes.
--
-- `rollup_arrivals`: `arrived` counts the rows each INSERT into events
-- brought to the hour (redeliveries included); `folded` is, for an hour
-- folded by the hour, the arrivals its last recomputation read before it
-- read the events. Both only grow and merge by sum and max.
CREATE TABLE IF NOT EXISTS rollup_arrivals
(
    hour    DateTime('UTC'),
    arrived SimpleAggregateFunction(sum, UInt64),
    folded  SimpleAggregateFunction(max, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY hour
SETTINGS prewarm_mark_cache = 1, primary_key_lazy_load = 0;

-- The view runs after the events part is committed, within the same
-- INSERT, and again when a retried INSERT is deduplicated: an hour with new
-- events is counted before, or as, the INSERT is acknowledged.
CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_arrivals_mv TO rollup_arrivals AS
SELECT toStartOfHour(time) AS hour, count() AS arrived
FROM events
GROUP BY hour;

DROP VIEW IF EXISTS rollup_days_mv;
DROP VIEW IF EXISTS rollup_hours_mv;

-- `rollup_folded`: per day, the sum of its hours' arrivals its last folding
-- read before it read the events, and whether it is sealed (its raw events
-- expire; its rollup rows are final). A day is dirty while the sum of its
-- hours' arrivals exceeds `folded` and it is not sealed.
CREATE TABLE IF NOT EXISTS rollup_folded
(
    day    Date,
    folded SimpleAggregateFunction(max, UInt64),
    sealed SimpleAggregateFunction(max, UInt8)
)
ENGINE = AggregatingMergeTree
ORDER BY day
SETTINGS prewarm_mark_cache = 1, primary_key_lazy_load = 0;

-- Every hour that has events. Events inserted while this runs are counted
-- twice, which only costs one more recomputation of their day.
INSERT INTO rollup_arrivals (hour, arrived)
SELECT toStartOfHour(time) AS hour, count() AS arrived
FROM events
GROUP BY hour;

-- Sealed days stay sealed, folded at the arrivals counted now: events that
-- arrive for them later are reported as late. Every other day is dirty
-- (nothing recorded as folded), so the Folder recomputes it once, counting
-- its arrivals in the new way; until then questions read its raw events.
INSERT INTO rollup_folded (day, folded, sealed)
SELECT day, arrived, 1
FROM (SELECT day FROM rollup_days GROUP BY day HAVING max(sealed) = 1) AS sealed_days
LEFT JOIN (SELECT toDate(hour) AS day, sum(arrived) AS arrived FROM rollup_arrivals GROUP BY day) AS counted
USING (day);
