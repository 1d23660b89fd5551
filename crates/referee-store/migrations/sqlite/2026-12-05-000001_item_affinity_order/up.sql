-- Item lists ordered by affinity score put items without a score first when descending, as
-- PostgreSQL orders NULL, and break ties by UUID. These indexes have the same columns and
-- directions as that ORDER BY, so a page of a call's items (with or without one status) is
-- read from the index without sorting every matching item.
CREATE INDEX assignment_items_call_score_idx
    ON assignment_items (call_uuid, (affinity_score IS NULL) DESC, affinity_score DESC, uuid);
CREATE INDEX assignment_items_call_status_score_idx
    ON assignment_items (call_uuid, status, (affinity_score IS NULL) DESC, affinity_score DESC, uuid);
