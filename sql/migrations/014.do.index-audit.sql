BEGIN;
-- Every index on these tables is written by every step: a claim or a settle is a non-HOT
-- update of the step (its status is in the partial indexes' predicates), and it inserts a
-- run row, events and, once per mission, updates the mission. So each index has to earn
-- its writes with a reader. README "Which index serves which reader" lists them all.

-- No reader: worker_id is written for the record and never searched.
DROP INDEX ops_step_runs_worker_idx;

-- Only readers: the console's and CLI's skill filter on the missions and proposals lists,
-- a page view. created_idx walked backwards with the skill as a filter serves it (the
-- planner picks that even with the skill index present, skills being few); a skill with
-- no recent rows reads further back. Three index writes per mission, two per proposal.
DROP INDEX ops_missions_skill_created_idx;
DROP INDEX ops_proposals_skill_created_idx;

-- Its only reader (the workers status: steps updated in the last 24 h, by status) has no
-- condition on status, so (status, updated_at) was read whole. Same writes, a range read.
DROP INDEX ops_mission_steps_status_updated_idx;
CREATE INDEX ops_mission_steps_updated_idx ON ops_mission_steps (updated_at);
COMMIT;
