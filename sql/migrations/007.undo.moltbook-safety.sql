BEGIN;
ALTER TABLE moltbook_handled_comment_events DROP COLUMN skip_reason;
DROP TABLE moltbook_accounts;
DROP TABLE moltbook_challenges;
COMMIT;
