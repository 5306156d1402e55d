-- Example trigger rules; inserted only when a rule of that name does not exist.
INSERT INTO ops_trigger_rules (name, description, event_kind, condition, cooldown_minutes, proposal_template) VALUES
  ('mission-failure-spike',
   'Three or more failed missions within an hour: propose a diagnosis mission.',
   'mission:failed',
   '{"count_at_least": 3, "window_minutes": 60}',
   60,
   '{"title": "Diagnose mission failure spike", "skill": "ops_internal", "steps": [{"kind": "ops.diagnose_failures", "params": {"window_minutes": 60}}]}'),
  ('engagement-high-run',
   'Five engagement:high events within six hours: propose an analysis.',
   'engagement:high',
   '{"count_at_least": 5, "window_minutes": 360}',
   360,
   '{"title": "Analyse a run of high engagement", "skill": "ops_internal", "steps": [{"kind": "ops.analyze_engagement", "params": {"window_hours": 6}}]}')
ON CONFLICT (name) DO NOTHING;
