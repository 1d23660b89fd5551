-- Finds the evaluated pairs of one proposal or one reviewer profile: conflict detection forgets
-- them when a proposal team or a reviewer profile changes, and deleting a proposal or a profile
-- cascades to them.
CREATE INDEX coi_evaluated_pairs_proposal_idx ON coi_evaluated_pairs (proposal_uuid);
CREATE INDEX coi_evaluated_pairs_reviewer_idx ON coi_evaluated_pairs (reviewer_uuid);
