BEGIN;
DROP INDEX IF EXISTS ops_mission_steps_updated_idx;
CREATE INDEX ops_mission_steps_status_updated_idx ON ops_mission_steps (status, updated_at);
CREATE INDEX ops_proposals_skill_created_idx ON ops_proposals (skill, created_at);
CREATE INDEX ops_missions_skill_created_idx ON ops_missions (skill, created_at);
CREATE INDEX ops_step_runs_worker_idx ON ops_step_runs (worker_id, started_at);
COMMIT;
