-- A client may cancel a job (POST /v1/background_jobs/{job_id}/cancel): cancel_requested_at (unix ms, the first
-- request's) is kept with the job, so that whichever daemon runs it, now or after a restart, ends it at its next
-- chunk. processing_ms is the job's processing time summed over every daemon run that worked on it, written with
-- each chunk, lease renewal and the job's end; time queued, or with no daemon running it, does not count.
ALTER TABLE jobs ADD COLUMN cancel_requested_at bigint;
ALTER TABLE jobs ADD COLUMN processing_ms bigint NOT NULL DEFAULT 0;
-- Jobs that ended before processing time was kept: the span from their first chunk to their end.
UPDATE jobs SET processing_ms = greatest(0, finished_at - started_at)
    WHERE finished_at IS NOT NULL AND started_at IS NOT NULL;
