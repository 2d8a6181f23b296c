-- The tables the two arrivals views wrote (replaced by rollup_arrivals and
-- rollup_folded in 0013, which read them first).
DROP TABLE IF EXISTS rollup_days;
DROP TABLE IF EXISTS rollup_hours;
