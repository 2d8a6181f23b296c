-- CloudEvents extension attributes (partitionkey, a broker's own…), by
-- name. Rows stored before read as an empty map.
ALTER TABLE events ADD COLUMN IF NOT EXISTS extensions Map(String, String) DEFAULT map();
