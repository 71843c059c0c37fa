-- profiled's first schema: projects and their keys, users, companies, aliases, jobs.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    kind        TEXT NOT NULL CHECK (kind IN ('secret', 'public')),
    prefix      TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,   -- SHA-256 of the key; the key itself is never stored
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- A rowid table with a unique index takes random-order upserts far faster than a
-- WITHOUT ROWID table keyed on text with large rows.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    user_id     TEXT NOT NULL,
    public_id   TEXT NOT NULL UNIQUE,
    email       TEXT,
    phone       TEXT,
    company_id  TEXT,
    properties  TEXT NOT NULL DEFAULT '{}',
    origin      TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_by_project_user ON users(project_id, user_id);

CREATE TABLE companies (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    company_id  TEXT NOT NULL,
    properties  TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX companies_by_project_company ON companies(project_id, company_id);

-- alias_id (an id a client used, typically anonymous) resolves to user_id.
CREATE TABLE aliases (
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    alias_id    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, alias_id)
);
CREATE INDEX aliases_by_user ON aliases(project_id, user_id);

CREATE TABLE jobs (
    id                 INTEGER PRIMARY KEY,
    job_id             TEXT NOT NULL UNIQUE,
    project_id         INTEGER NOT NULL REFERENCES projects(id),
    type               TEXT NOT NULL CHECK (type IN ('users', 'companies')),
    status             TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    filename           TEXT NOT NULL DEFAULT '',
    file_size          INTEGER NOT NULL,
    total_rows         INTEGER NOT NULL,
    processed_rows     INTEGER NOT NULL DEFAULT 0,
    failed_rows        INTEGER NOT NULL DEFAULT 0,
    checkpoint_offset  INTEGER NOT NULL DEFAULT 0,
    checkpoint_line    INTEGER NOT NULL DEFAULT 0,
    error              TEXT,
    idempotency_key    TEXT,
    submitted_at       INTEGER NOT NULL,
    started_at         INTEGER,
    finished_at        INTEGER
);
CREATE INDEX jobs_by_project ON jobs(project_id, id);
CREATE INDEX jobs_by_status ON jobs(status, id);
CREATE UNIQUE INDEX jobs_by_idempotency_key ON jobs(project_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE job_errors (
    job_id   INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    line     INTEGER NOT NULL,
    row_id   TEXT,
    field    TEXT,
    message  TEXT NOT NULL,
    PRIMARY KEY (job_id, line)
) WITHOUT ROWID;
