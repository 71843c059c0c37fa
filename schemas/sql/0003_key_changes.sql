-- A counter of changes to API keys, so that a daemon can keep keys in memory and still see a key created or
-- revoked by another process (profiled keys ...) on the very next request, by reading one small row only when
-- the database changed at all.
CREATE TABLE key_changes (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
);
INSERT INTO key_changes(id, version) VALUES (1, 0);
CREATE TRIGGER api_keys_inserted AFTER INSERT ON api_keys BEGIN
    UPDATE key_changes SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER api_keys_updated AFTER UPDATE ON api_keys BEGIN
    UPDATE key_changes SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys BEGIN
    UPDATE key_changes SET version = version + 1 WHERE id = 1;
END;
