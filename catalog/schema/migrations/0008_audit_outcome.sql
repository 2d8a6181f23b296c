-- Whether a subject question was answered or refused. A lookup refused for
-- bad input (a malformed reference, say) is a use of the subject role as
-- much as an answered one, and is recorded too — without the value that
-- was refused, which may be the identity itself. Rows written before this
-- column existed were all answered.
ALTER TABLE subject_audit ADD COLUMN IF NOT EXISTS outcome LowCardinality(String) DEFAULT 'answered'
    COMMENT 'answered, or refused: and the parameter that was refused';
