-- The experiment store proper: experiments, run lineage, tasks, tags, notes,
-- checkpoints, and per-series summaries and rollups kept current at write time
-- so that the runs table and the charts never scan raw points.
-- Forward-only: a later change is a new file, never an edit of this one.

CREATE TABLE experiments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    -- e.g. 'sample_efficiency', 'task_count', 'free'
    kind        TEXT    NOT NULL DEFAULT 'free',
    spec_json   TEXT    NOT NULL DEFAULT '{}',
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- A column added with REFERENCES must default to NULL (SQLite's rule for ADD COLUMN).
ALTER TABLE runs ADD COLUMN git_commit TEXT;
ALTER TABLE runs ADD COLUMN parent_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL;
ALTER TABLE runs ADD COLUMN experiment_id INTEGER REFERENCES experiments(id) ON DELETE SET NULL;
CREATE INDEX runs_experiment ON runs(experiment_id);
CREATE INDEX runs_parent ON runs(parent_run_id);
CREATE INDEX runs_status ON runs(status);

CREATE TABLE tasks (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    name  TEXT    NOT NULL UNIQUE
);

-- Which tasks a run trains on (a pre-finetuning mixture, or the one fine-tuning task).
CREATE TABLE run_tasks (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    PRIMARY KEY (run_id, task_id)
) WITHOUT ROWID;
CREATE INDEX run_tasks_task ON run_tasks(task_id, run_id);

CREATE TABLE tags (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    name  TEXT    NOT NULL UNIQUE
);

CREATE TABLE run_tags (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (run_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX run_tags_tag ON run_tags(tag_id, run_id);

-- A note belongs to a run or to an experiment.
CREATE TABLE notes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    experiment_id INTEGER REFERENCES experiments(id) ON DELETE CASCADE,
    body          TEXT    NOT NULL,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK ((run_id IS NULL) <> (experiment_id IS NULL))
);
CREATE INDEX notes_run ON notes(run_id);
CREATE INDEX notes_experiment ON notes(experiment_id);

CREATE TABLE checkpoints (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    path       TEXT    NOT NULL,
    step       INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    sha256     TEXT    NOT NULL CHECK (length(sha256) = 64),
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (run_id, step)
);

-- Which way is better for the series: 'min' (loss, error) or 'max' (accuracy, F1).
ALTER TABLE metric_series ADD COLUMN goal TEXT NOT NULL DEFAULT 'min' CHECK (goal IN ('min', 'max'));
UPDATE metric_series SET goal = 'max'
 WHERE name IN ('accuracy', 'acc', 'f1', 'macro_f1', 'exact_match', 'em', 'mcc', 'matthews',
                'pearson', 'spearman', 'auc', 'bleu', 'rouge', 'rouge_l', 'score');

-- Points: rebuilt so that `value` may be NULL. SQLite stores a bound NaN as NULL, and a
-- diverged run's NaN loss must be stored, not refused; NULL reads back as NaN.
CREATE TABLE metric_points_v2 (
    series_id INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
    step      INTEGER NOT NULL,
    examples  INTEGER NOT NULL,
    wall_s    REAL    NOT NULL,
    value     REAL,
    PRIMARY KEY (series_id, step)
) WITHOUT ROWID;
INSERT INTO metric_points_v2 (series_id, step, examples, wall_s, value)
    SELECT series_id, step, examples, wall_s, value FROM metric_points;
DROP TABLE metric_points;
ALTER TABLE metric_points_v2 RENAME TO metric_points;

-- One row per series, updated in the transaction that writes its points.
-- min/max ignore NaN points; best_* follow metric_series.goal.
CREATE TABLE metric_summaries (
    series_id  INTEGER PRIMARY KEY REFERENCES metric_series(id) ON DELETE CASCADE,
    count      INTEGER NOT NULL,
    first_step INTEGER NOT NULL,
    last_step  INTEGER NOT NULL,
    last_value REAL,
    min_value  REAL,
    min_step   INTEGER,
    max_value  REAL,
    max_step   INTEGER,
    best_value REAL,
    best_step  INTEGER
);

-- Multi-resolution rollup: at level `shift`, bucket b holds the points with
-- step >> shift = b. Shifts are 3, 6, ..., 24 (buckets of 8 to 16M steps), each
-- level folding 8 buckets of the level below, so a chart of B buckets reads at
-- most about 8*B rows whatever the series length.
CREATE TABLE metric_rollups (
    series_id  INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
    shift      INTEGER NOT NULL,
    bucket     INTEGER NOT NULL,
    count      INTEGER NOT NULL,
    first_step INTEGER NOT NULL,
    last_step  INTEGER NOT NULL,
    min_value  REAL,
    max_value  REAL,
    last_value REAL,
    PRIMARY KEY (series_id, shift, bucket)
) WITHOUT ROWID;

-- Backfill summaries and rollups of a database written by the first slice.
INSERT INTO metric_summaries (series_id, count, first_step, last_step, last_value,
                              min_value, min_step, max_value, max_step, best_value, best_step)
SELECT a.series_id, a.n, a.lo, a.hi,
       (SELECT p.value FROM metric_points p WHERE p.series_id = a.series_id AND p.step = a.hi),
       a.mn,
       (SELECT p.step FROM metric_points p WHERE p.series_id = a.series_id AND p.value = a.mn ORDER BY p.step LIMIT 1),
       a.mx,
       (SELECT p.step FROM metric_points p WHERE p.series_id = a.series_id AND p.value = a.mx ORDER BY p.step LIMIT 1),
       NULL, NULL
  FROM (SELECT series_id, count(*) AS n, min(step) AS lo, max(step) AS hi,
               min(value) AS mn, max(value) AS mx
          FROM metric_points GROUP BY series_id) a;
UPDATE metric_summaries SET
    best_value = CASE (SELECT goal FROM metric_series s WHERE s.id = series_id) WHEN 'max' THEN max_value ELSE min_value END,
    best_step  = CASE (SELECT goal FROM metric_series s WHERE s.id = series_id) WHEN 'max' THEN max_step ELSE min_step END;

INSERT INTO metric_rollups (series_id, shift, bucket, count, first_step, last_step, min_value, max_value, last_value)
SELECT a.series_id, 3, a.b, a.n, a.lo, a.hi, a.mn, a.mx,
       (SELECT p.value FROM metric_points p WHERE p.series_id = a.series_id AND p.step = a.hi)
  FROM (SELECT series_id, step >> 3 AS b, count(*) AS n, min(step) AS lo, max(step) AS hi,
               min(value) AS mn, max(value) AS mx
          FROM metric_points GROUP BY series_id, step >> 3) a;

INSERT INTO metric_rollups (series_id, shift, bucket, count, first_step, last_step, min_value, max_value, last_value)
SELECT a.series_id, 6, a.b, a.n, a.lo, a.hi, a.mn, a.mx,
       (SELECT r.last_value FROM metric_rollups r WHERE r.series_id = a.series_id AND r.shift = 3 AND r.bucket = a.hi >> 3)
  FROM (SELECT series_id, bucket >> 3 AS b, sum(count) AS n, min(first_step) AS lo, max(last_step) AS hi,
               min(min_value) AS mn, max(max_value) AS mx
          FROM metric_rollups WHERE shift = 3 GROUP BY series_id, bucket >> 3) a;

INSERT INTO metric_rollups (series_id, shift, bucket, count, first_step, last_step, min_value, max_value, last_value)
SELECT a.series_id, 9, a.b, a.n, a.lo, a.hi, a.mn, a.mx,
       (SELECT r.last_value FROM metric_rollups r WHERE r.series_id = a.series_id AND r.shift = 6 AND r.bucket = a.hi >> 6)
  FROM (SELECT series_id, bucket >> 3 AS b, sum(count) AS n, min(first_step) AS lo, max(last_step) AS hi,
               min(min_value) AS mn, max(max_value) AS mx
          FROM metric_rollups WHERE shift = 6 GROUP BY series_id, bucket >> 3) a;

INSERT INTO metric_rollups (series_id, shift, bucket, count, first_step, last_step, min_value, max_value, last_value)
SELECT a.series_id, 12, a.b, a.n, a.lo, a.hi, a.mn, a.mx,
       (SELECT r.last_value FROM metric_rollups r WHERE r.series_id = a.series_id AND r.shift = 9 AND r.bucket = a.hi >> 9)
  FROM (SELECT series_id, bucket >> 3 AS b, sum(count) AS n, min(first_step) AS lo, max(last_step) AS hi,
               min(min_value) AS mn, max(max_value) AS mx
          FROM metric_rollups WHERE shift = 9 GROUP BY series_id, bucket >> 3) a;

INSERT INTO metric_rollups (series_id, shift, bucket, count, first_step, last_step, min_value, max_value, last_value)
SELECT a.series_id, 15, a.b, a.n, a.lo, a.hi, a.mn, a.mx,
       (SELECT r.last_value FROM metric_rollups r WHERE r.series_id = a.series_id AND r.shift = 12 AND r.bucket = a.hi >> 12)
  FROM (SELECT series_id, bucket >> 3 AS b, sum(count) AS n, min(first_step) AS lo, max(last_step) AS hi,
               min(min_value) AS mn, max(max_value) AS mx
          FROM metric_rollups WHERE shift = 12 GROUP BY series_id, bucket >> 3) a;

INSERT INTO metric_rollups (series_id, shift, bucket, count, first_step, last_step, min_value, max_value, last_value)
SELECT a.series_id, 18, a.b, a.n, a.lo, a.hi, a.mn, a.mx,
       (SELECT r.last_value FROM metric_rollups r WHERE r.series_id = a.series_id AND r.shift = 15 AND r.bucket = a.hi >> 15)
  FROM (SELECT series_id, bucket >> 3 AS b, sum(count) AS n, min(first_step) AS lo, max(last_step) AS hi,
               min(min_value) AS mn, max(max_value) AS mx
          FROM metric_rollups WHERE shift = 15 GROUP BY series_id, bucket >> 3) a;

INSERT INTO metric_rollups (series_id, shift, bucket, count, first_step, last_step, min_value, max_value, last_value)
SELECT a.series_id, 21, a.b, a.n, a.lo, a.hi, a.mn, a.mx,
       (SELECT r.last_value FROM metric_rollups r WHERE r.series_id = a.series_id AND r.shift = 18 AND r.bucket = a.hi >> 18)
  FROM (SELECT series_id, bucket >> 3 AS b, sum(count) AS n, min(first_step) AS lo, max(last_step) AS hi,
               min(min_value) AS mn, max(max_value) AS mx
          FROM metric_rollups WHERE shift = 18 GROUP BY series_id, bucket >> 3) a;

INSERT INTO metric_rollups (series_id, shift, bucket, count, first_step, last_step, min_value, max_value, last_value)
SELECT a.series_id, 24, a.b, a.n, a.lo, a.hi, a.mn, a.mx,
       (SELECT r.last_value FROM metric_rollups r WHERE r.series_id = a.series_id AND r.shift = 21 AND r.bucket = a.hi >> 21)
  FROM (SELECT series_id, bucket >> 3 AS b, sum(count) AS n, min(first_step) AS lo, max(last_step) AS hi,
               min(min_value) AS mn, max(max_value) AS mx
          FROM metric_rollups WHERE shift = 21 GROUP BY series_id, bucket >> 3) a;
