import GRDB

/// The schema, as named migrations (docs/storage.md). A migration is never edited once
/// released: a change is a new `vN`. Issue 5 (alerts, webhooks) adds its tables as `v2`;
/// issue 6 (conferences) adds `runs.conference` as `v3`.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1", migrate: v1)
        migrator.registerMigration("v2", migrate: v2)
        migrator.registerMigration("v3", migrate: v3)
        return migrator
    }

    /// Times are REAL seconds since 1970 (UTC); structured values are JSON text written with
    /// `WireJSON` (snake_case keys).
    private static func v1(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE meta (
                key TEXT PRIMARY KEY NOT NULL,
                value TEXT NOT NULL
            ) WITHOUT ROWID;

            CREATE TABLE enrollment_tokens (
                hash TEXT PRIMARY KEY NOT NULL,
                site TEXT NOT NULL,
                labels TEXT NOT NULL,
                expires_at REAL NOT NULL,
                created_at REAL NOT NULL,
                used_at REAL
            ) WITHOUT ROWID;

            CREATE TABLE agents (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                site TEXT NOT NULL,
                subnet TEXT,
                labels TEXT NOT NULL,
                version TEXT,
                state TEXT NOT NULL,
                sip_contacts TEXT NOT NULL,
                capabilities TEXT,
                clock TEXT,
                credential_hash TEXT NOT NULL,
                enrolled_at REAL NOT NULL,
                last_seen_at REAL,
                state_since REAL,
                remote_address TEXT,
                active_runs INTEGER NOT NULL DEFAULT 0,
                spooled INTEGER NOT NULL DEFAULT 0
            );
            -- A name belongs to one live agent; a revoked agent's name can be enrolled again.
            CREATE UNIQUE INDEX agents_live_name ON agents(name) WHERE state <> 'revoked';
            CREATE INDEX agents_name ON agents(name);

            CREATE TABLE agent_events (
                id INTEGER PRIMARY KEY,
                agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                at REAL NOT NULL,
                detail TEXT
            );
            CREATE INDEX agent_events_agent_at ON agent_events(agent_id, at);
            CREATE INDEX agent_events_at ON agent_events(at);

            CREATE TABLE suites (
                name TEXT PRIMARY KEY NOT NULL,
                type TEXT NOT NULL,
                spec TEXT NOT NULL,
                paused INTEGER NOT NULL DEFAULT 0,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL,
                last_round_at REAL,
                next_round_at REAL,
                warning TEXT,
                achievable_period_s REAL
            ) WITHOUT ROWID;

            -- Runs keep their suite's name, not a foreign key: deleting a suite keeps its history.
            CREATE TABLE rounds (
                id TEXT PRIMARY KEY NOT NULL,
                suite TEXT NOT NULL,
                planned_at REAL NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX rounds_suite ON rounds(suite, planned_at);

            CREATE TABLE runs (
                id TEXT PRIMARY KEY NOT NULL,
                suite TEXT NOT NULL,
                round_id TEXT,
                test_type TEXT NOT NULL,
                status TEXT NOT NULL,
                cause TEXT,
                planned_at REAL NOT NULL,
                start_at REAL NOT NULL,
                deadline REAL NOT NULL,
                running_at REAL,
                ended_at REAL,
                planned_duration_s REAL NOT NULL,
                thresholds TEXT NOT NULL,
                -- First and second participant (caller, callee) for pair queries; callee NULL
                -- for single-member runs.
                caller_id TEXT,
                callee_id TEXT,
                call TEXT,
                dtmf TEXT,
                mos_min REAL,
                loss_pct_max REAL,
                -- Bit 1: folded into rollups_hourly; bit 2: into rollups_daily.
                rolled_up INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX runs_start ON runs(start_at);
            CREATE INDEX runs_suite_start ON runs(suite, start_at);
            CREATE INDEX runs_round ON runs(round_id);
            CREATE INDEX runs_ended ON runs(ended_at);
            CREATE INDEX runs_open ON runs(status) WHERE status IN ('scheduled', 'running');
            CREATE INDEX runs_suite_pair ON runs(suite, caller_id, callee_id, ended_at);

            CREATE TABLE participants (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                agent_id TEXT NOT NULL,
                ordinal INTEGER NOT NULL,
                role TEXT NOT NULL,
                status TEXT,
                cause TEXT,
                reported_at REAL,
                -- The participant's RunResult without its evidence (that is in `evidence`).
                result TEXT,
                PRIMARY KEY (run_id, agent_id)
            ) WITHOUT ROWID;
            CREATE INDEX participants_agent ON participants(agent_id, run_id);

            CREATE TABLE stream_metrics (
                id INTEGER PRIMARY KEY,
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                from_agent TEXT NOT NULL,
                to_agent TEXT NOT NULL,
                ended_at REAL NOT NULL,
                measured_by TEXT NOT NULL,
                codec TEXT,
                ptime INTEGER,
                packets_sent INTEGER,
                packets_expected INTEGER NOT NULL,
                packets_received INTEGER NOT NULL,
                packets_lost INTEGER NOT NULL,
                duplicates INTEGER NOT NULL,
                reordered INTEGER NOT NULL,
                loss_pct REAL NOT NULL,
                burst_ratio REAL,
                max_burst INTEGER NOT NULL,
                jitter_mean_ms REAL,
                jitter_max_ms REAL,
                rtt_ms REAL,
                one_way_ms REAL,
                one_way_source TEXT,
                jb_discards INTEGER NOT NULL,
                effective_loss_pct REAL,
                r_factor REAL,
                mos_cq REAL,
                mos_lq REAL,
                impairment_is REAL,
                impairment_id REAL,
                impairment_ie_eff REAL,
                impairment_a REAL,
                dscp_sent INTEGER,
                dscp_received INTEGER,
                audio_ok INTEGER,
                first_packet_ms REAL
            );
            CREATE INDEX stream_metrics_run ON stream_metrics(run_id);
            CREATE INDEX stream_metrics_pair ON stream_metrics(from_agent, to_agent, ended_at);

            CREATE TABLE evidence (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                agent_id TEXT NOT NULL,
                evidence TEXT NOT NULL,
                PRIMARY KEY (run_id, agent_id)
            ) WITHOUT ROWID;
            """)
        for table in ["rollups_hourly", "rollups_daily"] {
            // One row per suite, test type, ordered pair and bucket. Status counts are of the
            // runs whose caller is from_agent and callee to_agent (to_agent '' for runs of one
            // member); metric sums are of the stream_metrics rows of the direction from → to.
            try db.execute(sql: """
                CREATE TABLE \(table) (
                    suite TEXT NOT NULL,
                    test_type TEXT NOT NULL,
                    from_agent TEXT NOT NULL,
                    to_agent TEXT NOT NULL,
                    bucket_start REAL NOT NULL,
                    runs INTEGER NOT NULL DEFAULT 0,
                    passed INTEGER NOT NULL DEFAULT 0,
                    degraded INTEGER NOT NULL DEFAULT 0,
                    failed INTEGER NOT NULL DEFAULT 0,
                    not_run INTEGER NOT NULL DEFAULT 0,
                    mos_sum REAL NOT NULL DEFAULT 0,
                    mos_min REAL,
                    mos_count INTEGER NOT NULL DEFAULT 0,
                    loss_sum REAL NOT NULL DEFAULT 0,
                    loss_count INTEGER NOT NULL DEFAULT 0,
                    jitter_sum REAL NOT NULL DEFAULT 0,
                    jitter_count INTEGER NOT NULL DEFAULT 0,
                    rtt_sum REAL NOT NULL DEFAULT 0,
                    rtt_count INTEGER NOT NULL DEFAULT 0,
                    last_run_at REAL,
                    -- Latest end of a run with a result other than not_run.
                    last_tested_at REAL,
                    PRIMARY KEY (suite, test_type, from_agent, to_agent, bucket_start)
                ) WITHOUT ROWID;
                CREATE INDEX \(table)_bucket ON \(table)(bucket_start);
                """)
        }
    }
    /// Issue 5: alerts (one row per alert key, carrying the engine's track), their transitions,
    /// rule patches stored through the API, silences, webhook endpoints and the delivery outbox
    /// with its attempts.
    private static func v2(_ db: Database) throws {
        try db.execute(sql: """
            -- One row per alert: the engine's track (JSON) plus the columns queries need. A key
            -- the engine forgot keeps its row (and history) when it ever fired, with
            -- engine_active = 0; only one active row per (rule, scope_key).
            CREATE TABLE alerts (
                id TEXT PRIMARY KEY NOT NULL,
                rule TEXT NOT NULL,
                scope_key TEXT NOT NULL,
                scope TEXT NOT NULL,
                severity TEXT NOT NULL,
                -- NULL until it first fires (a streak in progress).
                state TEXT,
                started_at REAL,
                updated_at REAL NOT NULL,
                resolved_at REAL,
                summary TEXT NOT NULL,
                measurement TEXT,
                transitions INTEGER NOT NULL DEFAULT 0,
                track TEXT NOT NULL,
                engine_active INTEGER NOT NULL DEFAULT 1
            );
            CREATE UNIQUE INDEX alerts_active_key ON alerts(rule, scope_key) WHERE engine_active = 1;
            CREATE INDEX alerts_state ON alerts(state, updated_at);

            CREATE TABLE alert_transitions (
                id TEXT PRIMARY KEY NOT NULL,
                alert_id TEXT NOT NULL REFERENCES alerts(id),
                rule TEXT NOT NULL,
                scope TEXT NOT NULL,
                severity TEXT NOT NULL,
                at REAL NOT NULL,
                from_state TEXT,
                to_state TEXT NOT NULL,
                summary TEXT NOT NULL,
                measurement TEXT,
                silenced INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX alert_transitions_alert ON alert_transitions(alert_id, at);
            CREATE INDEX alert_transitions_at ON alert_transitions(at);

            CREATE TABLE alert_rule_patches (
                rule TEXT PRIMARY KEY NOT NULL,
                patch TEXT NOT NULL,
                updated_at REAL NOT NULL
            ) WITHOUT ROWID;

            CREATE TABLE silences (
                id TEXT PRIMARY KEY NOT NULL,
                matchers TEXT NOT NULL,
                comment TEXT,
                created_at REAL NOT NULL,
                ends_at REAL NOT NULL
            );
            CREATE INDEX silences_ends ON silences(ends_at);

            -- A deleted endpoint keeps its row (deleted_at) so that its deliveries keep their
            -- history; its name can be used again.
            CREATE TABLE webhook_endpoints (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                url TEXT NOT NULL,
                format TEXT NOT NULL,
                secret TEXT NOT NULL,
                rules TEXT,
                min_severity TEXT,
                enabled INTEGER NOT NULL DEFAULT 1,
                disabled_reason TEXT,
                created_at REAL NOT NULL,
                deleted_at REAL
            );
            CREATE UNIQUE INDEX webhook_endpoints_live_name ON webhook_endpoints(name) WHERE deleted_at IS NULL;

            -- The outbox: written in the same transaction as the transition it announces.
            CREATE TABLE webhook_deliveries (
                id TEXT PRIMARY KEY NOT NULL,
                endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
                event TEXT NOT NULL,
                alert_id TEXT REFERENCES alerts(id),
                transition_id TEXT REFERENCES alert_transitions(id),
                body BLOB NOT NULL,
                content_type TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at REAL NOT NULL,
                next_attempt_at REAL,
                delivered_at REAL,
                attempt_count INTEGER NOT NULL DEFAULT 0,
                last_status_code INTEGER,
                last_error TEXT,
                -- a manual retry (earshot webhooks retry) restarts the dead-letter horizon here
                retried_at REAL
            );
            CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
            CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, status);
            CREATE INDEX webhook_deliveries_alert ON webhook_deliveries(alert_id);
            CREATE INDEX webhook_deliveries_transition ON webhook_deliveries(transition_id);
            CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at);

            CREATE TABLE delivery_attempts (
                id INTEGER PRIMARY KEY,
                delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
                number INTEGER NOT NULL,
                at REAL NOT NULL,
                status_code INTEGER,
                error TEXT,
                duration_ms REAL NOT NULL,
                retry_after_s REAL
            );
            CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, id);
            """)
    }

    /// Issue 6: a conference run's judged summary (legs, hearing matrix, DTMF through the
    /// bridge) as `ConferenceSummary` JSON, and its plan (`conference_plan`: the
    /// `ConferenceAssignment` every participant got, written when the run is created, so that a
    /// restarted organizer judges the run with it); NULL for every other run. Its legs' stream
    /// metrics are rows of `stream_metrics` like any run's directions.
    private static func v3(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE runs ADD COLUMN conference TEXT")
        try db.execute(sql: "ALTER TABLE runs ADD COLUMN conference_plan TEXT")
    }
}
