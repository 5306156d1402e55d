-- opsloop 001: the closed loop (policy, proposals, missions, steps, runs, events,
-- trigger rules, reactions, long-term memory).
-- Applied by `npm run db:migrate` (postgrator); also runnable by hand: psql -f
BEGIN;

CREATE TABLE ops_policy (
  key         text PRIMARY KEY,
  value       jsonb NOT NULL,
  description text,
  updated_at  timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE ops_proposals (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  dedupe_key  text UNIQUE,
  source      text NOT NULL CHECK (source IN ('api', 'trigger', 'reaction', 'schedule', 'manual')),
  proposed_by text,
  skill       text NOT NULL,
  title       text NOT NULL,
  steps       jsonb NOT NULL,
  status      text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
  reason      text,
  mission_id  uuid,
  trace_id    uuid NOT NULL DEFAULT gen_random_uuid(),
  metadata    jsonb NOT NULL DEFAULT '{}',
  decided_at  timestamptz(3),
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  updated_at  timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX ops_proposals_status_created_idx ON ops_proposals (status, created_at);
CREATE INDEX ops_proposals_skill_created_idx ON ops_proposals (skill, created_at);
CREATE INDEX ops_proposals_created_idx ON ops_proposals (created_at);

CREATE TABLE ops_missions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  proposal_id uuid NOT NULL UNIQUE REFERENCES ops_proposals (id) ON DELETE CASCADE,
  title       text NOT NULL,
  skill       text NOT NULL,
  status      text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  trace_id    uuid NOT NULL,
  started_at  timestamptz(3),
  finished_at timestamptz(3),
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  updated_at  timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX ops_missions_status_created_idx ON ops_missions (status, created_at);
CREATE INDEX ops_missions_skill_created_idx ON ops_missions (skill, created_at);
CREATE INDEX ops_missions_created_idx ON ops_missions (created_at);

ALTER TABLE ops_proposals
  ADD CONSTRAINT ops_proposals_mission_fk FOREIGN KEY (mission_id) REFERENCES ops_missions (id) ON DELETE SET NULL;

-- Steps after the first wait in 'waiting' until the step before them succeeds; only
-- 'queued' steps whose run_after has passed can be claimed.
CREATE TABLE ops_mission_steps (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  mission_id       uuid NOT NULL REFERENCES ops_missions (id) ON DELETE CASCADE,
  position         integer NOT NULL CHECK (position >= 0),
  kind             text NOT NULL,
  skill            text NOT NULL,
  params           jsonb NOT NULL DEFAULT '{}',
  status           text NOT NULL CHECK (status IN ('waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled')),
  attempts         integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  timeout_seconds  integer NOT NULL DEFAULT 300,
  run_after        timestamptz(3) NOT NULL DEFAULT now(),
  lease_owner      text,
  lease_token      uuid,
  lease_expires_at timestamptz(3),
  result           jsonb,
  error            text,
  trace_id         uuid NOT NULL,
  started_at       timestamptz(3),
  finished_at      timestamptz(3),
  created_at       timestamptz(3) NOT NULL DEFAULT now(),
  updated_at       timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT ops_mission_steps_mission_position_key UNIQUE (mission_id, position)
);
-- Claim path: queued steps of the requested kinds, oldest run_after first.
CREATE INDEX ops_mission_steps_claim_idx ON ops_mission_steps (kind, run_after) WHERE status = 'queued';
-- Stale recovery path: running steps by lease expiry.
CREATE INDEX ops_mission_steps_lease_idx ON ops_mission_steps (lease_expires_at) WHERE status = 'running';
CREATE INDEX ops_mission_steps_status_updated_idx ON ops_mission_steps (status, updated_at);
-- Cap gates: steps of a kind approved since the start of the day.
CREATE INDEX ops_mission_steps_kind_created_idx ON ops_mission_steps (kind, created_at);

CREATE TABLE ops_step_runs (
  id          bigserial PRIMARY KEY,
  step_id     uuid NOT NULL REFERENCES ops_mission_steps (id) ON DELETE CASCADE,
  mission_id  uuid NOT NULL REFERENCES ops_missions (id) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  kind        text NOT NULL,
  worker_id   text NOT NULL,
  -- Unique per claim; `attempt` may repeat when a lease was released (shutdown) and the
  -- step claimed again, since a release does not count as an attempt.
  lease_token uuid NOT NULL UNIQUE,
  started_at  timestamptz(3) NOT NULL DEFAULT now(),
  finished_at timestamptz(3),
  duration_ms integer,
  outcome     text NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'timed_out', 'released', 'lost')),
  error       text,
  details     jsonb
);
CREATE INDEX ops_step_runs_step_idx ON ops_step_runs (step_id, attempt);
CREATE INDEX ops_step_runs_started_idx ON ops_step_runs (started_at);
CREATE INDEX ops_step_runs_worker_idx ON ops_step_runs (worker_id, started_at);

-- Append-only. No foreign keys: an event outlives the rows it mentions, and the insert
-- path stays cheap. The bigserial id is the cursor triggers and reactions read from.
CREATE TABLE ops_events (
  id          bigserial PRIMARY KEY,
  kind        text NOT NULL,
  source      text NOT NULL,
  skill       text,
  proposal_id uuid,
  mission_id  uuid,
  step_id     uuid,
  trace_id    uuid,
  payload     jsonb NOT NULL DEFAULT '{}',
  tags        text[] NOT NULL DEFAULT '{}',
  created_at  timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX ops_events_kind_id_idx ON ops_events (kind, id);
-- Trigger windows: events of a kind since a time.
CREATE INDEX ops_events_kind_created_idx ON ops_events (kind, created_at);
CREATE INDEX ops_events_created_idx ON ops_events (created_at);
CREATE INDEX ops_events_trace_idx ON ops_events (trace_id) WHERE trace_id IS NOT NULL;

CREATE TABLE ops_trigger_rules (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name              text NOT NULL UNIQUE,
  description       text,
  event_kind        text NOT NULL,
  condition         jsonb NOT NULL DEFAULT '{}',
  cooldown_minutes  integer NOT NULL DEFAULT 60 CHECK (cooldown_minutes >= 0),
  proposal_template jsonb NOT NULL,
  enabled           boolean NOT NULL DEFAULT true,
  last_fired_at     timestamptz(3),
  fire_count        integer NOT NULL DEFAULT 0,
  created_at        timestamptz(3) NOT NULL DEFAULT now(),
  updated_at        timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE ops_reactions (
  id              bigserial PRIMARY KEY,
  event_id        bigint NOT NULL REFERENCES ops_events (id) ON DELETE CASCADE,
  pattern         text NOT NULL,
  target_skill    text NOT NULL,
  template        jsonb NOT NULL,
  probability     double precision NOT NULL,
  roll            double precision NOT NULL,
  status          text NOT NULL CHECK (status IN ('queued', 'proposed', 'skipped', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz(3) NOT NULL DEFAULT now(),
  last_error      text,
  proposal_id     uuid REFERENCES ops_proposals (id) ON DELETE SET NULL,
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  updated_at      timestamptz(3) NOT NULL DEFAULT now(),
  UNIQUE (event_id, pattern)
);
CREATE INDEX ops_reactions_due_idx ON ops_reactions (next_attempt_at) WHERE status = 'queued';
CREATE INDEX ops_reactions_pattern_created_idx ON ops_reactions (pattern, target_skill, created_at);

CREATE TABLE wisdom_patterns (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  content    text NOT NULL,
  source     text NOT NULL,
  tags       text[] NOT NULL DEFAULT '{}',
  metadata   jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX wisdom_patterns_source_created_idx ON wisdom_patterns (source, created_at);

COMMIT;
