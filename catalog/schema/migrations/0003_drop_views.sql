-- The inventory, flows and erasures views of 0002 go: no query reads them.
-- Every answer comes from catalog/query, which reads `events FINAL` with the
-- filters in WHERE, and the views were a second definition of the same
-- figures that had already drifted from it (the inventory view showed the
-- latest declared retention, the catalog shows the longest). For ad-hoc
-- SQL, docs/catalog.md shows how to read `events FINAL`.
DROP VIEW IF EXISTS inventory;
DROP VIEW IF EXISTS flows;
DROP VIEW IF EXISTS erasures;
