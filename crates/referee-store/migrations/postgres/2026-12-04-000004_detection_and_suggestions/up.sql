-- Conflict-of-interest detection jobs, the pairs they evaluated, and reviewer suggestions.

CREATE TABLE coi_detection_jobs (
    uuid uuid PRIMARY KEY,
    call_uuid uuid NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    job_type text NOT NULL,
    state text NOT NULL,
    total_pairs integer NOT NULL DEFAULT 0,
    processed_pairs integer NOT NULL DEFAULT 0,
    conflicts_found integer NOT NULL DEFAULT 0,
    started_at timestamptz,
    completed_at timestamptz,
    error_message text NOT NULL DEFAULT '',
    created_by_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
CREATE INDEX coi_detection_jobs_call_idx ON coi_detection_jobs (call_uuid, created);
CREATE INDEX coi_detection_jobs_state_idx ON coi_detection_jobs (state);

CREATE TABLE coi_evaluated_pairs (
    call_uuid uuid NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_uuid uuid NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    proposal_uuid uuid NOT NULL REFERENCES proposals (uuid) ON DELETE CASCADE,
    evaluated_at timestamptz NOT NULL,
    PRIMARY KEY (call_uuid, reviewer_uuid, proposal_uuid)
);

CREATE TABLE reviewer_suggestions (
    uuid uuid PRIMARY KEY,
    call_uuid uuid NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_uuid uuid NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    affinity_score double precision NOT NULL,
    keyword_score double precision,
    text_score double precision,
    status text NOT NULL,
    reviewed_by_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    reviewed_at timestamptz,
    rejection_reason text NOT NULL DEFAULT '',
    matched_keywords text NOT NULL DEFAULT '[]',
    top_matching_proposals text NOT NULL DEFAULT '[]',
    source_type text NOT NULL,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL,
    UNIQUE (call_uuid, reviewer_uuid)
);
CREATE INDEX reviewer_suggestions_call_idx ON reviewer_suggestions (call_uuid, affinity_score);
CREATE INDEX reviewer_suggestions_status_idx ON reviewer_suggestions (status);
