-- Namespaces that API tokens act in (builds and repositories name theirs by their repository).
create table tenant_namespace (
    id          varchar(255) primary key,
    create_time timestamptz  not null
);

-- API tokens, bf_<id>_<secret>: only the SHA-256 of the secret is kept.
create table api_token (
    id            varchar(16)  primary key,
    -- TENANT (one namespace, one role), OPERATOR (every namespace) or AGENT (AgentService only).
    kind          varchar(16)  not null,
    namespace     varchar(255) references tenant_namespace (id),
    role          varchar(16),
    secret_sha256 varchar(64)  not null,
    description   varchar(255) not null default '',
    create_time   timestamptz  not null,
    revoke_time   timestamptz,
    check ((kind = 'TENANT') = (namespace is not null and role is not null))
);
create index api_token_by_namespace on api_token (namespace);
