BEGIN;
DROP TABLE IF EXISTS ops_slack_interactions;
DROP TABLE IF EXISTS ops_slack_messages;
UPDATE ops_step_runs SET outcome = 'lost' WHERE outcome = 'cancelled';
ALTER TABLE ops_step_runs DROP CONSTRAINT ops_step_runs_outcome_check;
ALTER TABLE ops_step_runs ADD CONSTRAINT ops_step_runs_outcome_check
  CHECK (outcome IN ('running', 'succeeded', 'failed', 'timed_out', 'released', 'lost'));
ALTER TABLE ops_events ALTER COLUMN id SET DEFAULT nextval('ops_events_id_seq');
DROP FUNCTION IF EXISTS ops_next_event_id();
COMMIT;
