-- opsloop 007: Moltbook verification challenges, the per-account circuit breaker and
-- pacing state, and per-comment skip reasons.
BEGIN;

-- Every verification challenge Moltbook attached to a write of ours, and what we did with
-- it. One answer per code: submitted_at is set (under the code's row) before the answer is
-- sent, so no process ever answers a code twice.
CREATE TABLE moltbook_challenges (
  code           text PRIMARY KEY,
  account_id     text NOT NULL,
  entity_type    text NOT NULL CHECK (entity_type IN ('post', 'comment')),
  entity_id      text,
  challenge_text text NOT NULL,
  answer         text,
  method         text CHECK (method IN ('rules', 'llm')),
  received_at    timestamptz(3) NOT NULL,
  expires_at     timestamptz(3),
  submitted_at   timestamptz(3),
  outcome        text NOT NULL DEFAULT 'pending'
                 CHECK (outcome IN ('pending', 'verified', 'wrong', 'expired', 'not_answered', 'unknown')),
  latency_ms     integer,
  detail         text
);
CREATE INDEX moltbook_challenges_received_idx ON moltbook_challenges (received_at DESC);
CREATE INDEX moltbook_challenges_pending_idx ON moltbook_challenges (outcome) WHERE outcome = 'pending';

-- One row per Moltbook account (API key fingerprint): the circuit breaker that stops all
-- writes, shared by every replica, and the pacing state learnt from the server.
CREATE TABLE moltbook_accounts (
  account_id               text PRIMARY KEY,
  breaker_state            text NOT NULL DEFAULT 'closed' CHECK (breaker_state IN ('closed', 'open', 'half_open')),
  breaker_reason           text,
  breaker_detail           text,
  breaker_opened_at        timestamptz(3),
  paused_until             timestamptz(3),
  probe_started_at         timestamptz(3),
  consecutive_failures     integer NOT NULL DEFAULT 0,
  -- documented per-account limits (editable: new agents have tighter ones)
  comment_interval_seconds integer NOT NULL DEFAULT 20,
  comments_per_day         integer NOT NULL DEFAULT 50,
  post_interval_seconds    integer NOT NULL DEFAULT 1800,
  -- what the server told us
  next_comment_at          timestamptz(3),
  next_post_at             timestamptz(3),
  next_write_at            timestamptz(3),
  comments_day             date,
  comments_today           integer NOT NULL DEFAULT 0,
  write_limit              integer,
  write_remaining          integer,
  write_reset_at           timestamptz(3),
  last_rate_limited_at     timestamptz(3),
  updated_at               timestamptz(3) NOT NULL DEFAULT now()
);

ALTER TABLE moltbook_handled_comment_events ADD COLUMN skip_reason text;

COMMIT;
