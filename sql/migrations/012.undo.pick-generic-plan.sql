BEGIN;
ALTER FUNCTION opsloop_pick_steps(text[], timestamptz, integer) RESET plan_cache_mode;
COMMIT;
