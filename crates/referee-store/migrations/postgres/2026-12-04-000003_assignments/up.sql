-- Configuration per call, reviews, assignment batches and items, affinities, the audit log
-- and the notification outbox.

CREATE TABLE call_assignment_configurations (
    uuid uuid PRIMARY KEY,
    call_uuid uuid NOT NULL UNIQUE REFERENCES calls (uuid) ON DELETE CASCADE,
    auto_reassign_on_decline boolean NOT NULL DEFAULT false,
    max_auto_reassign_attempts integer NOT NULL DEFAULT 3,
    assignment_expiration_days integer NOT NULL DEFAULT 7,
    send_reminder_before_expiry_days integer NOT NULL DEFAULT 2,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);

CREATE TABLE call_coi_configurations (
    uuid uuid PRIMARY KEY,
    call_uuid uuid NOT NULL UNIQUE REFERENCES calls (uuid) ON DELETE CASCADE,
    coauthorship_lookback_years integer NOT NULL DEFAULT 3,
    coauthorship_threshold_papers integer NOT NULL DEFAULT 1,
    institutional_lookback_years integer NOT NULL DEFAULT 2,
    include_same_department boolean NOT NULL DEFAULT true,
    include_same_institution boolean NOT NULL DEFAULT true,
    recusal_required_types text NOT NULL DEFAULT '[]',
    management_allowed_types text NOT NULL DEFAULT '[]',
    disclosure_only_types text NOT NULL DEFAULT '[]',
    auto_detect_coauthorship boolean NOT NULL DEFAULT true,
    auto_detect_institutional boolean NOT NULL DEFAULT true,
    auto_detect_named_personnel boolean NOT NULL DEFAULT true,
    invitation_proposal_disclosure text NOT NULL DEFAULT 'titles_only',
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);

CREATE TABLE matching_configurations (
    uuid uuid PRIMARY KEY,
    call_uuid uuid NOT NULL UNIQUE REFERENCES calls (uuid) ON DELETE CASCADE,
    affinity_method text NOT NULL DEFAULT 'combined',
    keyword_weight double precision NOT NULL DEFAULT 0.4,
    text_weight double precision NOT NULL DEFAULT 0.6,
    min_reviewers_per_proposal integer NOT NULL DEFAULT 3,
    max_reviewers_per_proposal integer NOT NULL DEFAULT 5,
    min_proposals_per_reviewer integer NOT NULL DEFAULT 3,
    max_proposals_per_reviewer integer NOT NULL DEFAULT 10,
    algorithm text NOT NULL DEFAULT 'minmax',
    min_affinity_threshold double precision NOT NULL DEFAULT 0.1,
    use_reviewer_bids boolean NOT NULL DEFAULT true,
    bid_weight double precision NOT NULL DEFAULT 0.3,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);

CREATE TABLE proposal_reviews (
    uuid uuid PRIMARY KEY,
    proposal_uuid uuid NOT NULL REFERENCES proposals (uuid) ON DELETE CASCADE,
    call_uuid uuid NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_user_uuid uuid NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    state text NOT NULL,
    summary_score integer NOT NULL DEFAULT 0,
    summary_public_comment text NOT NULL DEFAULT '',
    summary_private_comment text NOT NULL DEFAULT '',
    comment_project_title text,
    comment_project_summary text,
    comment_project_description text,
    comment_project_supporting_documentation text,
    comment_resource_requests text,
    comment_team text,
    coi_confirmed boolean NOT NULL DEFAULT false,
    coi_confirmed_at timestamptz,
    review_end_date timestamptz,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
CREATE INDEX proposal_reviews_call_idx ON proposal_reviews (call_uuid, state);
CREATE INDEX proposal_reviews_reviewer_idx ON proposal_reviews (reviewer_user_uuid, state);
CREATE INDEX proposal_reviews_proposal_idx ON proposal_reviews (proposal_uuid);
CREATE INDEX proposal_reviews_end_idx ON proposal_reviews (state, review_end_date);
CREATE INDEX proposal_reviews_created_idx ON proposal_reviews (created);

CREATE TABLE assignment_batches (
    uuid uuid PRIMARY KEY,
    call_uuid uuid NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    pool_entry_uuid uuid NOT NULL REFERENCES call_reviewer_pools (uuid) ON DELETE CASCADE,
    status text NOT NULL,
    sent_at timestamptz,
    expires_at timestamptz,
    responded_at timestamptz,
    source text NOT NULL,
    created_by_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    manager_notes text NOT NULL DEFAULT '',
    reminder_sent boolean NOT NULL DEFAULT false,
    manager_notified boolean NOT NULL DEFAULT false,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
-- At most one draft batch per pool entry (and so per call and pool entry).
CREATE UNIQUE INDEX assignment_batches_one_draft ON assignment_batches (pool_entry_uuid) WHERE status = 'draft';
CREATE INDEX assignment_batches_call_idx ON assignment_batches (call_uuid, created);
CREATE INDEX assignment_batches_entry_idx ON assignment_batches (pool_entry_uuid, status);
CREATE INDEX assignment_batches_status_idx ON assignment_batches (status, expires_at);
CREATE INDEX assignment_batches_sent_idx ON assignment_batches (sent_at);

CREATE TABLE assignment_items (
    uuid uuid PRIMARY KEY,
    batch_uuid uuid NOT NULL REFERENCES assignment_batches (uuid) ON DELETE CASCADE,
    proposal_uuid uuid NOT NULL REFERENCES proposals (uuid) ON DELETE CASCADE,
    call_uuid uuid NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    pool_entry_uuid uuid NOT NULL REFERENCES call_reviewer_pools (uuid) ON DELETE CASCADE,
    reviewer_uuid uuid REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    status text NOT NULL,
    affinity_score double precision,
    has_coi boolean NOT NULL DEFAULT false,
    responded_at timestamptz,
    decline_reason text NOT NULL DEFAULT '',
    review_uuid uuid UNIQUE REFERENCES proposal_reviews (uuid) ON DELETE SET NULL,
    reassigned_from_uuid uuid REFERENCES assignment_items (uuid) ON DELETE SET NULL,
    reassign_count integer NOT NULL DEFAULT 0,
    override_reason text NOT NULL DEFAULT '',
    overridden_by_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    overridden_at timestamptz,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL,
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
    item_uuid uuid NOT NULL REFERENCES assignment_items (uuid) ON DELETE CASCADE,
    conflict_uuid uuid NOT NULL REFERENCES conflicts_of_interest (uuid) ON DELETE CASCADE,
    PRIMARY KEY (item_uuid, conflict_uuid)
);
CREATE INDEX assignment_item_conflicts_conflict_idx ON assignment_item_conflicts (conflict_uuid);

CREATE TABLE reviewer_proposal_affinities (
    uuid uuid PRIMARY KEY,
    call_uuid uuid NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_uuid uuid NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    proposal_uuid uuid NOT NULL REFERENCES proposals (uuid) ON DELETE CASCADE,
    affinity_score double precision NOT NULL,
    keyword_score double precision,
    text_score double precision,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL,
    UNIQUE (call_uuid, reviewer_uuid, proposal_uuid)
);
CREATE INDEX reviewer_proposal_affinities_proposal_idx ON reviewer_proposal_affinities (proposal_uuid, affinity_score);

-- Append-only: rows are inserted, never updated or deleted. No foreign keys, so that the log
-- outlives the objects it describes.
CREATE TABLE audit_events (
    uuid uuid PRIMARY KEY,
    call_uuid uuid,
    object_type text NOT NULL,
    object_uuid uuid NOT NULL,
    action text NOT NULL,
    actor_uuid uuid,
    actor_name text NOT NULL DEFAULT '',
    reason text NOT NULL DEFAULT '',
    before_state text,
    after_state text,
    created timestamptz NOT NULL
);
CREATE INDEX audit_events_call_idx ON audit_events (call_uuid, created);
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_uuid, created);

CREATE TABLE outbox_messages (
    uuid uuid PRIMARY KEY,
    call_uuid uuid,
    template text NOT NULL,
    recipient_email text NOT NULL,
    recipient_user_uuid uuid,
    subject text NOT NULL,
    context text NOT NULL DEFAULT '{}',
    created timestamptz NOT NULL,
    sent_at timestamptz
);
CREATE INDEX outbox_messages_pending_idx ON outbox_messages (sent_at, created);
CREATE INDEX outbox_messages_call_idx ON outbox_messages (call_uuid, created);
