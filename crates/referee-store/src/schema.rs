//! Table definitions shared by both backends. Keep in step with `migrations/postgres` and
//! `migrations/sqlite`; a test compares the migrated databases with each other.

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    users (uuid) {
        uuid -> PortableUuid,
        username -> Text,
        email -> Text,
        full_name -> Text,
        is_staff -> Bool,
        is_support -> Bool,
        is_active -> Bool,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    api_tokens (digest) {
        digest -> Text,
        user_uuid -> PortableUuid,
        created -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    customers (uuid) {
        uuid -> PortableUuid,
        name -> Text,
        abbreviation -> Text,
        email -> Text,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    calls (uuid) {
        uuid -> PortableUuid,
        customer_uuid -> PortableUuid,
        name -> Text,
        slug -> Text,
        description -> Text,
        state -> Text,
        reviewer_identity_visible_to_submitters -> Bool,
        reviews_visible_to_submitters -> Bool,
        created_by_uuid -> Nullable<PortableUuid>,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    role_grants (uuid) {
        uuid -> PortableUuid,
        user_uuid -> PortableUuid,
        call_uuid -> Nullable<PortableUuid>,
        customer_uuid -> Nullable<PortableUuid>,
        role -> Text,
        created_by_uuid -> Nullable<PortableUuid>,
        created -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    rounds (uuid) {
        uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        slug -> Text,
        start_time -> PortableTimestamptz,
        cutoff_time -> PortableTimestamptz,
        review_duration_in_days -> Nullable<Integer>,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    proposals (uuid) {
        uuid -> PortableUuid,
        round_uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        name -> Text,
        slug -> Text,
        state -> Text,
        project_summary -> Text,
        description -> Text,
        created_by_uuid -> Nullable<PortableUuid>,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    proposal_team_members (uuid) {
        uuid -> PortableUuid,
        proposal_uuid -> PortableUuid,
        user_uuid -> Nullable<PortableUuid>,
        full_name -> Text,
        email -> Text,
        orcid -> Nullable<Text>,
        organization -> Text,
        role -> Text,
        created -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    reviewer_profiles (uuid) {
        uuid -> PortableUuid,
        user_uuid -> PortableUuid,
        orcid_id -> Nullable<Text>,
        biography -> Text,
        alternative_names -> Text,
        is_published -> Bool,
        published_at -> Nullable<PortableTimestamptz>,
        available_for_reviews -> Bool,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    reviewer_affiliations (uuid) {
        uuid -> PortableUuid,
        profile_uuid -> PortableUuid,
        organization_uuid -> Nullable<PortableUuid>,
        organization_name -> Text,
        organization_identifier -> Text,
        department -> Text,
        position_title -> Text,
        start_date -> Nullable<Date>,
        end_date -> Nullable<Date>,
        is_primary -> Bool,
        affiliation_type -> Text,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    reviewer_expertise (uuid) {
        uuid -> PortableUuid,
        profile_uuid -> PortableUuid,
        expertise_keyword -> Text,
        expertise_category -> Nullable<Text>,
        proficiency_level -> Text,
        years_experience -> Nullable<Integer>,
        last_active_date -> Nullable<Date>,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    reviewer_publications (uuid) {
        uuid -> PortableUuid,
        profile_uuid -> PortableUuid,
        title -> Text,
        doi -> Nullable<Text>,
        publication_year -> Nullable<Integer>,
        venue -> Text,
        venue_type -> Text,
        #[sql_name = "abstract"]
        abstract_text -> Text,
        coauthors -> Text,
        external_ids -> Text,
        is_excluded_from_matching -> Bool,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    call_reviewer_pools (uuid) {
        uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        reviewer_uuid -> Nullable<PortableUuid>,
        invited_email -> Text,
        invited_user_uuid -> Nullable<PortableUuid>,
        invited_by_uuid -> Nullable<PortableUuid>,
        invited_at -> PortableTimestamptz,
        invitation_status -> Text,
        response_date -> Nullable<PortableTimestamptz>,
        decline_reason -> Text,
        max_assignments -> Integer,
        expertise_match_score -> Nullable<Double>,
        invitation_token -> Text,
        invitation_expires_at -> Nullable<PortableTimestamptz>,
        override_reason -> Text,
        overridden_by_uuid -> Nullable<PortableUuid>,
        overridden_at -> Nullable<PortableTimestamptz>,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    conflicts_of_interest (uuid) {
        uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        reviewer_uuid -> PortableUuid,
        proposal_uuid -> Nullable<PortableUuid>,
        conflicting_user_uuid -> Nullable<PortableUuid>,
        conflicting_organization_uuid -> Nullable<PortableUuid>,
        coi_type -> Text,
        severity -> Text,
        detection_method -> Text,
        detected_at -> PortableTimestamptz,
        evidence_description -> Text,
        evidence_data -> Text,
        status -> Text,
        reviewed_by_uuid -> Nullable<PortableUuid>,
        reviewed_at -> Nullable<PortableTimestamptz>,
        review_notes -> Text,
        management_plan -> Text,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::joinable!(api_tokens -> users (user_uuid));
diesel::joinable!(calls -> customers (customer_uuid));
diesel::joinable!(rounds -> calls (call_uuid));
diesel::joinable!(proposals -> rounds (round_uuid));
diesel::joinable!(proposal_team_members -> proposals (proposal_uuid));
diesel::joinable!(reviewer_profiles -> users (user_uuid));
diesel::joinable!(reviewer_affiliations -> reviewer_profiles (profile_uuid));
diesel::joinable!(reviewer_expertise -> reviewer_profiles (profile_uuid));
diesel::joinable!(reviewer_publications -> reviewer_profiles (profile_uuid));
diesel::joinable!(call_reviewer_pools -> calls (call_uuid));
diesel::joinable!(call_reviewer_pools -> reviewer_profiles (reviewer_uuid));
diesel::joinable!(conflicts_of_interest -> calls (call_uuid));
diesel::joinable!(conflicts_of_interest -> reviewer_profiles (reviewer_uuid));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    api_tokens,
    customers,
    calls,
    role_grants,
    rounds,
    proposals,
    proposal_team_members,
    reviewer_profiles,
    reviewer_affiliations,
    reviewer_expertise,
    reviewer_publications,
    call_reviewer_pools,
    conflicts_of_interest,
);
