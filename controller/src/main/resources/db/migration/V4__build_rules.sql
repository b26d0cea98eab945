-- An image repository bound to a git source: repositories/{id}.
create table source_repository (
    id              varchar(63)   primary key,
    image           varchar(255)  not null,
    source_url      varchar(2048) not null,
    -- AES-GCM ciphertexts (see SecretBox); null when not set.
    webhook_secret  text,
    credentials     text,
    auto_build      boolean       not null,
    -- Bumped with every rule change, so controllers know when their in-memory rule index is stale.
    rules_version   bigint        not null default 0,
    -- Null until the poller has seen the source once (its first look only records the refs).
    last_poll_time  timestamptz,
    create_time     timestamptz   not null,
    update_time     timestamptz   not null
);

-- A build rule: repositories/{repository_id}/rules/{id}.
create table build_rule (
    repository_id   varchar(63)   not null references source_repository (id) on delete cascade,
    id              varchar(63)   not null,
    -- Part of every request_id the rule derives, so a re-created rule builds afresh.
    uid             uuid          not null unique,
    ref_type        varchar(8)    not null,
    ref_pattern     varchar(255)  not null,
    -- The normalised BuildRule as protobuf JSON.
    spec            jsonb         not null,
    create_time     timestamptz   not null,
    update_time     timestamptz   not null,
    primary key (repository_id, id)
);

-- The poller's memory: the last commit seen on each ref of a source.
create table source_ref (
    repository_id   varchar(63)   not null references source_repository (id) on delete cascade,
    ref             varchar(255)  not null,
    commit_sha      varchar(40)   not null,
    update_time     timestamptz   not null,
    primary key (repository_id, ref)
);
