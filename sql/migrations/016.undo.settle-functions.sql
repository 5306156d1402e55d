BEGIN;
DROP FUNCTION IF EXISTS opsloop_finalise_missions(uuid[], text[], timestamptz);
DROP FUNCTION IF EXISTS opsloop_complete_steps(uuid[], uuid[], text[], timestamptz);
COMMIT;
