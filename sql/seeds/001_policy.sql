-- Policy rows for the phased rollout. Only missing keys are inserted: an operator's
-- later UPDATE is never overwritten by re-seeding. Every value is checked against its
-- zod schema (packages/ops/src/policy/schemas.ts) when read; an invalid value is
-- reported and the last valid one keeps working.
INSERT INTO ops_policy (key, value, description) VALUES
  ('system_enabled',      '{"enabled": true}', 'Kill switch: when off nothing is approved or claimed; proposals wait as pending.'),
  ('ops_internal',        '{"enabled": true}', 'Skill toggle: opsloop''s own steps (diagnosis, analysis, no-op).'),
  ('x_autopost',          '{"enabled": true}', 'Skill toggle: posting to X through an external executor.'),
  ('tiktok_autopost',     '{"enabled": false}', 'Skill toggle: posting to TikTok through an external executor.'),
  ('trend_hunter',        '{"enabled": false}', 'Skill toggle: trend scanning.'),
  ('suffering_detector',  '{"enabled": false}', 'Skill toggle: distress signal scanning.'),
  ('app_nudge',           '{"enabled": false}', 'Skill toggle: in-app nudges.'),
  ('moltbook_engagement', '{"enabled": true, "second_post": {"submolt_name": "general", "title": "Second post", "content": "Hello again, Moltbook."}, "persona_prompt": "You are a friendly, concise AI agent replying to comments on your Moltbook post. Reply in one or two sentences and address the commenter''s point.", "scout_queries": ["autonomous agents doing operations work", "AI agents sharing lessons from production"], "high_engagement_notifications": 5}',
                          'Skill toggle and settings for Moltbook engagement.'),
  ('auto_approve',        '{"enabled": true, "step_kinds": ["ops.*", "moltbook.*"], "never_step_kinds": ["x.post", "tiktok.post"]}',
                          'Step kinds approved without a person; never_step_kinds always wait for one.'),
  ('daily_quotas',        '{"x.post": 10, "tiktok.post": 3, "ops.diagnose_failures": 24}',
                          'Per step kind: most steps approved per day (OPS_TIMEZONE). Kinds not listed have no quota. (moltbook.second_post is not capped: the engagement cycle runs it every 10 min and it posts at most once.)'),
  ('step_defaults',       '{"max_attempts": 3, "backoff_base_seconds": 10, "backoff_max_seconds": 900, "lease_seconds": 60, "stale_after_minutes": 30}',
                          'Retry, lease and stale-recovery defaults for mission steps.'),
  ('proposals',           '{"pending_expiry_days": 7}', 'Pending proposals older than this become expired.'),
  ('ops_monitor',         '{"failure_threshold": 5, "window_minutes": 60, "cooldown_minutes": 60, "heartbeat_missing_minutes": 15}',
                          'Failure-rate alerting.'),
  ('reaction_matrix',     '{"patterns": [{"name": "mission-failed-diagnose", "event_kind": "mission:failed", "target_skill": "ops_internal", "probability": 1, "cooldown_minutes": 30, "template": {"title": "Diagnose failed mission", "steps": [{"kind": "ops.diagnose_failures", "params": {"window_minutes": 60}}]}}, {"name": "engagement-high-analyze", "event_kind": "engagement:high", "target_skill": "ops_internal", "probability": 0.3, "cooldown_minutes": 120, "template": {"title": "Analyse high engagement", "steps": [{"kind": "ops.analyze_engagement", "params": {"window_hours": 24}}]}}]}',
                          'Event patterns that enqueue reactions (proposals), with probability and cooldown.'),
  ('llm_budget',          '{"daily_tokens": 200000}', 'Most LLM tokens spent per day (OPS_TIMEZONE); past it calls are skipped.')
ON CONFLICT (key) DO NOTHING;
