-- Users, organisations, calls, proposals, reviewer profiles and the reviewer pool.
-- Every table keys on a UUID (version 7, so key order follows creation order).

CREATE TABLE users (
    uuid uuid PRIMARY KEY,
    username text NOT NULL UNIQUE,
    email text NOT NULL DEFAULT '',
    full_name text NOT NULL DEFAULT '',
    is_staff boolean NOT NULL DEFAULT false,
    is_support boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
CREATE INDEX users_email_idx ON users (lower(email));

CREATE TABLE api_tokens (
    digest text PRIMARY KEY,
    user_uuid uuid NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    created timestamptz NOT NULL
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_uuid);

CREATE TABLE customers (
    uuid uuid PRIMARY KEY,
    name text NOT NULL,
    abbreviation text NOT NULL DEFAULT '',
    email text NOT NULL DEFAULT '',
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
CREATE INDEX customers_name_idx ON customers (name);

CREATE TABLE calls (
    uuid uuid PRIMARY KEY,
    customer_uuid uuid NOT NULL REFERENCES customers (uuid) ON DELETE RESTRICT,
    name text NOT NULL,
    slug text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    state text NOT NULL,
    reviewer_identity_visible_to_submitters boolean NOT NULL DEFAULT false,
    reviews_visible_to_submitters boolean NOT NULL DEFAULT true,
    created_by_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
CREATE INDEX calls_customer_idx ON calls (customer_uuid);
CREATE INDEX calls_created_idx ON calls (created);
CREATE INDEX calls_name_idx ON calls (name);
CREATE INDEX calls_state_idx ON calls (state);

CREATE TABLE role_grants (
    uuid uuid PRIMARY KEY,
    user_uuid uuid NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    call_uuid uuid REFERENCES calls (uuid) ON DELETE CASCADE,
    customer_uuid uuid REFERENCES customers (uuid) ON DELETE CASCADE,
    role text NOT NULL,
    created_by_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    created timestamptz NOT NULL,
    CHECK ((call_uuid IS NULL) <> (customer_uuid IS NULL))
);
CREATE UNIQUE INDEX role_grants_call_unique ON role_grants (call_uuid, user_uuid, role)
    WHERE call_uuid IS NOT NULL;
CREATE UNIQUE INDEX role_grants_customer_unique ON role_grants (customer_uuid, user_uuid, role)
    WHERE customer_uuid IS NOT NULL;
CREATE INDEX role_grants_user_idx ON role_grants (user_uuid);

CREATE TABLE rounds (
    uuid uuid PRIMARY KEY,
    call_uuid uuid NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    slug text NOT NULL,
    start_time timestamptz NOT NULL,
    cutoff_time timestamptz NOT NULL,
    review_duration_in_days integer,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
CREATE INDEX rounds_call_idx ON rounds (call_uuid, start_time);
CREATE UNIQUE INDEX rounds_call_slug_unique ON rounds (call_uuid, slug);

CREATE TABLE proposals (
    uuid uuid PRIMARY KEY,
    round_uuid uuid NOT NULL REFERENCES rounds (uuid) ON DELETE RESTRICT,
    call_uuid uuid NOT NULL REFERENCES calls (uuid) ON DELETE RESTRICT,
    name text NOT NULL,
    slug text NOT NULL UNIQUE,
    state text NOT NULL,
    project_summary text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    created_by_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
CREATE INDEX proposals_call_idx ON proposals (call_uuid, state);
CREATE INDEX proposals_round_idx ON proposals (round_uuid);
CREATE INDEX proposals_created_by_idx ON proposals (created_by_uuid);
CREATE INDEX proposals_created_idx ON proposals (created);
CREATE INDEX proposals_name_idx ON proposals (name);
CREATE INDEX proposals_state_idx ON proposals (state);

CREATE TABLE proposal_team_members (
    uuid uuid PRIMARY KEY,
    proposal_uuid uuid NOT NULL REFERENCES proposals (uuid) ON DELETE CASCADE,
    user_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    full_name text NOT NULL,
    email text NOT NULL DEFAULT '',
    orcid text,
    organization text NOT NULL DEFAULT '',
    role text NOT NULL,
    created timestamptz NOT NULL
);
CREATE INDEX proposal_team_members_proposal_idx ON proposal_team_members (proposal_uuid);
CREATE INDEX proposal_team_members_user_idx ON proposal_team_members (user_uuid);

CREATE TABLE reviewer_profiles (
    uuid uuid PRIMARY KEY,
    user_uuid uuid NOT NULL UNIQUE REFERENCES users (uuid) ON DELETE CASCADE,
    orcid_id text UNIQUE,
    biography text NOT NULL DEFAULT '',
    alternative_names text NOT NULL DEFAULT '[]',
    is_published boolean NOT NULL DEFAULT false,
    published_at timestamptz,
    available_for_reviews boolean NOT NULL DEFAULT true,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
CREATE INDEX reviewer_profiles_created_idx ON reviewer_profiles (created);
CREATE INDEX reviewer_profiles_published_idx ON reviewer_profiles (is_published, available_for_reviews);

CREATE TABLE reviewer_affiliations (
    uuid uuid PRIMARY KEY,
    profile_uuid uuid NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    organization_uuid uuid REFERENCES customers (uuid) ON DELETE SET NULL,
    organization_name text NOT NULL,
    organization_identifier text NOT NULL DEFAULT '',
    department text NOT NULL DEFAULT '',
    position_title text NOT NULL DEFAULT '',
    start_date date,
    end_date date,
    is_primary boolean NOT NULL DEFAULT false,
    affiliation_type text NOT NULL,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
CREATE INDEX reviewer_affiliations_profile_idx ON reviewer_affiliations (profile_uuid);

CREATE TABLE reviewer_expertise (
    uuid uuid PRIMARY KEY,
    profile_uuid uuid NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    expertise_keyword text NOT NULL,
    expertise_category text,
    proficiency_level text NOT NULL,
    years_experience integer,
    last_active_date date,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL,
    UNIQUE (profile_uuid, expertise_keyword)
);

CREATE TABLE reviewer_publications (
    uuid uuid PRIMARY KEY,
    profile_uuid uuid NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    title text NOT NULL,
    doi text,
    publication_year integer,
    venue text NOT NULL DEFAULT '',
    venue_type text NOT NULL,
    abstract text NOT NULL DEFAULT '',
    coauthors text NOT NULL DEFAULT '[]',
    external_ids text NOT NULL DEFAULT '{}',
    is_excluded_from_matching boolean NOT NULL DEFAULT false,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL
);
CREATE INDEX reviewer_publications_profile_idx ON reviewer_publications (profile_uuid);

CREATE TABLE call_reviewer_pools (
    uuid uuid PRIMARY KEY,
    call_uuid uuid NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_uuid uuid REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    invited_email text NOT NULL DEFAULT '',
    invited_user_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    invited_by_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    invited_at timestamptz NOT NULL,
    invitation_status text NOT NULL,
    response_date timestamptz,
    decline_reason text NOT NULL DEFAULT '',
    max_assignments integer NOT NULL,
    expertise_match_score double precision,
    invitation_token text NOT NULL UNIQUE,
    invitation_expires_at timestamptz,
    override_reason text NOT NULL DEFAULT '',
    overridden_by_uuid uuid REFERENCES users (uuid) ON DELETE SET NULL,
    overridden_at timestamptz,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL,
    UNIQUE (call_uuid, reviewer_uuid),
    CHECK (reviewer_uuid IS NOT NULL OR invited_email <> '')
);
CREATE UNIQUE INDEX call_reviewer_pools_call_email_unique ON call_reviewer_pools (call_uuid, lower(invited_email))
    WHERE invited_email <> '';
CREATE INDEX call_reviewer_pools_call_invited_idx ON call_reviewer_pools (call_uuid, invited_at);
CREATE INDEX call_reviewer_pools_reviewer_idx ON call_reviewer_pools (reviewer_uuid);
CREATE INDEX call_reviewer_pools_invited_user_idx ON call_reviewer_pools (invited_user_uuid);
CREATE INDEX call_reviewer_pools_status_idx ON call_reviewer_pools (invitation_status, invitation_expires_at);
