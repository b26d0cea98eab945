-- Build hosts as they report themselves: platforms (JSON list of AgentPlatform), state, liveness.
create table agent (
    name            varchar(255) primary key,
    state           varchar(16) not null,
    platforms       jsonb       not null,
    first_seen_time timestamptz not null,
    last_seen_time  timestamptz not null
);
