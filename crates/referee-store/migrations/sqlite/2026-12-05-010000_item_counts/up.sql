-- The number of items per (call, status), so that counting the items of a call with some
-- statuses reads a few rows instead of every matching item. Triggers on assignment_items keep
-- it exact: they run in the transaction of the statement that changes items, including rows
-- deleted by ON DELETE CASCADE. A pair without items has no row. No foreign key to calls:
-- deleting a call deletes its items by cascade, and their delete trigger removes the rows.
CREATE TABLE assignment_item_counts (
    call_uuid TEXT NOT NULL,
    status TEXT NOT NULL,
    item_count INTEGER NOT NULL,
    PRIMARY KEY (call_uuid, status)
) WITHOUT ROWID;

INSERT INTO assignment_item_counts (call_uuid, status, item_count)
    SELECT call_uuid, status, count(*) FROM assignment_items GROUP BY call_uuid, status;

CREATE TRIGGER assignment_item_counts_insert AFTER INSERT ON assignment_items
BEGIN
    INSERT INTO assignment_item_counts (call_uuid, status, item_count)
        VALUES (NEW.call_uuid, NEW.status, 1)
        ON CONFLICT (call_uuid, status) DO UPDATE SET item_count = item_count + 1;
END;

CREATE TRIGGER assignment_item_counts_delete AFTER DELETE ON assignment_items
BEGIN
    UPDATE assignment_item_counts SET item_count = item_count - 1
        WHERE call_uuid = OLD.call_uuid AND status = OLD.status;
    DELETE FROM assignment_item_counts
        WHERE call_uuid = OLD.call_uuid AND status = OLD.status AND item_count <= 0;
END;

CREATE TRIGGER assignment_item_counts_update AFTER UPDATE OF call_uuid, status ON assignment_items
    WHEN OLD.call_uuid IS NOT NEW.call_uuid OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE assignment_item_counts SET item_count = item_count - 1
        WHERE call_uuid = OLD.call_uuid AND status = OLD.status;
    DELETE FROM assignment_item_counts
        WHERE call_uuid = OLD.call_uuid AND status = OLD.status AND item_count <= 0;
    INSERT INTO assignment_item_counts (call_uuid, status, item_count)
        VALUES (NEW.call_uuid, NEW.status, 1)
        ON CONFLICT (call_uuid, status) DO UPDATE SET item_count = item_count + 1;
END;
