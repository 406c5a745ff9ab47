-- The overlap check between tasks: distinct normalised inputs that two tasks have in
-- common (muppet-data's overlap module), as last computed over every available task.
-- One row per checked task, with the fingerprint of the data that was checked (a task
-- whose data changed since is shown as not checked), and one row per ordered pair of
-- tasks that share inputs. A check replaces all rows at once.
CREATE TABLE overlap_checks (
    task        TEXT    PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    -- Distinct normalised inputs of the task.
    inputs      INTEGER NOT NULL,
    checked_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE task_overlaps (
    task   TEXT    NOT NULL REFERENCES overlap_checks(task) ON DELETE CASCADE,
    other  TEXT    NOT NULL REFERENCES overlap_checks(task) ON DELETE CASCADE,
    -- Distinct normalised inputs found in both.
    shared INTEGER NOT NULL CHECK (shared > 0),
    PRIMARY KEY (task, other),
    CHECK (task <> other)
) WITHOUT ROWID;
