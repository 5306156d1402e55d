BEGIN;
DROP FUNCTION IF EXISTS opsloop_events_after(bigint, integer);
COMMIT;
