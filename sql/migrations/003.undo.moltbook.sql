BEGIN;
DROP TABLE IF EXISTS moltbook_handled_comment_events;
DROP TABLE IF EXISTS moltbook_engagement_state;
COMMIT;
