-- 0003_job_runs_process.sql: a run names the process that runs it, and a run whose process is gone
-- is closed as 'interrupted'.
--
-- Why: a run whose process was killed (SIGKILL, a timeout), or whose outcome could not be written
-- (the database locked by another process, a full disk), stayed 'running' forever: `status` showed
-- it as in progress and said all was well. Only the daemon closed such rows, at its start, and it
-- closed every 'running' row, including those of a `flywheel sync` still at work. Now any command
-- that opens the database closes the runs whose process is gone, and leaves the others alone; to
-- tell them apart a run records its process:
-- * pid, and process_start: what identifies that process's life (on Linux the boot id and the
--   process's start time, so a pid reused by another process is not taken for the run's); NULL
--   where the platform cannot tell, and on rows written before this migration;
-- * daemon: 1 when the run is the daemon's; it is then alive only while the daemon's lock on
--   `<database>.lock` is held.
-- 'interrupted' says the run's outcome is unknown (not that the job failed); the API calls it made
-- were counted in memory and died with the process, which `status` says instead of showing a
-- smaller number as if it were complete.
--
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt (rows keep their ids).
-- It is dropped and created again under the same name (not renamed) because the view
-- kpi_feedback_sla_breaches reads it. Runs an older version closed as 'failed' with an error
-- starting 'interrupted:' become 'interrupted'.

CREATE TEMP TABLE job_runs_0003 AS SELECT * FROM main.job_runs;
DROP TABLE main.job_runs;

CREATE TABLE main.job_runs (
    id              INTEGER PRIMARY KEY,
    job             TEXT NOT NULL,
    account         TEXT REFERENCES accounts (name) ON UPDATE CASCADE,  -- NULL for jobs of no account
    marketplace_id  TEXT,          -- NULL when the run covers the whole account
    started_at      TEXT NOT NULL CHECK (started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    finished_at     TEXT CHECK (finished_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'),
    status          TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'unavailable', 'skipped', 'interrupted')),
    row_count       INTEGER NOT NULL DEFAULT 0,    -- rows written
    error           TEXT,
    attempt         INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),   -- 1 + retries after failure
    pid             INTEGER CHECK (pid > 0),       -- the process running it (NULL: written before 0003)
    process_start   TEXT,                          -- that process's identity beside its pid (see above)
    daemon          INTEGER NOT NULL DEFAULT 0 CHECK (daemon IN (0, 1)),
    CHECK ((status = 'running') = (finished_at IS NULL))
) STRICT;

INSERT INTO main.job_runs (id, job, account, marketplace_id, started_at, finished_at, status,
                           row_count, error, attempt)
SELECT id, job, account, marketplace_id, started_at, finished_at,
       CASE WHEN status = 'failed' AND error LIKE 'interrupted:%' THEN 'interrupted' ELSE status END,
       row_count, error, attempt
  FROM temp.job_runs_0003;
DROP TABLE temp.job_runs_0003;

CREATE INDEX job_runs_by_job ON job_runs (job, account, status, finished_at);
CREATE INDEX job_runs_by_start ON job_runs (started_at);
-- The open runs, which every command looks at when it opens the database.
CREATE INDEX job_runs_running ON job_runs (id) WHERE status = 'running';
