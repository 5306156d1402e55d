-- opsloop 010: system metric samples, backups, monitor breaches.
BEGIN;

-- One row per process per minute (packages/ops/src/metrics/systemSampler.ts). The HTTP
-- columns cover the minute since the previous sample, so the heartbeat can compute a 5xx
-- rate and a p95 across every replica from rows alone.
CREATE TABLE ops_system_metrics (
  id                    bigserial PRIMARY KEY,
  worker_id             text NOT NULL,
  host                  text NOT NULL,
  pid                   integer NOT NULL,
  cpu_percent           double precision NOT NULL,
  rss_bytes             bigint NOT NULL,
  heap_used_bytes       bigint NOT NULL,
  heap_total_bytes      bigint NOT NULL,
  event_loop_lag_p99_ms double precision NOT NULL,
  active_steps          integer NOT NULL DEFAULT 0,
  http_requests         integer NOT NULL DEFAULT 0,
  http_errors           integer NOT NULL DEFAULT 0,
  -- Request counts per upper bound (seconds), the same bounds in every row:
  -- [{"le": 0.05, "n": 10}, …, {"le": "+Inf", "n": 0}]
  http_duration_buckets jsonb NOT NULL DEFAULT '[]',
  created_at            timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX ops_system_metrics_created_idx ON ops_system_metrics (created_at);
CREATE INDEX ops_system_metrics_worker_created_idx ON ops_system_metrics (worker_id, created_at);

-- Every backup attempt (API, schedule, CLI): what the UI's "last backup" reads.
CREATE TABLE ops_backups (
  id             bigserial PRIMARY KEY,
  name           text NOT NULL UNIQUE,
  triggered_by   text NOT NULL,
  status         text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
  destination    text,
  location       text,
  size_bytes     bigint,
  schema_version integer,
  manifest       jsonb,
  error          text,
  started_at     timestamptz(3) NOT NULL DEFAULT now(),
  finished_at    timestamptz(3)
);
CREATE INDEX ops_backups_status_finished_idx ON ops_backups (status, finished_at);

-- An open monitoring threshold breach (one row per threshold name while it lasts): the
-- heartbeat alerts when a row is inserted and sends `resolved` when it deletes it.
CREATE TABLE ops_monitor_breaches (
  name      text PRIMARY KEY,
  opened_at timestamptz(3) NOT NULL,
  value     double precision,
  alert_id  bigint,
  details   jsonb NOT NULL DEFAULT '{}'
);

COMMIT;
