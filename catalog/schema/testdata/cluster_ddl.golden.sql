-- The catalog schema as MigrateWith runs it for cluster datamap_cluster.
-- Generated from catalog/schema/migrations by TestGoldenDDL; do not edit. After changing
-- a migration or catalog/schema/cluster.go: go test ./catalog/schema -run TestGoldenDDL -update

-- ===== schema_migrations (bookkeeping) =====

CREATE TABLE IF NOT EXISTS schema_migrations_local ON CLUSTER datamap_cluster
		(version UInt32, name String, applied_at DateTime DEFAULT now())
		ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/schema_migrations_local', '{replica}') ORDER BY version;

CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER datamap_cluster AS schema_migrations_local
ENGINE = Distributed(datamap_cluster, currentDatabase(), schema_migrations_local, cityHash64(version));

-- ===== 0001_events =====

CREATE TABLE IF NOT EXISTS events_local ON CLUSTER datamap_cluster
(
    source              LowCardinality(String) COMMENT 'the emitting system',
    id                  String,
    kind                Enum8('collected' = 1, 'shared' = 2, 'erased' = 3),
    time                DateTime64(3, 'UTC'),
    category            LowCardinality(String),
    data_subject        LowCardinality(String),
    purpose             LowCardinality(String),
    legal_basis         LowCardinality(String),
    special_condition   LowCardinality(String),
    retention           LowCardinality(String) COMMENT 'ISO 8601 duration as declared',
    retention_days      UInt32 COMMENT 'retention in days, averaged over calendar lengths, 0 when none',
    origin              LowCardinality(String),
    location            LowCardinality(String),
    activity            LowCardinality(String),
    recipient_name      LowCardinality(String),
    recipient_role      LowCardinality(String),
    recipient_country   LowCardinality(String),
    recipient_safeguard LowCardinality(String),
    recipient_contract  LowCardinality(String),
    reason              LowCardinality(String),
    count               UInt64,
    traceparent         String,
    tracestate          String,
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/events_local', '{replica}')
ORDER BY (source, id);

CREATE TABLE IF NOT EXISTS events ON CLUSTER datamap_cluster AS events_local
ENGINE = Distributed(datamap_cluster, currentDatabase(), events_local, cityHash64(source, id));

-- ===== 0002_views =====

CREATE VIEW IF NOT EXISTS inventory ON CLUSTER datamap_cluster AS
SELECT
    source AS system,
    category,
    data_subject,
    purpose,
    legal_basis,
    argMax(retention, time) AS retention,
    count() AS events,
    sum(count) AS records,
    min(time) AS first_seen,
    max(time) AS last_seen
FROM events FINAL
WHERE kind = 'collected'
GROUP BY system, category, data_subject, purpose, legal_basis;

CREATE VIEW IF NOT EXISTS flows ON CLUSTER datamap_cluster AS
SELECT
    source AS system,
    category,
    data_subject,
    purpose,
    legal_basis,
    recipient_name AS recipient,
    recipient_role AS role,
    recipient_country AS country,
    recipient_safeguard AS safeguard,
    argMax(recipient_contract, time) AS contract,
    count() AS events,
    sum(count) AS records,
    min(time) AS first_seen,
    max(time) AS last_seen
FROM events FINAL
WHERE kind = 'shared'
GROUP BY system, category, data_subject, purpose, legal_basis, recipient, role, country, safeguard;

CREATE VIEW IF NOT EXISTS erasures ON CLUSTER datamap_cluster AS
SELECT
    source AS system,
    category,
    data_subject,
    count() AS events,
    sum(count) AS records,
    max(time) AS last_erased
FROM events FINAL
WHERE kind = 'erased'
GROUP BY system, category, data_subject;

-- ===== 0003_drop_views =====

DROP VIEW IF EXISTS inventory ON CLUSTER datamap_cluster;

DROP VIEW IF EXISTS flows ON CLUSTER datamap_cluster;

DROP VIEW IF EXISTS erasures ON CLUSTER datamap_cluster;

-- ===== 0005_subjects =====

CREATE TABLE IF NOT EXISTS subject_refs_local ON CLUSTER datamap_cluster
(
    ref               String COMMENT 'subject reference (sr1:…), a keyed pseudonym of one person',
    source            LowCardinality(String),
    id                String,
    kind              LowCardinality(String),
    time              DateTime64(3, 'UTC'),
    category          LowCardinality(String),
    data_subject      LowCardinality(String),
    purpose           LowCardinality(String),
    legal_basis       LowCardinality(String),
    recipient_name    LowCardinality(String),
    recipient_role    LowCardinality(String),
    recipient_country LowCardinality(String),
    reason            LowCardinality(String),
    request_right     LowCardinality(String),
    channel           LowCardinality(String),
    grounds           LowCardinality(String),
    keep_until        DateTime('UTC') COMMENT 'when the row is deleted (TTL)',
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/subject_refs_local', '{replica}')
ORDER BY (ref, source, id)
TTL keep_until;

CREATE TABLE IF NOT EXISTS subject_refs ON CLUSTER datamap_cluster AS subject_refs_local
ENGINE = Distributed(datamap_cluster, currentDatabase(), subject_refs_local, cityHash64(ref, source, id));

CREATE TABLE IF NOT EXISTS subject_audit_local ON CLUSTER datamap_cluster
(
    at       DateTime64(3, 'UTC'),
    who      LowCardinality(String) COMMENT 'the subject token name, or the CLI user, never a token',
    surface  LowCardinality(String) COMMENT 'cli, api or web',
    question LowCardinality(String),
    ref      String COMMENT 'the subject reference asked about, empty for a list'
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/subject_audit_local', '{replica}')
ORDER BY at;

CREATE TABLE IF NOT EXISTS subject_audit ON CLUSTER datamap_cluster AS subject_audit_local
ENGINE = Distributed(datamap_cluster, currentDatabase(), subject_audit_local, cityHash64(at));
