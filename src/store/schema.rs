//! The schema on each backend, as the migrations that build it. Both
//! backends number schema versions alike; migrations are never edited once
//! released, a change is a new one on both.

/// Every SQLite migration, in order: migration `i` brings a database from
/// version `i` to `i + 1`.
pub const SQLITE: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per published version of a workflow; only the newest version of
-- a name takes new leads, older ones finish the enrollments they hold.
CREATE TABLE workflows (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    source     TEXT NOT NULL,
    program    TEXT NOT NULL,
    published  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (name, version)
);

CREATE TABLE leads (
    id            TEXT PRIMARY KEY,
    fields        TEXT NOT NULL,
    last_activity INTEGER,
    updated_at    INTEGER NOT NULL
);

-- wake is set while the enrollment waits or is held, NULL while it is in
-- flight, ended, or paused (then remaining holds the time it had left).
CREATE TABLE enrollments (
    id          INTEGER PRIMARY KEY,
    workflow    INTEGER NOT NULL REFERENCES workflows (id),
    lead        TEXT NOT NULL REFERENCES leads (id),
    number      INTEGER NOT NULL,
    pc          INTEGER NOT NULL,
    status      TEXT NOT NULL,
    wake        INTEGER,
    hold_reason TEXT,
    remaining   INTEGER,
    attempts    INTEGER NOT NULL,
    effects     INTEGER NOT NULL,
    entered     INTEGER NOT NULL,
    event       TEXT
);
CREATE INDEX enrollments_due ON enrollments (wake) WHERE wake IS NOT NULL;
CREATE INDEX enrollments_lead ON enrollments (lead, workflow);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    enrollment INTEGER NOT NULL REFERENCES enrollments (id),
    at         INTEGER NOT NULL,
    pc         INTEGER NOT NULL,
    step       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX events_enrollment ON events (enrollment);

-- An effect is recorded here in the transaction that reaches its step,
-- carried out after commit, and confirmed with its response.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    enrollment INTEGER NOT NULL REFERENCES enrollments (id),
    key        TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    status     TEXT NOT NULL,
    response   TEXT,
    created    INTEGER NOT NULL,
    done       INTEGER,
    UNIQUE (key, attempt)
);
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';

-- What the recording channel saw: the stand-in for real providers.
CREATE TABLE deliveries (
    id      INTEGER PRIMARY KEY,
    key     TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    message TEXT NOT NULL,
    at      INTEGER NOT NULL
);
"#,
    r#"
-- Whether a workflow's trigger criteria held for a lead when last tested
-- (a lead re-enters only when they go from false to true), and when a
-- time-relative test of its trigger or goals next flips (NULL: never).
CREATE TABLE triggers (
    workflow TEXT NOT NULL,
    lead     TEXT NOT NULL REFERENCES leads (id),
    matching INTEGER NOT NULL,
    flip     INTEGER,
    PRIMARY KEY (workflow, lead)
) WITHOUT ROWID;
CREATE INDEX triggers_flip ON triggers (flip) WHERE flip IS NOT NULL;
"#,
    r#"
-- The refusal last recorded for a lead in a workflow since it last entered
-- (vm::Refusal::number; 0: none): a lead turned away again for the same
-- reason is recorded once.
ALTER TABLE triggers ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
-- Entry decisions that turned a lead away: `flowc timeline LEAD` says why
-- a lead did not enter.
CREATE TABLE refusals (
    id       INTEGER PRIMARY KEY,
    workflow INTEGER NOT NULL REFERENCES workflows (id),
    lead     TEXT NOT NULL REFERENCES leads (id),
    at       INTEGER NOT NULL,
    code     TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX refusals_lead ON refusals (lead, at);
-- How an enrollment ended, by structured reason (vm::Ending::key):
-- `completed`, `goal:INDEX`, `exit:PC`, `no-branch:PC`, `failed:PC`.
ALTER TABLE enrollments ADD COLUMN ending TEXT;
"#,
    r#"
-- Claims: a runner takes a pending effect by writing its id into `owner`
-- and a real-time expiry into `lease` in the transaction that reads it;
-- its heartbeat renews the lease while it delivers, and another runner
-- takes over a row whose lease lapsed (its runner died).
ALTER TABLE outbox ADD COLUMN owner TEXT;
ALTER TABLE outbox ADD COLUMN lease INTEGER;
"#,
    r#"
-- A call is placed once: when the provider accepts it, the row becomes
-- `placed` with the provider's id for it (`call`), when it was placed and
-- when its status is next looked at (real milliseconds), until it ends.
ALTER TABLE outbox ADD COLUMN call TEXT;
ALTER TABLE outbox ADD COLUMN placed INTEGER;
ALTER TABLE outbox ADD COLUMN poll INTEGER;
CREATE INDEX outbox_placed ON outbox (poll) WHERE status = 'placed';
-- Runners claim pending effects kind by kind, as they have room for each.
CREATE INDEX outbox_pending_kind ON outbox (kind, id) WHERE status = 'pending';
"#,
    r#"
-- How many times a row was claimed: more than once means a runner died
-- holding it and another took it over, so the effect may have gone out
-- twice (under its key). `flowc stats` counts them.
ALTER TABLE outbox ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- Claiming walks only what nobody holds: pending effects without a lease,
-- by kind, and held rows by lease (lapsed claims to take over, and a
-- runner's own to renew).
DROP INDEX outbox_pending_kind;
CREATE INDEX outbox_free ON outbox (kind, id) WHERE status = 'pending' AND lease IS NULL;
CREATE INDEX outbox_leased ON outbox (lease) WHERE lease IS NOT NULL;
"#,
    r#"
-- API tokens of `flowc serve`: only a token's SHA-256 is kept (the token
-- is shown once, when created). A revoked token stays, for the record; a
-- name is taken by one token in force at a time.
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE UNIQUE INDEX tokens_name ON tokens (name) WHERE revoked_at IS NULL;
"#,
    r#"
-- Consent: every change to whether an address may be reached on a channel
-- (`email`, `text`, `call`), newest last, with where it came from (a STOP
-- text, an unsubscribe link, a bounce, an operator). An address's state is
-- its newest row's; none means it may be reached.
CREATE TABLE consent (
    id      INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    state   TEXT NOT NULL,
    source  TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX consent_address ON consent (channel, address, id);
-- Webhooks taken, by the provider's id for them: one sent again changes
-- nothing twice.
CREATE TABLE webhooks (
    provider TEXT NOT NULL,
    id       TEXT NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (provider, id)
);
"#,
    r#"
-- The instruction of the step each effect belongs to: a provider's
-- delivery receipt lands on the timeline at that step.
ALTER TABLE outbox ADD COLUMN pc INTEGER;
"#,
    r#"
-- A lead's email address and phone number as consent keys them
-- (consent::normalize), kept by every upsert: a reply or an opt-out heard
-- from an address finds its leads through these indexes. Rows written
-- before are filled here; the phone number loses the usual separators.
ALTER TABLE leads ADD COLUMN email TEXT;
ALTER TABLE leads ADD COLUMN phone TEXT;
UPDATE leads SET email = lower(trim(json_extract(fields, '$.email')))
    WHERE json_type(fields, '$.email') = 'text';
UPDATE leads SET phone = replace(replace(replace(replace(replace(
        trim(json_extract(fields, '$.phone_number')), ' ', ''), '-', ''), '(', ''), ')', ''), '.', '')
    WHERE json_type(fields, '$.phone_number') = 'text';
CREATE INDEX leads_email ON leads (email) WHERE email IS NOT NULL;
CREATE INDEX leads_phone ON leads (phone) WHERE phone IS NOT NULL;
"#,
    r#"
-- How a placed call ended, as the provider's status callback reported it
-- (ast::Outcome::keyword): the next look takes it instead of asking.
ALTER TABLE outbox ADD COLUMN reported TEXT;
"#,
    r#"
-- How many times an enrollment went back at each bounded goto
-- (Enrollment::loops_key): `PC:COUNT` pairs.
ALTER TABLE enrollments ADD COLUMN loops TEXT;
-- The events `wait for` steps heard, as a JSON object of their data by
-- event name: `event.FIELD` in an `on event` block reads them.
ALTER TABLE enrollments ADD COLUMN heard TEXT;
"#,
    r#"
-- The contact policy's touches: each email, text or call handed to a
-- provider, by the key of its effect, so that caps count across every
-- workflow (runtime::policy). The policy itself is the meta row `policy`.
CREATE TABLE touches (
    key     TEXT PRIMARY KEY,
    lead    TEXT NOT NULL,
    channel TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX touches_by_lead ON touches (lead, channel, at);
"#,
    r#"
-- The console: who published each version (the operator's name, or the
-- system user for `flowc publish`); who paused an enrollment by hand (it
-- stays paused when its workflow is published again, until resumed); and
-- indexes for the leads table's filters and sort.
ALTER TABLE workflows ADD COLUMN published_by TEXT;
ALTER TABLE enrollments ADD COLUMN paused_by TEXT;
CREATE INDEX enrollments_status ON enrollments (status, lead);
CREATE INDEX leads_updated ON leads (updated_at, id);
CREATE INDEX events_at ON events (at);
CREATE INDEX enrollments_place ON enrollments (workflow, pc);
"#,
    r#"
-- Lead records imported with a future `at`: applied by a runner at that
-- instant (runtime::live::scheduled), not at import.
CREATE TABLE scheduled_updates (
    id     INTEGER PRIMARY KEY,
    lead   TEXT NOT NULL,
    at     INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX scheduled_updates_due ON scheduled_updates (at);
-- A lead's `simulate` script from its record: the recording provider
-- answers as the simulation would.
ALTER TABLE leads ADD COLUMN script TEXT;
"#,
    ENROLLMENTS_BY_STATUS,
    FEWER_INDEX_WRITES,
    EVENT_KINDS_COMPARED,
];

/// Every PostgreSQL migration, in order, with the version it starts from:
/// each brings a database from that version to the next one's (the last to
/// [`super::SCHEMA_VERSION`]). PostgreSQL support began at version 7, so
/// its first migration builds that schema whole. Integers are 64-bit, as
/// SQLite's; truth values are stored as 0 or 1 on both.
pub const POSTGRES: &[(i64, &str)] = &[
    (
        0,
        r#"
CREATE TABLE flowc_schema (version BIGINT NOT NULL);
INSERT INTO flowc_schema (version) VALUES (0);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE workflows (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    hash       TEXT NOT NULL,
    source     TEXT NOT NULL,
    program    TEXT NOT NULL,
    published  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (name, version)
);

CREATE TABLE leads (
    id            TEXT PRIMARY KEY,
    fields        TEXT NOT NULL,
    last_activity BIGINT,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE enrollments (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    workflow    BIGINT NOT NULL REFERENCES workflows (id),
    lead        TEXT NOT NULL REFERENCES leads (id),
    number      BIGINT NOT NULL,
    pc          BIGINT NOT NULL,
    status      TEXT NOT NULL,
    wake        BIGINT,
    hold_reason TEXT,
    remaining   BIGINT,
    attempts    BIGINT NOT NULL,
    effects     BIGINT NOT NULL,
    entered     BIGINT NOT NULL,
    event       TEXT,
    ending      TEXT
);
CREATE INDEX enrollments_due ON enrollments (wake) WHERE wake IS NOT NULL;
CREATE INDEX enrollments_lead ON enrollments (lead, workflow);

CREATE TABLE events (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    enrollment BIGINT NOT NULL REFERENCES enrollments (id),
    at         BIGINT NOT NULL,
    pc         BIGINT NOT NULL,
    step       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX events_enrollment ON events (enrollment);

CREATE TABLE outbox (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    enrollment BIGINT NOT NULL REFERENCES enrollments (id),
    key        TEXT NOT NULL,
    attempt    BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    status     TEXT NOT NULL,
    response   TEXT,
    created    BIGINT NOT NULL,
    done       BIGINT,
    owner      TEXT,
    lease      BIGINT,
    call       TEXT,
    placed     BIGINT,
    poll       BIGINT,
    claims     BIGINT NOT NULL DEFAULT 0,
    UNIQUE (key, attempt)
);
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
CREATE INDEX outbox_placed ON outbox (poll) WHERE status = 'placed';
CREATE INDEX outbox_free ON outbox (kind, id) WHERE status = 'pending' AND lease IS NULL;
CREATE INDEX outbox_leased ON outbox (lease) WHERE lease IS NOT NULL;

CREATE TABLE deliveries (
    id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    key     TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    kind    TEXT NOT NULL,
    message TEXT NOT NULL,
    at      BIGINT NOT NULL
);

CREATE TABLE triggers (
    workflow TEXT NOT NULL,
    lead     TEXT NOT NULL REFERENCES leads (id),
    matching BIGINT NOT NULL,
    flip     BIGINT,
    refused  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workflow, lead)
);
CREATE INDEX triggers_flip ON triggers (flip) WHERE flip IS NOT NULL;

CREATE TABLE refusals (
    id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    workflow BIGINT NOT NULL REFERENCES workflows (id),
    lead     TEXT NOT NULL REFERENCES leads (id),
    at       BIGINT NOT NULL,
    code     TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX refusals_lead ON refusals (lead, at);
"#,
    ),
    (
        7,
        r#"
CREATE TABLE tokens (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX tokens_name ON tokens (name) WHERE revoked_at IS NULL;
"#,
    ),
    (
        8,
        r#"
CREATE TABLE consent (
    id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    state   TEXT NOT NULL,
    source  TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX consent_address ON consent (channel, address, id);
CREATE TABLE webhooks (
    provider TEXT NOT NULL,
    id       TEXT NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (provider, id)
);
"#,
    ),
    (9, "ALTER TABLE outbox ADD COLUMN pc BIGINT;"),
    (
        10,
        r#"
ALTER TABLE leads ADD COLUMN email TEXT;
ALTER TABLE leads ADD COLUMN phone TEXT;
UPDATE leads SET email = lower(trim(fields::jsonb ->> 'email'))
    WHERE jsonb_typeof(fields::jsonb -> 'email') = 'string';
UPDATE leads SET phone = replace(replace(replace(replace(replace(
        trim(fields::jsonb ->> 'phone_number'), ' ', ''), '-', ''), '(', ''), ')', ''), '.', '')
    WHERE jsonb_typeof(fields::jsonb -> 'phone_number') = 'string';
CREATE INDEX leads_email ON leads (email) WHERE email IS NOT NULL;
CREATE INDEX leads_phone ON leads (phone) WHERE phone IS NOT NULL;
"#,
    ),
    (11, "ALTER TABLE outbox ADD COLUMN reported TEXT;"),
    (
        12,
        "ALTER TABLE enrollments ADD COLUMN loops TEXT;
ALTER TABLE enrollments ADD COLUMN heard TEXT;",
    ),
    (
        13,
        "CREATE TABLE touches (
    key     TEXT PRIMARY KEY,
    lead    TEXT NOT NULL,
    channel TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX touches_by_lead ON touches (lead, channel, at);",
    ),
    (
        14,
        "ALTER TABLE workflows ADD COLUMN published_by TEXT;
ALTER TABLE enrollments ADD COLUMN paused_by TEXT;
CREATE INDEX enrollments_status ON enrollments (status, lead);
CREATE INDEX leads_updated ON leads (updated_at, id);
CREATE INDEX events_at ON events (at);
CREATE INDEX enrollments_place ON enrollments (workflow, pc);",
    ),
    (
        15,
        "CREATE TABLE scheduled_updates (
    id     BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    lead   TEXT NOT NULL,
    at     BIGINT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX scheduled_updates_due ON scheduled_updates (at);
ALTER TABLE leads ADD COLUMN script TEXT;",
    ),
    (16, ENROLLMENTS_BY_STATUS),
    (17, FEWER_INDEX_WRITES),
    (18, EVENT_KINDS_COMPARED),
];

/// Enrollments by status in the order they were made, not by lead: most
/// steps change an enrollment's status, and keyed by lead (ids from a CRM
/// are in no order) each change moved its entry to a page of its own; in
/// enrollment order a round's changes fall on a few pages. The console's
/// status filter still finds its enrollments through it. The same text for
/// both databases.
const ENROLLMENTS_BY_STATUS: &str = "
DROP INDEX enrollments_status;
CREATE INDEX enrollments_status ON enrollments (status);
";

/// Indexes that every step of every enrollment wrote for nothing. An
/// enrollment goes from `active` (running, or waiting for an effect) to
/// `waiting` and back at most steps, and every change moved its entry in
/// the status index; those two statuses now have no entries (the
/// console's filters for them walk the leads, which most pass), and
/// entering any other status adds one entry. `outbox_pending` is read by
/// no query: claims walk `outbox_free` and `outbox_leased`. And the
/// recording provider, which reads the `simulate` scripts of its round's
/// leads, learns from `leads_scripted` at once that no lead has one (most
/// databases). The console's activity chart counts only the timeline events
/// that are sends, failures and holds by time: `events_at` keeps those,
/// not the entries, branches, waits and endings (more than half of all
/// events). The same text for both databases.
const FEWER_INDEX_WRITES: &str = "
DROP INDEX outbox_pending;
DROP INDEX enrollments_status;
CREATE INDEX enrollments_status ON enrollments (status) WHERE status NOT IN ('active', 'waiting');
CREATE INDEX leads_scripted ON leads (id) WHERE script IS NOT NULL;
DROP INDEX events_at;
CREATE INDEX events_at ON events (at) WHERE kind IN ('sent', 'failed', 'undelivered', 'held');
";

/// The condition of `events_at` as comparisons, not `kind IN (...)`:
/// SQLite tests a list of more than two values by building a table of
/// them each time a statement runs, so every event written one a
/// statement (by an operator's action, or any program writing rows one by
/// one) built and dropped that table: a quarter of the time of writing the
/// bench's rows one by one. The same text for both databases; the
/// console's activity query names the same condition.
const EVENT_KINDS_COMPARED: &str = "
DROP INDEX events_at;
CREATE INDEX events_at ON events (at)
    WHERE kind = 'sent' OR kind = 'failed' OR kind = 'undelivered' OR kind = 'held';
";
