BEGIN;
DROP TABLE IF EXISTS ops_monitor_breaches;
DROP TABLE IF EXISTS ops_backups;
DROP TABLE IF EXISTS ops_system_metrics;
COMMIT;
