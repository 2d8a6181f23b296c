-- What is held: system × category × data subject × purpose × legal basis.
-- Views read `events FINAL`, so every count is over distinct events.
CREATE VIEW IF NOT EXISTS inventory AS
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

-- Who received what: system × category × recipient × role × country × safeguard.
CREATE VIEW IF NOT EXISTS flows AS
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

-- What was erased: system × category × data subject.
CREATE VIEW IF NOT EXISTS erasures AS
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
