// One schema for both backends: keep to portable types (BigInt ids, naive UTC timestamps, Text).

diesel::table! {
    organisms (id) {
        id -> BigInt,
        name -> Text,
        siret -> Nullable<Text>,
        nda -> Nullable<Text>,
        address -> Nullable<Text>,
        qualiopi_number -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        created_at -> Timestamp,
        city -> Nullable<Text>,
        alsace_moselle -> Bool,
        proof_years -> Nullable<Integer>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        password_hash -> Nullable<Text>,
        role -> Text,
        organism_id -> Nullable<BigInt>,
        disabled -> Bool,
        token_version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        weekly_digest -> Bool,
        can_author -> Bool,
        rpps -> Nullable<Text>,
        am_number -> Nullable<Text>,
        nudge -> Bool,
        followup_digest -> Bool,
        followup_staff_digest -> Bool,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_user_id -> Nullable<BigInt>,
        organism_id -> Nullable<BigInt>,
        action -> Text,
        subject_type -> Text,
        subject_id -> Nullable<BigInt>,
        subject_key -> Nullable<Text>,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    vae_requests (id) {
        id -> BigInt,
        organism_id -> BigInt,
        candidate_id -> BigInt,
        program_id -> BigInt,
        year -> Integer,
        state -> Text,
        phone -> Text,
        address -> Text,
        employer -> Text,
        requested_modules -> Text,
        experience_minutes -> Integer,
        below_threshold -> Bool,
        consent_at -> Timestamp,
        reasons -> Nullable<Text>,
        recevable_at -> Nullable<Timestamp>,
        jury_at -> Nullable<Timestamp>,
        jury_place -> Nullable<Text>,
        decision -> Nullable<Text>,
        validated_modules -> Nullable<Text>,
        recommendations -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    vae_experiences (id) {
        id -> BigInt,
        request_id -> BigInt,
        from_date -> Date,
        to_date -> Date,
        employer -> Text,
        job_role -> Text,
        minutes -> Integer,
        missions -> Text,
    }
}

diesel::table! {
    vae_documents (id) {
        id -> BigInt,
        request_id -> BigInt,
        kind -> Text,
        file_name -> Text,
        mime_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        uploaded_by -> BigInt,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    login_sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        device -> Text,
        ip -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    package_attempts (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        lesson_id -> BigInt,
        item -> Text,
        standard -> Text,
        data -> Text,
        completion -> Text,
        success -> Text,
        score_scaled -> Nullable<Double>,
        score_raw -> Nullable<Double>,
        package_seconds -> Double,
        commits -> Integer,
        started_at -> Timestamp,
        updated_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    package_launches (token_sha256) {
        token_sha256 -> Text,
        attempt_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        session_id -> Text,
        fetched -> Bool,
        base_seconds -> Double,
    }
}

diesel::table! {
    cmi5_statements (id) {
        id -> BigInt,
        attempt_id -> BigInt,
        session_id -> Text,
        statement_id -> Text,
        verb -> Text,
        body -> Text,
        stored_at -> Timestamp,
    }
}

diesel::table! {
    cmi5_states (id) {
        id -> BigInt,
        attempt_id -> BigInt,
        state_id -> Text,
        body -> Text,
        content_type -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    legal_holds (id) {
        id -> BigInt,
        organism_id -> BigInt,
        cohort_id -> Nullable<BigInt>,
        trainee_id -> Nullable<BigInt>,
        reason -> Text,
        set_by -> Nullable<BigInt>,
        set_at -> Timestamp,
        lifted_at -> Nullable<Timestamp>,
        lifted_by -> Nullable<BigInt>,
        lifted_reason -> Nullable<Text>,
    }
}

diesel::table! {
    erasure_requests (id) {
        id -> BigInt,
        user_id -> BigInt,
        requested_at -> Timestamp,
        accepted -> Bool,
        reason -> Text,
        erase_on -> Nullable<Date>,
    }
}

diesel::table! {
    erasure_files (id) {
        id -> BigInt,
        shelf -> Text,
        sha256 -> Text,
        queued_at -> Timestamp,
    }
}

diesel::table! {
    funding_files (id) {
        id -> BigInt,
        enrolment_id -> BigInt,
        trainee_id -> BigInt,
        organism_id -> BigInt,
        funder -> Text,
        scheme -> Text,
        file_number -> Text,
        status -> Text,
        sent_on -> Nullable<Date>,
        decided_on -> Nullable<Date>,
        approved_cents -> Nullable<BigInt>,
        approved_minutes -> Nullable<Integer>,
        refusal_reason -> Nullable<Text>,
        updated_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    funding_events (id) {
        id -> BigInt,
        file_id -> BigInt,
        status -> Text,
        reason -> Nullable<Text>,
        at -> Timestamp,
        by_user -> Nullable<BigInt>,
    }
}

diesel::joinable!(login_sessions -> users (user_id));

diesel::table! {
    vae_pending_requests (id) {
        id -> BigInt,
        token_hash -> Text,
        organism_id -> BigInt,
        email -> Text,
        name -> Text,
        phone -> Text,
        address -> Text,
        employer -> Text,
        requested_modules -> Text,
        experiences -> Text,
        ip -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    vae_pending_documents (id) {
        id -> BigInt,
        pending_id -> BigInt,
        kind -> Text,
        file_name -> Text,
        mime_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
    }
}

diesel::table! {
    anonymous_upload_hours (hour_start) {
        hour_start -> Timestamp,
        bytes -> BigInt,
    }
}

diesel::joinable!(vae_pending_documents -> vae_pending_requests (pending_id));

diesel::joinable!(users -> organisms (organism_id));
diesel::joinable!(audit_events -> organisms (organism_id));

diesel::table! {
    outbox (id) {
        id -> BigInt,
        organism_id -> Nullable<BigInt>,
        kind -> Text,
        cause -> Text,
        recipients -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Nullable<Text>,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        locked_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        list_unsubscribe -> Nullable<Text>,
    }
}

diesel::table! {
    outbox_attachments (id) {
        id -> BigInt,
        outbox_id -> BigInt,
        file_name -> Text,
        mime_type -> Text,
        content -> Binary,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        organism_id -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_changes (id) {
        id -> BigInt,
        user_id -> BigInt,
        new_email -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    identity_corrections (id) {
        id -> BigInt,
        user_id -> BigInt,
        organism_id -> BigInt,
        current_name -> Text,
        requested_name -> Text,
        note -> Text,
        state -> Text,
        created_at -> Timestamp,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
    }
}

diesel::table! {
    content_versions (id) {
        id -> BigInt,
        program_code -> Text,
        hash -> Text,
        snapshot -> Text,
        loaded_at -> Timestamp,
        program_id -> Nullable<BigInt>,
        number -> Integer,
        manifest -> Text,
        published_by -> Nullable<BigInt>,
        changes -> Text,
    }
}

diesel::table! {
    program_drafts (program_id) {
        program_id -> BigInt,
        revision -> Integer,
        manifest -> Text,
        based_on -> Nullable<BigInt>,
        updated_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    programs (id) {
        id -> BigInt,
        code -> Text,
        kind -> Text,
        title -> Text,
        total_minutes -> Integer,
        min_months -> Integer,
        max_months -> Integer,
        version_id -> BigInt,
        updated_at -> Timestamp,
        organism_id -> Nullable<BigInt>,
        source_program_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    modules (id) {
        id -> BigInt,
        program_id -> BigInt,
        code -> Text,
        title -> Text,
        position -> Integer,
        planned_minutes -> Integer,
        distance_minutes -> Integer,
        presentiel_minutes -> Integer,
        modality -> Text,
        retired -> Bool,
    }
}

diesel::table! {
    lessons (id) {
        id -> BigInt,
        module_id -> BigInt,
        slug -> Text,
        title -> Text,
        position -> Integer,
        minutes -> Integer,
        retired -> Bool,
        kind -> Text,
        required -> Bool,
        sequence -> Integer,
    }
}

diesel::table! {
    cohorts (id) {
        id -> BigInt,
        organism_id -> BigInt,
        program_id -> BigInt,
        content_version_id -> BigInt,
        name -> Text,
        start_date -> Date,
        end_date -> Date,
        created_at -> Timestamp,
        ics_token -> Text,
    }
}

diesel::table! {
    enrolments (id) {
        id -> BigInt,
        cohort_id -> BigInt,
        trainee_id -> BigInt,
        started_on -> Date,
        ended_on -> Nullable<Date>,
        created_at -> Timestamp,
        end_reason -> Nullable<Text>,
        end_note -> Nullable<Text>,
    }
}

diesel::table! {
    lesson_progress (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        lesson_id -> BigInt,
        completed_at -> Timestamp,
    }
}

diesel::table! {
    evaluation_attempts (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        module_id -> BigInt,
        evaluation_hash -> Text,
        attempt_no -> Integer,
        status -> Text,
        started_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        answers -> Nullable<Text>,
        correct_count -> Nullable<Integer>,
        question_count -> Integer,
        score_pct -> Nullable<Integer>,
        passed -> Nullable<Bool>,
        quiz -> Text,
    }
}

diesel::table! {
    activity_totals (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        lesson_id -> BigInt,
        seconds -> BigInt,
        last_at -> Timestamp,
    }
}

diesel::table! {
    cohort_trainers (id) {
        id -> BigInt,
        cohort_id -> BigInt,
        trainer_id -> BigInt,
    }
}

diesel::table! {
    employers (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        created_at -> Timestamp,
        organism_id -> Nullable<BigInt>,
        registration -> Nullable<Text>,
    }
}

diesel::table! {
    employer_doctors (id) {
        id -> BigInt,
        employer_id -> BigInt,
        doctor_id -> BigInt,
    }
}

diesel::table! {
    trainee_profiles (id) {
        id -> BigInt,
        user_id -> BigInt,
        organism_id -> BigInt,
        profile -> Text,
        hire_date -> Date,
        funding -> Text,
        employer_id -> Nullable<BigInt>,
        ics_token -> Text,
        updated_at -> Timestamp,
        prior_experience -> Nullable<Text>,
        aid_contract_ref -> Nullable<Text>,
    }
}

diesel::table! {
    proa_suspensions (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        reason -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        ended_by -> Nullable<BigInt>,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    path_adjustments (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        module_id -> BigInt,
        kind -> Text,
        exempted_minutes -> Integer,
        reason -> Text,
        document_ref -> Nullable<Text>,
        updated_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        cohort_id -> BigInt,
        module_id -> BigInt,
        trainer_id -> Nullable<BigInt>,
        day -> Date,
        starts_at -> Time,
        ends_at -> Time,
        place -> Text,
        planned_minutes -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    distance_periods (id) {
        id -> BigInt,
        cohort_id -> BigInt,
        module_id -> BigInt,
        from_date -> Date,
        to_date -> Date,
    }
}

diesel::table! {
    study_clocks (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        last_credit_at -> Timestamp,
        day -> Date,
        day_seconds -> Integer,
    }
}

diesel::table! {
    study_sessions (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        page_view -> Text,
        module_id -> BigInt,
        lesson_id -> Nullable<BigInt>,
        started_at -> Timestamp,
        last_beat_at -> Timestamp,
        last_seq -> Integer,
        seconds_credited -> Integer,
    }
}

diesel::table! {
    module_totals (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        module_id -> BigInt,
        distance_seconds -> BigInt,
        presentiel_seconds -> BigInt,
        correction_seconds -> BigInt,
        last_activity_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    daily_activity (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        day -> Date,
        module_id -> BigInt,
        distance_seconds -> BigInt,
        first_at -> Timestamp,
        last_at -> Timestamp,
    }
}

diesel::table! {
    hour_corrections (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        module_id -> BigInt,
        seconds -> BigInt,
        reason -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    attendance_sheets (id) {
        id -> BigInt,
        session_id -> BigInt,
        status -> Text,
        opened_by -> BigInt,
        opened_at -> Timestamp,
        closed_by -> Nullable<BigInt>,
        closed_at -> Nullable<Timestamp>,
        closed_as -> Nullable<Text>,
    }
}

diesel::table! {
    attendance_entries (id) {
        id -> BigInt,
        sheet_id -> BigInt,
        trainee_id -> BigInt,
        status -> Text,
        signed_at -> Nullable<Timestamp>,
        signed_via -> Nullable<Text>,
        arrived_at -> Nullable<Time>,
        left_at -> Nullable<Time>,
        minutes_credited -> Integer,
        note -> Nullable<Text>,
        pm_status -> Nullable<Text>,
        pm_signed_at -> Nullable<Timestamp>,
        pm_signed_via -> Nullable<Text>,
    }
}

diesel::table! {
    job_runs (id) {
        id -> BigInt,
        job -> Text,
        period -> Text,
        instance -> Text,
        ran_at -> Timestamp,
        messages -> Integer,
    }
}

diesel::table! {
    nudges (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        sent_on -> Date,
    }
}

diesel::table! {
    attestations (id) {
        id -> BigInt,
        organism_id -> BigInt,
        trainee_id -> BigInt,
        cohort_id -> BigInt,
        kind -> Text,
        number -> Text,
        code -> Text,
        signature -> Text,
        payload -> Text,
        pdf -> Binary,
        final_key -> Nullable<Text>,
        period_from -> Date,
        period_to -> Date,
        override_reason -> Nullable<Text>,
        issued_by -> Nullable<BigInt>,
        issued_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<BigInt>,
        revoked_reason -> Nullable<Text>,
        cpam_forwarded_on -> Nullable<Date>,
        cpam_marked_by -> Nullable<BigInt>,
        doctor_not_sent -> Nullable<Text>,
        cpam_reminded_at -> Nullable<Timestamp>,
        organism_told_at -> Nullable<Timestamp>,
        erased_at -> Nullable<Timestamp>,
        erased_signature -> Nullable<Text>,
    }
}

diesel::joinable!(attestations -> cohorts (cohort_id));
diesel::joinable!(module_totals -> modules (module_id));
diesel::joinable!(daily_activity -> modules (module_id));
diesel::joinable!(attendance_sheets -> sessions (session_id));
diesel::joinable!(attendance_entries -> attendance_sheets (sheet_id));

diesel::joinable!(cohort_trainers -> cohorts (cohort_id));
diesel::joinable!(employer_doctors -> employers (employer_id));
diesel::joinable!(trainee_profiles -> employers (employer_id));
diesel::joinable!(path_adjustments -> modules (module_id));
diesel::joinable!(sessions -> cohorts (cohort_id));
diesel::joinable!(sessions -> modules (module_id));
diesel::joinable!(distance_periods -> cohorts (cohort_id));
diesel::joinable!(distance_periods -> modules (module_id));

diesel::joinable!(modules -> programs (program_id));
diesel::joinable!(lessons -> modules (module_id));
diesel::joinable!(cohorts -> programs (program_id));
diesel::joinable!(enrolments -> cohorts (cohort_id));
diesel::joinable!(lesson_progress -> lessons (lesson_id));
diesel::joinable!(activity_totals -> lessons (lesson_id));
diesel::joinable!(evaluation_attempts -> modules (module_id));

diesel::joinable!(outbox_attachments -> outbox (outbox_id));
diesel::joinable!(invitations -> users (user_id));

diesel::table! {
    followup_threads (id) {
        id -> BigInt,
        organism_id -> BigInt,
        cohort_id -> BigInt,
        trainee_id -> BigInt,
        module_id -> Nullable<BigInt>,
        kind -> Text,
        subject -> Text,
        created_at -> Timestamp,
        last_message_at -> Timestamp,
        waiting_since -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    followup_messages (id) {
        id -> BigInt,
        thread_id -> BigInt,
        author_id -> BigInt,
        kind -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    followup_attachments (id) {
        id -> BigInt,
        message_id -> BigInt,
        file_name -> Text,
        mime_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
    }
}

diesel::table! {
    followup_reads (id) {
        id -> BigInt,
        thread_id -> BigInt,
        user_id -> BigInt,
        last_read_message_id -> BigInt,
        read_at -> Timestamp,
    }
}

diesel::table! {
    followup_digests (id) {
        id -> BigInt,
        user_id -> BigInt,
        sent_on -> Date,
        up_to_message_id -> BigInt,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        organism_id -> BigInt,
        name -> Text,
        prefix -> Text,
        secret_sha256 -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    closure_days (id) {
        id -> BigInt,
        organism_id -> BigInt,
        first_day -> Date,
        last_day -> Date,
        label -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(closure_days -> organisms (organism_id));
diesel::joinable!(followup_messages -> followup_threads (thread_id));
diesel::joinable!(followup_attachments -> followup_messages (message_id));

diesel::table! {
    assignment_submissions (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        lesson_id -> BigInt,
        version_no -> Integer,
        answer_text -> Text,
        submitted_at -> Timestamp,
        status -> Text,
        graded_by -> Nullable<BigInt>,
        graded_at -> Nullable<Timestamp>,
        scores -> Nullable<Text>,
        points -> Nullable<Integer>,
        max_points -> Nullable<Integer>,
        feedback -> Nullable<Text>,
    }
}

diesel::table! {
    assignment_files (id) {
        id -> BigInt,
        submission_id -> BigInt,
        file_name -> Text,
        mime_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
    }
}

diesel::joinable!(assignment_submissions -> lessons (lesson_id));
diesel::joinable!(assignment_files -> assignment_submissions (submission_id));

diesel::table! {
    doctor_links (id) {
        id -> BigInt,
        doctor_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    bouncing_addresses (email) {
        email -> Text,
        bounced_at -> Timestamp,
        reason -> Text,
        outbox_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    certification_sessions (id) {
        id -> BigInt,
        organism_id -> BigInt,
        held_on -> Date,
        place -> Text,
        jury -> Text,
        blocs -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    certification_candidates (id) {
        id -> BigInt,
        session_id -> BigInt,
        trainee_id -> BigInt,
        blocs -> Text,
        derogation -> Nullable<Text>,
        registered_by -> Nullable<BigInt>,
        registered_at -> Timestamp,
    }
}

diesel::table! {
    certification_blocs (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        bloc -> Text,
        result -> Text,
        session_id -> Nullable<BigInt>,
        vae_request_id -> Nullable<BigInt>,
        decided_on -> Date,
        recorded_by -> Nullable<BigInt>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    certifications (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        obtained_on -> Date,
        certificate_number -> Text,
        recorded_by -> Nullable<BigInt>,
        recorded_at -> Timestamp,
        organism_id -> Nullable<BigInt>,
        certificate_sha256 -> Nullable<Text>,
        certificate_name -> Nullable<Text>,
        certificate_mime -> Nullable<Text>,
        certificate_at -> Nullable<Timestamp>,
        doctor_not_sent -> Nullable<Text>,
        cpam_forwarded_on -> Nullable<Date>,
        cpam_marked_by -> Nullable<BigInt>,
        cpam_reminded_at -> Nullable<Timestamp>,
        organism_told_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deadline_alerts (id) {
        id -> BigInt,
        trainee_id -> BigInt,
        threshold_months -> Integer,
        deadline -> Date,
        sent_at -> Timestamp,
        messages -> Integer,
    }
}

diesel::joinable!(certification_candidates -> certification_sessions (session_id));
diesel::joinable!(certification_candidates -> users (trainee_id));
diesel::joinable!(package_attempts -> lessons (lesson_id));
diesel::table! {
    unsubscribe_links (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    data_exports (id) {
        id -> BigInt,
        user_id -> BigInt,
        requested_by -> BigInt,
        organism_id -> Nullable<BigInt>,
        reference -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        sha256 -> Nullable<Text>,
        size_bytes -> Nullable<BigInt>,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        ready_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(package_launches -> package_attempts (attempt_id));
diesel::joinable!(cmi5_statements -> package_attempts (attempt_id));
diesel::joinable!(cmi5_states -> package_attempts (attempt_id));
diesel::joinable!(legal_holds -> organisms (organism_id));
diesel::joinable!(erasure_requests -> users (user_id));
diesel::joinable!(funding_files -> enrolments (enrolment_id));
diesel::joinable!(funding_events -> funding_files (file_id));

diesel::table! {
    catalogue_entries (cohort_id) {
        cohort_id -> BigInt,
        city -> Text,
        region -> Text,
        distance_percent -> Integer,
        seats -> Integer,
        price_cents -> BigInt,
        funding_routes -> Text,
        contact_email -> Text,
        contact_phone -> Text,
        published -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(catalogue_entries -> cohorts (cohort_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisms,
    catalogue_entries,
    package_attempts,
    package_launches,
    cmi5_statements,
    cmi5_states,
    users,
    login_sessions,
    audit_events,
    outbox,
    outbox_attachments,
    invitations,
    content_versions,
    program_drafts,
    programs,
    modules,
    lessons,
    cohorts,
    enrolments,
    lesson_progress,
    activity_totals,
    evaluation_attempts,
    cohort_trainers,
    employers,
    employer_doctors,
    trainee_profiles,
    path_adjustments,
    sessions,
    distance_periods,
    study_clocks,
    study_sessions,
    module_totals,
    daily_activity,
    hour_corrections,
    attendance_sheets,
    attendance_entries,
    job_runs,
    nudges,
    attestations,
    vae_requests,
    vae_experiences,
    vae_documents,
    vae_pending_requests,
    vae_pending_documents,
    anonymous_upload_hours,
    followup_threads,
    followup_messages,
    followup_attachments,
    followup_reads,
    followup_digests,
    api_tokens,
    closure_days,
    assignment_submissions,
    assignment_files,
    doctor_links,
    bouncing_addresses,
    certification_sessions,
    certification_candidates,
    certification_blocs,
    certifications,
    proa_suspensions,
    deadline_alerts,
    unsubscribe_links,
    legal_holds,
    erasure_requests,
    erasure_files,
    email_changes,
    identity_corrections,
    data_exports,
    funding_files,
    funding_events
);
