-- Conflicts of interest between a reviewer profile and a proposal (or a whole call).

CREATE TABLE conflicts_of_interest (
    uuid uuid PRIMARY KEY,
    call_uuid uuid NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_uuid uuid NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    proposal_uuid uuid REFERENCES proposals (uuid) ON DELETE CASCADE,
    conflicting_user_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    conflicting_organization_uuid uuid REFERENCES customers (uuid) ON DELETE SET NULL,
    coi_type text NOT NULL,
    severity text NOT NULL,
    detection_method text NOT NULL,
    detected_at timestamptz NOT NULL,
    evidence_description text NOT NULL,
    evidence_data text NOT NULL DEFAULT '{}',
    status text NOT NULL,
    reviewed_by_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    reviewed_at timestamptz,
    review_notes text NOT NULL DEFAULT '',
    management_plan text NOT NULL DEFAULT '',
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
CREATE INDEX conflicts_of_interest_call_idx ON conflicts_of_interest (call_uuid, detected_at);
CREATE INDEX conflicts_of_interest_pair_idx ON conflicts_of_interest (reviewer_uuid, proposal_uuid, status);
CREATE INDEX conflicts_of_interest_proposal_idx ON conflicts_of_interest (proposal_uuid);
