-- Rolls back 001. Destroys every row of the closed loop.
BEGIN;
DROP TABLE IF EXISTS wisdom_patterns;
DROP TABLE IF EXISTS ops_reactions;
DROP TABLE IF EXISTS ops_trigger_rules;
DROP TABLE IF EXISTS ops_events;
DROP TABLE IF EXISTS ops_step_runs;
DROP TABLE IF EXISTS ops_mission_steps;
ALTER TABLE IF EXISTS ops_proposals DROP CONSTRAINT IF EXISTS ops_proposals_mission_fk;
DROP TABLE IF EXISTS ops_missions;
DROP TABLE IF EXISTS ops_proposals;
DROP TABLE IF EXISTS ops_policy;
COMMIT;
