-- Jobs are claimed through the store with a lease: the daemon working on a job (lease_owner, random per process
-- start) holds it until lease_expires_at (unix ms) and renews the lease as it goes. A job whose lease is free or
-- expired can be claimed by any daemon, which resumes it from its checkpoint.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at INTEGER;
