-- Configuration per call, reviews, assignment batches and items, affinities, the audit log
-- and the notification outbox.

CREATE TABLE call_assignment_configurations (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT NOT NULL UNIQUE REFERENCES calls (uuid) ON DELETE CASCADE,
    auto_reassign_on_decline BOOLEAN NOT NULL DEFAULT false,
    max_auto_reassign_attempts INTEGER NOT NULL DEFAULT 3,
    assignment_expiration_days INTEGER NOT NULL DEFAULT 7,
    send_reminder_before_expiry_days INTEGER NOT NULL DEFAULT 2,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);

CREATE TABLE call_coi_configurations (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT NOT NULL UNIQUE REFERENCES calls (uuid) ON DELETE CASCADE,
    coauthorship_lookback_years INTEGER NOT NULL DEFAULT 3,
    coauthorship_threshold_papers INTEGER NOT NULL DEFAULT 1,
    institutional_lookback_years INTEGER NOT NULL DEFAULT 2,
    include_same_department BOOLEAN NOT NULL DEFAULT true,
    include_same_institution BOOLEAN NOT NULL DEFAULT true,
    recusal_required_types TEXT NOT NULL DEFAULT '[]',
    management_allowed_types TEXT NOT NULL DEFAULT '[]',
    disclosure_only_types TEXT NOT NULL DEFAULT '[]',
    auto_detect_coauthorship BOOLEAN NOT NULL DEFAULT true,
    auto_detect_institutional BOOLEAN NOT NULL DEFAULT true,
    auto_detect_named_personnel BOOLEAN NOT NULL DEFAULT true,
    invitation_proposal_disclosure TEXT NOT NULL DEFAULT 'titles_only',
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);

CREATE TABLE matching_configurations (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT NOT NULL UNIQUE REFERENCES calls (uuid) ON DELETE CASCADE,
    affinity_method TEXT NOT NULL DEFAULT 'combined',
    keyword_weight DOUBLE NOT NULL DEFAULT 0.4,
    text_weight DOUBLE NOT NULL DEFAULT 0.6,
    min_reviewers_per_proposal INTEGER NOT NULL DEFAULT 3,
    max_reviewers_per_proposal INTEGER NOT NULL DEFAULT 5,
    min_proposals_per_reviewer INTEGER NOT NULL DEFAULT 3,
    max_proposals_per_reviewer INTEGER NOT NULL DEFAULT 10,
    algorithm TEXT NOT NULL DEFAULT 'minmax',
    min_affinity_threshold DOUBLE NOT NULL DEFAULT 0.1,
    use_reviewer_bids BOOLEAN NOT NULL DEFAULT true,
    bid_weight DOUBLE NOT NULL DEFAULT 0.3,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);

CREATE TABLE proposal_reviews (
    uuid TEXT NOT NULL PRIMARY KEY,
    proposal_uuid TEXT NOT NULL REFERENCES proposals (uuid) ON DELETE CASCADE,
    call_uuid TEXT NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_user_uuid TEXT NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    state TEXT NOT NULL,
    summary_score INTEGER NOT NULL DEFAULT 0,
    summary_public_comment TEXT NOT NULL DEFAULT '',
    summary_private_comment TEXT NOT NULL DEFAULT '',
    comment_project_title TEXT,
    comment_project_summary TEXT,
    comment_project_description TEXT,
    comment_project_supporting_documentation TEXT,
    comment_resource_requests TEXT,
    comment_team TEXT,
    coi_confirmed BOOLEAN NOT NULL DEFAULT false,
    coi_confirmed_at TEXT,
    review_end_date TEXT,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX proposal_reviews_call_idx ON proposal_reviews (call_uuid, state);
CREATE INDEX proposal_reviews_reviewer_idx ON proposal_reviews (reviewer_user_uuid, state);
CREATE INDEX proposal_reviews_proposal_idx ON proposal_reviews (proposal_uuid);
CREATE INDEX proposal_reviews_end_idx ON proposal_reviews (state, review_end_date);
CREATE INDEX proposal_reviews_created_idx ON proposal_reviews (created);

CREATE TABLE assignment_batches (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    pool_entry_uuid TEXT NOT NULL REFERENCES call_reviewer_pools (uuid) ON DELETE CASCADE,
    status TEXT NOT NULL,
    sent_at TEXT,
    expires_at TEXT,
    responded_at TEXT,
    source TEXT NOT NULL,
    created_by_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    manager_notes TEXT NOT NULL DEFAULT '',
    reminder_sent BOOLEAN NOT NULL DEFAULT false,
    manager_notified BOOLEAN NOT NULL DEFAULT false,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
-- At most one draft batch per pool entry (and so per call and pool entry).
CREATE UNIQUE INDEX assignment_batches_one_draft ON assignment_batches (pool_entry_uuid) WHERE status = 'draft';
CREATE INDEX assignment_batches_call_idx ON assignment_batches (call_uuid, created);
CREATE INDEX assignment_batches_entry_idx ON assignment_batches (pool_entry_uuid, status);
CREATE INDEX assignment_batches_status_idx ON assignment_batches (status, expires_at);
CREATE INDEX assignment_batches_sent_idx ON assignment_batches (sent_at);

CREATE TABLE assignment_items (
    uuid TEXT NOT NULL PRIMARY KEY,
    batch_uuid TEXT NOT NULL REFERENCES assignment_batches (uuid) ON DELETE CASCADE,
    proposal_uuid TEXT NOT NULL REFERENCES proposals (uuid) ON DELETE CASCADE,
    call_uuid TEXT NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    pool_entry_uuid TEXT NOT NULL REFERENCES call_reviewer_pools (uuid) ON DELETE CASCADE,
    reviewer_uuid TEXT REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    status TEXT NOT NULL,
    affinity_score DOUBLE,
    has_coi BOOLEAN NOT NULL DEFAULT false,
    responded_at TEXT,
    decline_reason TEXT NOT NULL DEFAULT '',
    review_uuid TEXT UNIQUE REFERENCES proposal_reviews (uuid) ON DELETE SET NULL,
    reassigned_from_uuid TEXT REFERENCES assignment_items (uuid) ON DELETE SET NULL,
    reassign_count INTEGER NOT NULL DEFAULT 0,
    override_reason TEXT NOT NULL DEFAULT '',
    overridden_by_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    overridden_at TEXT,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    UNIQUE (batch_uuid, proposal_uuid)
);
CREATE INDEX assignment_items_call_idx ON assignment_items (call_uuid, status, affinity_score);
CREATE INDEX assignment_items_call_created_idx ON assignment_items (call_uuid, created);
CREATE INDEX assignment_items_proposal_idx ON assignment_items (proposal_uuid, pool_entry_uuid);
CREATE INDEX assignment_items_entry_idx ON assignment_items (pool_entry_uuid, status);
CREATE INDEX assignment_items_reviewer_idx ON assignment_items (reviewer_uuid, status);
CREATE INDEX assignment_items_batch_idx ON assignment_items (batch_uuid, status);
CREATE INDEX assignment_items_created_idx ON assignment_items (created);
CREATE INDEX assignment_items_responded_idx ON assignment_items (responded_at);

CREATE TABLE assignment_item_conflicts (
    item_uuid TEXT NOT NULL REFERENCES assignment_items (uuid) ON DELETE CASCADE,
    conflict_uuid TEXT NOT NULL REFERENCES conflicts_of_interest (uuid) ON DELETE CASCADE,
    PRIMARY KEY (item_uuid, conflict_uuid)
);
CREATE INDEX assignment_item_conflicts_conflict_idx ON assignment_item_conflicts (conflict_uuid);

CREATE TABLE reviewer_proposal_affinities (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_uuid TEXT NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    proposal_uuid TEXT NOT NULL REFERENCES proposals (uuid) ON DELETE CASCADE,
    affinity_score DOUBLE NOT NULL,
    keyword_score DOUBLE,
    text_score DOUBLE,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    UNIQUE (call_uuid, reviewer_uuid, proposal_uuid)
);
CREATE INDEX reviewer_proposal_affinities_proposal_idx ON reviewer_proposal_affinities (proposal_uuid, affinity_score);

-- Append-only: rows are inserted, never updated or deleted. No foreign keys, so that the log
-- outlives the objects it describes.
CREATE TABLE audit_events (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT,
    object_type TEXT NOT NULL,
    object_uuid TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_uuid TEXT,
    actor_name TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    before_state TEXT,
    after_state TEXT,
    created TEXT NOT NULL
);
CREATE INDEX audit_events_call_idx ON audit_events (call_uuid, created);
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_uuid, created);

CREATE TABLE outbox_messages (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT,
    template TEXT NOT NULL,
    recipient_email TEXT NOT NULL,
    recipient_user_uuid TEXT,
    subject TEXT NOT NULL,
    context TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_messages_pending_idx ON outbox_messages (sent_at, created);
CREATE INDEX outbox_messages_call_idx ON outbox_messages (call_uuid, created);
