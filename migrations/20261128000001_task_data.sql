-- Imported tasks: the task's spec with a fingerprint of its data, and its
-- examples. A task row without a task_specs row is a catalog task (its data
-- comes from the assets) that some run used.
CREATE TABLE task_specs (
    task_id     INTEGER PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
    family      TEXT    NOT NULL,
    -- JSON array of label names in class-index order (empty unless classification).
    labels      TEXT    NOT NULL,
    metric      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    license     TEXT    NOT NULL,
    -- JSON of how the task was imported (format, field map, file, counts).
    import      TEXT    NOT NULL,
    examples    INTEGER NOT NULL,
    -- sha256 (hex) of the family, the labels and the examples' canonical JSON lines.
    fingerprint TEXT    NOT NULL,
    imported_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- One row per example, in import order; `example` is its canonical JSON.
CREATE TABLE task_examples (
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    idx     INTEGER NOT NULL,
    example TEXT    NOT NULL,
    PRIMARY KEY (task_id, idx)
) WITHOUT ROWID;
