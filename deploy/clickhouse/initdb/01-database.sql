-- Only the database. The tables are datamap's: `datamap serve`
-- applies its embedded migrations (catalog/schema/migrations) at every start, and
-- deploy/clickhouse/schema.sql shows what they are. A second copy of the DDL
-- here would drift from the one the code expects.
CREATE DATABASE IF NOT EXISTS datamap;
