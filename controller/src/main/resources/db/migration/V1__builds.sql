-- A build: one request, one commit, one multi-arch index under up to three tags.
create table build (
    id              uuid primary key,
    request_id      varchar(128) unique,
    state           varchar(16)  not null,
    -- The validated, normalised BuildSpec as protobuf JSON: what was asked, exactly.
    spec            jsonb        not null,
    repository      varchar(255) not null,
    commit_sha      varchar(40)  not null,
    index_digest    varchar(80),
    failure_reason  text,
    create_time     timestamptz  not null,
    update_time     timestamptz  not null,
    end_time        timestamptz
);
create index build_newest_first on build (create_time desc, id desc);

-- One per target platform of a build; the unit agents claim.
create table platform_build (
    id                uuid primary key,
    build_id          uuid         not null references build (id),
    platform          varchar(32)  not null,
    state             varchar(16)  not null,
    attempt           integer      not null default 0,
    agent             varchar(255),
    emulated          boolean      not null default false,
    digest            varchar(80),
    failure_reason    text,
    lease_expire_time timestamptz,
    create_time       timestamptz  not null,
    start_time        timestamptz,
    end_time          timestamptz,
    unique (build_id, platform)
);

-- Transactional outbox: written with the build, sent to Kafka by the relay, then deleted,
-- so a crash between the commit and the send loses no job.
create table outbox (
    id          bigserial primary key,
    topic       varchar(249) not null,
    record_key  varchar(255) not null,
    payload     bytea        not null,
    create_time timestamptz  not null
);

-- Build output, one row per line; the key makes a resent line a no-op.
create table log_line (
    platform_build_id uuid    not null references platform_build (id),
    attempt           integer not null,
    sequence          bigint  not null,
    text              text    not null,
    primary key (platform_build_id, attempt, sequence)
);
