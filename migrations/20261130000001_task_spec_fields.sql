-- The task spec's own field map (which source fields held the texts and the target)
-- and split policy (dev size and seed; unset: the run's), as JSON objects.
ALTER TABLE task_specs ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
ALTER TABLE task_specs ADD COLUMN split  TEXT NOT NULL DEFAULT '{}';
