BEGIN;
DROP TABLE IF EXISTS ops_step_kinds;
DROP FUNCTION IF EXISTS ops_step_kinds_changed();
DROP FUNCTION IF EXISTS ops_step_kinds_truncated();
COMMIT;
