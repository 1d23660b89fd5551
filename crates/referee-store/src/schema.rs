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

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    call_assignment_configurations (uuid) {
        uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        auto_reassign_on_decline -> Bool,
        max_auto_reassign_attempts -> Integer,
        assignment_expiration_days -> Integer,
        send_reminder_before_expiry_days -> Integer,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    call_coi_configurations (uuid) {
        uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        coauthorship_lookback_years -> Integer,
        coauthorship_threshold_papers -> Integer,
        institutional_lookback_years -> Integer,
        include_same_department -> Bool,
        include_same_institution -> Bool,
        recusal_required_types -> Text,
        management_allowed_types -> Text,
        disclosure_only_types -> Text,
        auto_detect_coauthorship -> Bool,
        auto_detect_institutional -> Bool,
        auto_detect_named_personnel -> Bool,
        invitation_proposal_disclosure -> Text,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    matching_configurations (uuid) {
        uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        affinity_method -> Text,
        keyword_weight -> Double,
        text_weight -> Double,
        min_reviewers_per_proposal -> Integer,
        max_reviewers_per_proposal -> Integer,
        min_proposals_per_reviewer -> Integer,
        max_proposals_per_reviewer -> Integer,
        algorithm -> Text,
        min_affinity_threshold -> Double,
        use_reviewer_bids -> Bool,
        bid_weight -> Double,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    proposal_reviews (uuid) {
        uuid -> PortableUuid,
        proposal_uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        reviewer_user_uuid -> PortableUuid,
        state -> Text,
        summary_score -> Integer,
        summary_public_comment -> Text,
        summary_private_comment -> Text,
        comment_project_title -> Nullable<Text>,
        comment_project_summary -> Nullable<Text>,
        comment_project_description -> Nullable<Text>,
        comment_project_supporting_documentation -> Nullable<Text>,
        comment_resource_requests -> Nullable<Text>,
        comment_team -> Nullable<Text>,
        coi_confirmed -> Bool,
        coi_confirmed_at -> Nullable<PortableTimestamptz>,
        review_end_date -> Nullable<PortableTimestamptz>,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    assignment_batches (uuid) {
        uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        pool_entry_uuid -> PortableUuid,
        status -> Text,
        sent_at -> Nullable<PortableTimestamptz>,
        expires_at -> Nullable<PortableTimestamptz>,
        responded_at -> Nullable<PortableTimestamptz>,
        source -> Text,
        created_by_uuid -> Nullable<PortableUuid>,
        manager_notes -> Text,
        reminder_sent -> Bool,
        manager_notified -> Bool,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    assignment_items (uuid) {
        uuid -> PortableUuid,
        batch_uuid -> PortableUuid,
        proposal_uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        pool_entry_uuid -> PortableUuid,
        reviewer_uuid -> Nullable<PortableUuid>,
        status -> Text,
        affinity_score -> Nullable<Double>,
        has_coi -> Bool,
        responded_at -> Nullable<PortableTimestamptz>,
        decline_reason -> Text,
        review_uuid -> Nullable<PortableUuid>,
        reassigned_from_uuid -> Nullable<PortableUuid>,
        reassign_count -> Integer,
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

    /// Items per (call, status), kept by triggers on `assignment_items`. SQLite only:
    /// PostgreSQL has no such table.
    assignment_item_counts (call_uuid, status) {
        call_uuid -> PortableUuid,
        status -> Text,
        item_count -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    assignment_item_conflicts (item_uuid, conflict_uuid) {
        item_uuid -> PortableUuid,
        conflict_uuid -> PortableUuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    reviewer_proposal_affinities (uuid) {
        uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        reviewer_uuid -> PortableUuid,
        proposal_uuid -> PortableUuid,
        affinity_score -> Double,
        keyword_score -> Nullable<Double>,
        text_score -> Nullable<Double>,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    audit_events (uuid) {
        uuid -> PortableUuid,
        call_uuid -> Nullable<PortableUuid>,
        object_type -> Text,
        object_uuid -> PortableUuid,
        action -> Text,
        actor_uuid -> Nullable<PortableUuid>,
        actor_name -> Text,
        reason -> Text,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
        created -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    outbox_messages (uuid) {
        uuid -> PortableUuid,
        call_uuid -> Nullable<PortableUuid>,
        template -> Text,
        recipient_email -> Text,
        recipient_user_uuid -> Nullable<PortableUuid>,
        subject -> Text,
        context -> Text,
        created -> PortableTimestamptz,
        sent_at -> Nullable<PortableTimestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    coi_detection_jobs (uuid) {
        uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        job_type -> Text,
        state -> Text,
        total_pairs -> Integer,
        processed_pairs -> Integer,
        conflicts_found -> Integer,
        started_at -> Nullable<PortableTimestamptz>,
        completed_at -> Nullable<PortableTimestamptz>,
        error_message -> Text,
        created_by_uuid -> Nullable<PortableUuid>,
        created -> PortableTimestamptz,
        modified -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    coi_evaluated_pairs (call_uuid, reviewer_uuid, proposal_uuid) {
        call_uuid -> PortableUuid,
        reviewer_uuid -> PortableUuid,
        proposal_uuid -> PortableUuid,
        evaluated_at -> PortableTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    reviewer_suggestions (uuid) {
        uuid -> PortableUuid,
        call_uuid -> PortableUuid,
        reviewer_uuid -> PortableUuid,
        affinity_score -> Double,
        keyword_score -> Nullable<Double>,
        text_score -> Nullable<Double>,
        status -> Text,
        reviewed_by_uuid -> Nullable<PortableUuid>,
        reviewed_at -> Nullable<PortableTimestamptz>,
        rejection_reason -> Text,
        matched_keywords -> Text,
        top_matching_proposals -> Text,
        source_type -> Text,
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
diesel::joinable!(assignment_batches -> call_reviewer_pools (pool_entry_uuid));
diesel::joinable!(assignment_items -> assignment_batches (batch_uuid));
diesel::joinable!(assignment_items -> proposals (proposal_uuid));
diesel::joinable!(assignment_item_conflicts -> assignment_items (item_uuid));
diesel::joinable!(assignment_item_conflicts -> conflicts_of_interest (conflict_uuid));
diesel::joinable!(proposal_reviews -> proposals (proposal_uuid));

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
    call_assignment_configurations,
    call_coi_configurations,
    matching_configurations,
    proposal_reviews,
    assignment_batches,
    assignment_items,
    assignment_item_counts,
    assignment_item_conflicts,
    reviewer_proposal_affinities,
    audit_events,
    outbox_messages,
    coi_detection_jobs,
    coi_evaluated_pairs,
    reviewer_suggestions,
);
