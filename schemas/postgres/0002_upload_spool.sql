-- Uploads spooled into the database, so that any daemon can run any job. A daemon writes an upload in progress in
-- pieces of about a megabyte on its spool connection, and commits the last piece with the job's row; upload_id is
-- the job's job_id. writer_pid and writer_started name the backend that recorded the upload, so that the pieces of
-- a daemon that died mid-upload (its backend gone) can be told from those of one still writing. An upload goes,
-- with its pieces, in the transaction that ends its job.
CREATE TABLE spool_uploads (
    upload_id       text PRIMARY KEY,
    writer_pid      integer NOT NULL,
    writer_started  timestamptz NOT NULL,
    created_at      bigint NOT NULL
);

CREATE TABLE spool_pieces (
    upload_id   text NOT NULL REFERENCES spool_uploads(upload_id) ON DELETE CASCADE,
    piece       integer NOT NULL,   -- 0, 1, ... in upload order
    first_byte  bigint NOT NULL,    -- where the piece starts in the upload
    data        bytea NOT NULL,
    PRIMARY KEY (upload_id, piece)
);
-- Out of line and uncompressed: compressing a megabyte per piece on the intake path costs more time than the
-- pieces, which live only until their job ends, would save in space.
ALTER TABLE spool_pieces ALTER COLUMN data SET STORAGE EXTERNAL;
