-- Credentials a namespace's builds push to (and pull from) a registry with. The password is sealed
-- (AES-GCM under buildfarm.secrets.key); no column holds it in plaintext.
create table registry_credential (
    id                varchar(16)  primary key,
    namespace         varchar(255) not null references tenant_namespace (id),
    -- host[:port], lowercase.
    registry          varchar(255) not null,
    -- Path under the namespace the credential is limited to; '' for the whole namespace.
    repository_prefix varchar(255) not null default '',
    username          varchar(255) not null,
    sealed_password   text         not null,
    update_time       timestamptz  not null,
    unique (namespace, registry, repository_prefix)
);
