-- Webhooks: a project's receivers of job.done / job.failed, and the outbox of their deliveries. A job's deliveries
-- are inserted in the transaction that ends the job, so none is lost to a crash; the delivery thread claims the due
-- ones with a lease, sends them outside any transaction, and records each attempt. Times are unix ms.
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    webhook_id  TEXT NOT NULL UNIQUE,         -- "wh_" + 16 base62, the API's id
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    url         TEXT NOT NULL,
    on_done     INTEGER NOT NULL,             -- 1: sends job.done
    on_failed   INTEGER NOT NULL,             -- 1: sends job.failed
    secret      TEXT NOT NULL,                -- the HMAC key, shown to the client once
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhooks_by_project ON webhooks(project_id, id);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    delivery_id      TEXT NOT NULL UNIQUE,    -- "whd_" + 32 hex, sent as Profiled-Delivery-Id
    webhook_id       INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    job_id           TEXT NOT NULL,           -- the job's public id
    event            TEXT NOT NULL CHECK (event IN ('job.done', 'job.failed')),
    created_at       INTEGER NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);

CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,            -- 1, 2, ...
    status_code  INTEGER,                     -- the receiver's answer; NULL when none came (connection, timeout)
    error        TEXT,                        -- why the attempt failed; NULL when delivered
    at           INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts(delivery_id);
