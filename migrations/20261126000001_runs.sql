-- Runs and their metric points: the first slice of the experiment store.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('pre_finetune', 'finetune')),
    status      TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    spec_json   TEXT    NOT NULL DEFAULT '{}',
    seed        INTEGER,
    app_version TEXT    NOT NULL,
    backend     TEXT,
    device      TEXT,
    started_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ended_at    TEXT,
    failure     TEXT
);

CREATE TABLE metric_series (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    task   TEXT    NOT NULL DEFAULT '',
    split  TEXT    NOT NULL,
    name   TEXT    NOT NULL,
    UNIQUE (run_id, task, split, name)
);

CREATE TABLE metric_points (
    series_id INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
    step      INTEGER NOT NULL,
    examples  INTEGER NOT NULL,
    wall_s    REAL    NOT NULL,
    value     REAL    NOT NULL,
    PRIMARY KEY (series_id, step)
) WITHOUT ROWID;
