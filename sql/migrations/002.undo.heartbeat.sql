BEGIN;
DROP TABLE IF EXISTS ops_schedule_runs;
DROP TABLE IF EXISTS ops_llm_usage;
DROP TABLE IF EXISTS ops_alerts;
DROP TABLE IF EXISTS ops_cursors;
DROP TABLE IF EXISTS ops_heartbeat_runs;
COMMIT;
