-- The job claim's indexes (job_rows.cpp): the jobs still to run, in the claim's order, and the leased ones, so that
-- a claim reads the few jobs it needs however many thousands are queued or done.
CREATE INDEX jobs_pending ON jobs(project_id, id) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_leased ON jobs(project_id) WHERE lease_owner IS NOT NULL AND status IN ('queued', 'running');
