-- Monitoring thresholds (the kotonoha operations table) and data retention. Like every
-- seed, only fills in what is missing: an operator's values are never overwritten.
UPDATE ops_policy
SET value = value || jsonb_build_object('thresholds', '{"enabled": true, "memory_mb": 500, "cpu_percent": 80, "cpu_samples": 5, "http_5xx_rate": 0.05, "http_window_minutes": 15, "http_min_requests": 20, "p95_seconds": 10, "queue_age_minutes": 15, "backup_max_age_hours": 26}'::jsonb)
WHERE key = 'ops_monitor' AND NOT value ? 'thresholds';

INSERT INTO ops_policy (key, value, description) VALUES
  ('retention', '{"days": {"events": 30, "step_runs": 30, "heartbeat_runs": 14, "schedule_runs": 14, "alerts": 90, "system_metrics": 7, "llm_usage": 90}, "archive": false, "batch_size": 5000, "pause_ms": 200}',
   'Days each kind of row is kept; pruned daily in batches. archive: pruned events go to the backup destination as gzip JSON lines first.')
ON CONFLICT (key) DO NOTHING;
