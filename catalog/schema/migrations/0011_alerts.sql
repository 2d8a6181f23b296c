-- Alerts: what was announced about each drift finding, and to whom.
--
-- One row per finding episode (key, opened_at), announcement (opened or
-- resolved) and target (nats, or a webhook named by format, host and a
-- short hash of its URL, which may hold a secret). The row carries the
-- CloudEvent exactly as announced, so a delivery retried after a restart
-- sends the same event with the same id. A row is rewritten as its
-- delivery progresses; ReplacingMergeTree keeps the latest version at
-- merge time and queries take the latest (argMax by updated_at), so they
-- are exact before any merge. A finding is open while its episode has an
-- opened row and no resolved row. Findings name systems, recipients and
-- counts, never a person.
CREATE TABLE IF NOT EXISTS alerts
(
    finding_key  String COMMENT 'kind, activity and what the finding is about: its identity, not its message or counts',
    opened_at    DateTime64(3, 'UTC') COMMENT 'when the finding was first seen in this episode',
    announcement LowCardinality(String) COMMENT 'opened or resolved',
    target       LowCardinality(String) COMMENT 'nats, or format:host#hash of a webhook',
    kind         LowCardinality(String),
    severity     LowCardinality(String),
    announced_at DateTime64(3, 'UTC') COMMENT 'when the announcement was decided: the opened or resolved time',
    event        String COMMENT 'the CloudEvent (structured JSON) delivered',
    status       LowCardinality(String) COMMENT 'pending, delivered, or failed (retried after a restart)',
    attempts     UInt32,
    last_error   String COMMENT 'why the last attempt failed, without the URL',
    updated_at   DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (finding_key, opened_at, announcement, target);
