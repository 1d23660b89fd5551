-- Users, organisations, calls, proposals, reviewer profiles and the reviewer pool.
-- UUIDs are 32 lowercase hex characters and times fixed-width RFC 3339 text in UTC, so that
-- text order is time order.

CREATE TABLE users (
    uuid TEXT NOT NULL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL DEFAULT '',
    full_name TEXT NOT NULL DEFAULT '',
    is_staff BOOLEAN NOT NULL DEFAULT false,
    is_support BOOLEAN NOT NULL DEFAULT false,
    is_active BOOLEAN NOT NULL DEFAULT true,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX users_email_idx ON users (lower(email));

CREATE TABLE api_tokens (
    digest TEXT NOT NULL PRIMARY KEY,
    user_uuid TEXT NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    created TEXT NOT NULL
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_uuid);

CREATE TABLE customers (
    uuid TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    abbreviation TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX customers_name_idx ON customers (name);

CREATE TABLE calls (
    uuid TEXT NOT NULL PRIMARY KEY,
    customer_uuid TEXT NOT NULL REFERENCES customers (uuid) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    reviewer_identity_visible_to_submitters BOOLEAN NOT NULL DEFAULT false,
    reviews_visible_to_submitters BOOLEAN NOT NULL DEFAULT true,
    created_by_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX calls_customer_idx ON calls (customer_uuid);
CREATE INDEX calls_created_idx ON calls (created);
CREATE INDEX calls_name_idx ON calls (name);
CREATE INDEX calls_state_idx ON calls (state);

CREATE TABLE role_grants (
    uuid TEXT NOT NULL PRIMARY KEY,
    user_uuid TEXT NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
    call_uuid TEXT REFERENCES calls (uuid) ON DELETE CASCADE,
    customer_uuid TEXT REFERENCES customers (uuid) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_by_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    created TEXT NOT NULL,
    CHECK ((call_uuid IS NULL) <> (customer_uuid IS NULL))
);
CREATE UNIQUE INDEX role_grants_call_unique ON role_grants (call_uuid, user_uuid, role)
    WHERE call_uuid IS NOT NULL;
CREATE UNIQUE INDEX role_grants_customer_unique ON role_grants (customer_uuid, user_uuid, role)
    WHERE customer_uuid IS NOT NULL;
CREATE INDEX role_grants_user_idx ON role_grants (user_uuid);

CREATE TABLE rounds (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    start_time TEXT NOT NULL,
    cutoff_time TEXT NOT NULL,
    review_duration_in_days INTEGER,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX rounds_call_idx ON rounds (call_uuid, start_time);
CREATE UNIQUE INDEX rounds_call_slug_unique ON rounds (call_uuid, slug);

CREATE TABLE proposals (
    uuid TEXT NOT NULL PRIMARY KEY,
    round_uuid TEXT NOT NULL REFERENCES rounds (uuid) ON DELETE RESTRICT,
    call_uuid TEXT NOT NULL REFERENCES calls (uuid) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    project_summary TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created_by_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX proposals_call_idx ON proposals (call_uuid, state);
CREATE INDEX proposals_round_idx ON proposals (round_uuid);
CREATE INDEX proposals_created_by_idx ON proposals (created_by_uuid);
CREATE INDEX proposals_created_idx ON proposals (created);
CREATE INDEX proposals_name_idx ON proposals (name);
CREATE INDEX proposals_state_idx ON proposals (state);

CREATE TABLE proposal_team_members (
    uuid TEXT NOT NULL PRIMARY KEY,
    proposal_uuid TEXT NOT NULL REFERENCES proposals (uuid) ON DELETE CASCADE,
    user_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    full_name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    orcid TEXT,
    organization TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX proposal_team_members_proposal_idx ON proposal_team_members (proposal_uuid);
CREATE INDEX proposal_team_members_user_idx ON proposal_team_members (user_uuid);

CREATE TABLE reviewer_profiles (
    uuid TEXT NOT NULL PRIMARY KEY,
    user_uuid TEXT NOT NULL UNIQUE REFERENCES users (uuid) ON DELETE CASCADE,
    orcid_id TEXT UNIQUE,
    biography TEXT NOT NULL DEFAULT '',
    alternative_names TEXT NOT NULL DEFAULT '[]',
    is_published BOOLEAN NOT NULL DEFAULT false,
    published_at TEXT,
    available_for_reviews BOOLEAN NOT NULL DEFAULT true,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX reviewer_profiles_created_idx ON reviewer_profiles (created);
CREATE INDEX reviewer_profiles_published_idx ON reviewer_profiles (is_published, available_for_reviews);

CREATE TABLE reviewer_affiliations (
    uuid TEXT NOT NULL PRIMARY KEY,
    profile_uuid TEXT NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    organization_uuid TEXT REFERENCES customers (uuid) ON DELETE SET NULL,
    organization_name TEXT NOT NULL,
    organization_identifier TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    position_title TEXT NOT NULL DEFAULT '',
    start_date DATE,
    end_date DATE,
    is_primary BOOLEAN NOT NULL DEFAULT false,
    affiliation_type TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX reviewer_affiliations_profile_idx ON reviewer_affiliations (profile_uuid);

CREATE TABLE reviewer_expertise (
    uuid TEXT NOT NULL PRIMARY KEY,
    profile_uuid TEXT NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    expertise_keyword TEXT NOT NULL,
    expertise_category TEXT,
    proficiency_level TEXT NOT NULL,
    years_experience INTEGER,
    last_active_date DATE,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    UNIQUE (profile_uuid, expertise_keyword)
);

CREATE TABLE reviewer_publications (
    uuid TEXT NOT NULL PRIMARY KEY,
    profile_uuid TEXT NOT NULL REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    title TEXT NOT NULL,
    doi TEXT,
    publication_year INTEGER,
    venue TEXT NOT NULL DEFAULT '',
    venue_type TEXT NOT NULL,
    abstract TEXT NOT NULL DEFAULT '',
    coauthors TEXT NOT NULL DEFAULT '[]',
    external_ids TEXT NOT NULL DEFAULT '{}',
    is_excluded_from_matching BOOLEAN NOT NULL DEFAULT false,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
CREATE INDEX reviewer_publications_profile_idx ON reviewer_publications (profile_uuid);

CREATE TABLE call_reviewer_pools (
    uuid TEXT NOT NULL PRIMARY KEY,
    call_uuid TEXT NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
    reviewer_uuid TEXT REFERENCES reviewer_profiles (uuid) ON DELETE CASCADE,
    invited_email TEXT NOT NULL DEFAULT '',
    invited_user_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    invited_by_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    invited_at TEXT NOT NULL,
    invitation_status TEXT NOT NULL,
    response_date TEXT,
    decline_reason TEXT NOT NULL DEFAULT '',
    max_assignments INTEGER NOT NULL,
    expertise_match_score DOUBLE,
    invitation_token TEXT NOT NULL UNIQUE,
    invitation_expires_at TEXT,
    override_reason TEXT NOT NULL DEFAULT '',
    overridden_by_uuid TEXT REFERENCES users (uuid) ON DELETE SET NULL,
    overridden_at TEXT,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    UNIQUE (call_uuid, reviewer_uuid),
    CHECK (reviewer_uuid IS NOT NULL OR invited_email <> '')
);
CREATE UNIQUE INDEX call_reviewer_pools_call_email_unique ON call_reviewer_pools (call_uuid, lower(invited_email))
    WHERE invited_email <> '';
CREATE INDEX call_reviewer_pools_call_invited_idx ON call_reviewer_pools (call_uuid, invited_at);
CREATE INDEX call_reviewer_pools_reviewer_idx ON call_reviewer_pools (reviewer_uuid);
CREATE INDEX call_reviewer_pools_invited_user_idx ON call_reviewer_pools (invited_user_uuid);
CREATE INDEX call_reviewer_pools_status_idx ON call_reviewer_pools (invitation_status, invitation_expires_at);
