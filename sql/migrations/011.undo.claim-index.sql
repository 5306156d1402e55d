BEGIN;
DROP FUNCTION IF EXISTS opsloop_pick_steps(text[], timestamptz, integer);
CREATE INDEX ops_mission_steps_claim_idx ON ops_mission_steps (kind, run_after) WHERE status = 'queued';
DROP INDEX IF EXISTS ops_mission_steps_queue_idx;
COMMIT;
