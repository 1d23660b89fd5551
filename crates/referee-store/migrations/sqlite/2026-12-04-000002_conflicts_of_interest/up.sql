-- Conflicts of interest between a reviewer profile and a proposal (or a whole call).

CREATE TABLE conflicts_of_interest (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_uuid TEXT NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    proposal_uuid TEXT REFERENCES proposals (uuid) ON DELETE CASCADE,
    conflicting_user_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    conflicting_organization_uuid TEXT REFERENCES customers (uuid) ON DELETE SET NULL,
    coi_type TEXT NOT NULL,
    severity TEXT NOT NULL,
    detection_method TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    evidence_description TEXT NOT NULL,
    evidence_data TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    reviewed_by_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    reviewed_at TEXT,
    review_notes TEXT NOT NULL DEFAULT '',
    management_plan TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX conflicts_of_interest_call_idx ON conflicts_of_interest (call_uuid, detected_at);
CREATE INDEX conflicts_of_interest_pair_idx ON conflicts_of_interest (reviewer_uuid, proposal_uuid, status);
CREATE INDEX conflicts_of_interest_proposal_idx ON conflicts_of_interest (proposal_uuid);
