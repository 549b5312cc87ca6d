//! The one portable schema, shared by both backends (migrations/sqlite and migrations/postgres).

diesel::table! {
    organizations (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        is_support -> Bool,
        created_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    memberships (user_id, org_id) {
        user_id -> Text,
        org_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(memberships -> organizations (org_id));
diesel::joinable!(memberships -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(organizations, users, memberships);

diesel::table! {
    /// Signed-in sessions; `id` is the SHA-256 (hex) of the token the cookie carries.
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(sessions, users);

diesel::table! {
    lever_connections (org_id) {
        org_id -> Text,
        environment -> Text,
        api_key_sealed -> Text,
        api_key_last4 -> Text,
        status -> Text,
        status_message -> Nullable<Text>,
        missing_permissions -> Text,
        default_user_id -> Nullable<Text>,
        default_user_name -> Nullable<Text>,
        connected_by -> Text,
        checked_at -> Timestamp,
        created_at -> Timestamp,
        auth_kind -> Text,
        access_token_sealed -> Nullable<Text>,
        refresh_token_sealed -> Nullable<Text>,
        token_expires_at -> Nullable<Timestamp>,
        token_refreshed_at -> Nullable<Timestamp>,
        lever_account_id -> Nullable<Text>,
        lever_user_id -> Nullable<Text>,
        granted_scopes -> Text,
    }
}

diesel::table! {
    /// Authorizations in flight: `state_hash` is the SHA-256 (hex) of the `state` sent to Lever.
    lever_oauth_states (state_hash) {
        state_hash -> Text,
        org_id -> Text,
        session_id -> Text,
        started_by -> Text,
        environment -> Text,
        scopes -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    lever_users (org_id, id) {
        org_id -> Text,
        id -> Text,
        name -> Text,
        email -> Text,
        access_role -> Text,
        active -> Bool,
    }
}

diesel::table! {
    lever_stages (org_id, id) {
        org_id -> Text,
        id -> Text,
        text -> Text,
        position -> Integer,
        refreshed_at -> Timestamp,
    }
}

diesel::table! {
    /// An organization's saved settings by name (src/domain/org_settings.rs declares them).
    org_settings (org_id, name) {
        org_id -> Text,
        name -> Text,
        value -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (org_id) {
        org_id -> Text,
        endpoint_key -> Text,
        rotated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_tokens (org_id, event) {
        org_id -> Text,
        event -> Text,
        token_sealed -> Text,
        token_last4 -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Webhooks leverbridge created in Lever through the Webhooks API (OAuth connections).
    managed_webhooks (org_id, event) {
        org_id -> Text,
        event -> Text,
        lever_webhook_id -> Text,
        url -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    configurations (id) {
        id -> Text,
        org_id -> Text,
        trigger_stage_id -> Nullable<Text>,
        pad_kind -> Text,
        tag_name -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        question_id -> Nullable<Text>,
        trigger_style -> Text,
        stage_prefix -> Nullable<Text>,
        question_source -> Text,
        question_tag_prefix -> Nullable<Text>,
    }
}

diesel::table! {
    /// Recruiter's choice: a candidate waiting for a member to pick the question.
    question_choices (id) {
        id -> Text,
        org_id -> Text,
        configuration_id -> Text,
        opportunity_id -> Text,
        candidate_name -> Text,
        event_id -> Text,
        created_at -> Timestamp,
        assessment_id -> Nullable<Text>,
        chosen_by -> Nullable<Text>,
        chosen_at -> Nullable<Timestamp>,
        withdrawn_at -> Nullable<Timestamp>,
        withdraw_reason -> Nullable<Text>,
    }
}

diesel::table! {
    /// Timeline lines of an assessment beyond its columns and steps, each recorded once by key.
    assessment_history (assessment_id, key) {
        assessment_id -> Text,
        key -> Text,
        happened_at -> Timestamp,
        what -> Text,
    }
}

diesel::table! {
    questions (id) {
        id -> Text,
        org_id -> Text,
        title -> Text,
        prompt -> Text,
        language -> Text,
        starter_code -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// A model answer, run against the cases by *Check solution*; never shown to candidates.
        reference_solution -> Text,
    }
}

diesel::joinable!(configurations -> questions (question_id));

diesel::table! {
    webhook_events (id) {
        id -> Text,
        org_id -> Text,
        received_at -> Timestamp,
        event -> Text,
        token -> Nullable<Text>,
        triggered_at -> Nullable<BigInt>,
        opportunity_id -> Nullable<Text>,
        to_stage_id -> Nullable<Text>,
        signature_valid -> Bool,
        status -> Text,
        outcome -> Text,
        configuration_id -> Nullable<Text>,
        body -> Text,
        candidate_name -> Nullable<Text>,
    }
}

diesel::table! {
    seen_tokens (org_id, triggered_at, token) {
        org_id -> Text,
        triggered_at -> BigInt,
        token -> Text,
        event_id -> Text,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        org_id -> Text,
        kind -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        locked_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        event_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        lane -> Text,
    }
}

diesel::table! {
    assessments (id) {
        id -> Text,
        org_id -> Text,
        configuration_id -> Text,
        opportunity_id -> Text,
        candidate_name -> Text,
        token -> Text,
        pad_kind -> Text,
        question_title -> Nullable<Text>,
        question_prompt -> Nullable<Text>,
        tag_name -> Text,
        state -> Text,
        event_id -> Text,
        created_at -> Timestamp,
        question_language -> Text,
        starter_code -> Text,
        time_limit_minutes -> Nullable<Integer>,
        start_by -> Nullable<Timestamp>,
        started_at -> Nullable<Timestamp>,
        deadline_at -> Nullable<Timestamp>,
        submitted_at -> Nullable<Timestamp>,
        time_ran_out -> Bool,
        score -> Nullable<Integer>,
        failure_reason -> Nullable<Text>,
        scored_by -> Nullable<Text>,
        scored_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        cancel_reason -> Nullable<Text>,
        purged_at -> Nullable<Timestamp>,
        /// When the link's save allowance is whole again (`assessments::saves`).
        saves_paced_until -> Nullable<Timestamp>,
        /// When automatic grading stored its result (`assessments::grading`).
        graded_at -> Nullable<Timestamp>,
        cases_passed -> Nullable<Integer>,
        cases_total -> Nullable<Integer>,
    }
}

diesel::table! {
    /// A question's test cases, in order.
    question_cases (question_id, position) {
        question_id -> Text,
        position -> Integer,
        input -> Text,
        expected -> Text,
        weight -> Integer,
        hidden -> Bool,
        time_limit_ms -> Nullable<Integer>,
    }
}

diesel::table! {
    /// An assessment's copy of its question's test cases.
    assessment_cases (assessment_id, position) {
        assessment_id -> Text,
        position -> Integer,
        input -> Text,
        expected -> Text,
        weight -> Integer,
        hidden -> Bool,
        time_limit_ms -> Nullable<Integer>,
    }
}

diesel::table! {
    /// What grading found for each of an assessment's cases.
    case_results (assessment_id, position) {
        assessment_id -> Text,
        position -> Integer,
        verdict -> Text,
        stdout -> Text,
        stderr -> Text,
        truncated -> Bool,
        time_ms -> BigInt,
        ending -> Text,
    }
}

diesel::table! {
    /// The candidate's runs: *Run* on custom input and *Run tests*.
    assessment_runs (id) {
        id -> Text,
        assessment_id -> Text,
        kind -> Text,
        requested_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        summary -> Nullable<Text>,
        result -> Nullable<Text>,
    }
}

diesel::table! {
    /// A grade changed by a reviewer or admin, and its write-back's steps.
    grade_overrides (id) {
        id -> Text,
        assessment_id -> Text,
        from_state -> Text,
        from_score -> Nullable<Integer>,
        to_state -> Text,
        to_score -> Integer,
        reason -> Text,
        changed_by -> Text,
        changed_at -> Timestamp,
        tag_done_at -> Nullable<Timestamp>,
        note_done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Every save of a candidate's code, numbered from 1 per assessment, for playback.
    snapshots (id) {
        id -> Text,
        assessment_id -> Text,
        seq -> Integer,
        code -> Text,
        saved_at -> Timestamp,
        /// The code's length in bytes and lines, so the list of saves is read without the code.
        size_bytes -> Integer,
        line_count -> Integer,
    }
}

diesel::joinable!(snapshots -> assessments (assessment_id));

diesel::table! {
    assessment_steps (assessment_id, step) {
        assessment_id -> Text,
        step -> Text,
        done_at -> Timestamp,
    }
}

diesel::table! {
    assessment_step_attempts (assessment_id, step) {
        assessment_id -> Text,
        step -> Text,
        attempted_at -> Timestamp,
    }
}

diesel::table! {
    lever_feedback_templates (org_id) {
        org_id -> Text,
        template_id -> Text,
        fields -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    lever_calls (id) {
        id -> Text,
        org_id -> Text,
        event_id -> Nullable<Text>,
        method -> Text,
        path -> Text,
        status -> Nullable<Integer>,
        error -> Nullable<Text>,
        attempt -> Integer,
        duration_ms -> BigInt,
        at -> Timestamp,
    }
}

diesel::table! {
    webhook_event_stats (org_id, event, writer) {
        org_id -> Text,
        event -> Text,
        writer -> Integer,
        accepted -> BigInt,
        rejected -> BigInt,
        last_received_at -> Timestamp,
        last_signature_valid -> Bool,
        last_verification_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The invitation and reminder emails of an assessment (`kind`), each with its fate.
    assessment_emails (id) {
        id -> Text,
        org_id -> Text,
        assessment_id -> Text,
        kind -> Text,
        recipient -> Nullable<Text>,
        status -> Text,
        detail -> Nullable<Text>,
        job_id -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(assessment_emails -> assessments (assessment_id));

diesel::table! {
    /// How many of an organization's assessments are in each state: kept by database triggers.
    assessment_counts (org_id, state) {
        org_id -> Text,
        state -> Text,
        n -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    question_cases,
    assessment_cases,
    case_results,
    assessment_runs,
    grade_overrides,
    assessment_emails,
    lever_connections,
    lever_oauth_states,
    managed_webhooks,
    lever_users,
    lever_stages,
    org_settings,
    webhook_endpoints,
    webhook_tokens,
    configurations,
    questions,
    webhook_events,
    webhook_event_stats,
    seen_tokens,
    jobs,
    assessments,
    assessment_steps,
    assessment_step_attempts,
    assessment_history,
    question_choices,
    lever_feedback_templates,
    snapshots,
    lever_calls,
);
