-- Conflict-of-interest detection jobs, the pairs they evaluated, and reviewer suggestions.

CREATE TABLE coi_detection_jobs (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    job_type TEXT NOT NULL,
    state TEXT NOT NULL,
    total_pairs INTEGER NOT NULL DEFAULT 0,
    processed_pairs INTEGER NOT NULL DEFAULT 0,
    conflicts_found INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    completed_at TEXT,
    error_message TEXT NOT NULL DEFAULT '',
    created_by_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX coi_detection_jobs_call_idx ON coi_detection_jobs (call_uuid, created);
CREATE INDEX coi_detection_jobs_state_idx ON coi_detection_jobs (state);

CREATE TABLE coi_evaluated_pairs (
    call_uuid TEXT NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_uuid TEXT NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    proposal_uuid TEXT NOT NULL REFERENCES proposals (uuid) ON DELETE CASCADE,
    evaluated_at TEXT NOT NULL,
    PRIMARY KEY (call_uuid, reviewer_uuid, proposal_uuid)
);

CREATE TABLE reviewer_suggestions (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_uuid TEXT NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    affinity_score DOUBLE NOT NULL,
    keyword_score DOUBLE,
    text_score DOUBLE,
    status TEXT NOT NULL,
    reviewed_by_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    reviewed_at TEXT,
    rejection_reason TEXT NOT NULL DEFAULT '',
    matched_keywords TEXT NOT NULL DEFAULT '[]',
    top_matching_proposals TEXT NOT NULL DEFAULT '[]',
    source_type TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    UNIQUE (call_uuid, reviewer_uuid)
);
CREATE INDEX reviewer_suggestions_call_idx ON reviewer_suggestions (call_uuid, affinity_score);
CREATE INDEX reviewer_suggestions_status_idx ON reviewer_suggestions (status);
