-- The times of events stored as the differences between neighbours. The
-- table is ordered by (source, id), and a source's ids grow with time (the
-- SDK's are UUIDv7), so within a source each time is close to the one
-- before it: DoubleDelta keeps that difference, where the default codec
-- compressed whole 8-byte timestamps. Measured on the data-map benchmark's
-- 100M events: the time column from 490 MiB to 20 MiB, the events table
-- from 967 MiB to 476 MiB, and reading it no slower
-- (docs/benchmarks.md). ingested_at, written by the server at each INSERT,
-- grows the same way.
--
-- Only the codec changes, so no part is rewritten: parts written from now
-- on use it, and older parts take it when they are merged.
ALTER TABLE events MODIFY COLUMN time DateTime64(3, 'UTC') CODEC(DoubleDelta, LZ4);
ALTER TABLE events MODIFY COLUMN ingested_at DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(DoubleDelta, LZ4);
