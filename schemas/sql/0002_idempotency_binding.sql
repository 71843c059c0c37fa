-- An Idempotency-Key is bound to what it was first sent with: the bulk route (the job's type names it) and
-- the SHA-256 of the upload. A repeat with the same route and upload gets the first job again; any other use
-- of the key is refused. Jobs from before this migration have no digest, so a repeat of their key is refused
-- too rather than guessed to be the same upload.
ALTER TABLE jobs ADD COLUMN idempotency_sha256 TEXT;

-- One key, one job: jobs_by_idempotency_key (0001) is unique on (project_id, idempotency_key), so of two
-- uploads that finish at once with one key only the first insert succeeds; the other is answered as a repeat.
