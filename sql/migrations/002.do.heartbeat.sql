-- opsloop 002: what the heartbeat, alerts, LLM budget and scheduler keep across restarts.
BEGIN;

CREATE TABLE ops_heartbeat_runs (
  id           bigserial PRIMARY KEY,
  triggered_by text NOT NULL,
  status       text NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
  results      jsonb NOT NULL DEFAULT '{}',
  started_at   timestamptz(3) NOT NULL DEFAULT now(),
  finished_at  timestamptz(3)
);
CREATE INDEX ops_heartbeat_runs_started_idx ON ops_heartbeat_runs (started_at);

-- Durable progress markers (trigger evaluation, reaction matching, ...): the last
-- event id a phase has fully processed.
CREATE TABLE ops_cursors (
  name          text PRIMARY KEY,
  last_event_id bigint NOT NULL DEFAULT 0,
  updated_at    timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE ops_alerts (
  id              bigserial PRIMARY KEY,
  kind            text NOT NULL,
  message         text NOT NULL,
  payload         jsonb NOT NULL DEFAULT '{}',
  delivery_status text NOT NULL CHECK (delivery_status IN ('pending', 'delivered', 'failed', 'skipped')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  delivered_at    timestamptz(3),
  created_at      timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX ops_alerts_kind_created_idx ON ops_alerts (kind, created_at);
CREATE INDEX ops_alerts_undelivered_idx ON ops_alerts (created_at) WHERE delivery_status IN ('pending', 'failed');

CREATE TABLE ops_llm_usage (
  id                bigserial PRIMARY KEY,
  purpose           text NOT NULL,
  model             text NOT NULL,
  prompt_tokens     integer NOT NULL DEFAULT 0,
  completion_tokens integer NOT NULL DEFAULT 0,
  total_tokens      integer NOT NULL DEFAULT 0,
  created_at        timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX ops_llm_usage_created_idx ON ops_llm_usage (created_at);

-- One row per (job, tick): the unique key is how replicas agree that a tick runs once.
CREATE TABLE ops_schedule_runs (
  id            bigserial PRIMARY KEY,
  job_name      text NOT NULL,
  scheduled_for timestamptz(3) NOT NULL,
  runner        text NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped')),
  error         text,
  details       jsonb,
  started_at    timestamptz(3) NOT NULL DEFAULT now(),
  finished_at   timestamptz(3),
  UNIQUE (job_name, scheduled_for)
);
CREATE INDEX ops_schedule_runs_job_started_idx ON ops_schedule_runs (job_name, started_at);

COMMIT;
