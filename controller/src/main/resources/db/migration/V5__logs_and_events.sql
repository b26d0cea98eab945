-- Log lines get an offset per platform build that runs across attempts, the Dockerfile step they
-- belong to, and the time the agent read them.
alter table log_line add column line_offset bigint;
alter table log_line add column stage       varchar(255) not null default '';
alter table log_line add column read_time   timestamptz;
create unique index log_line_by_offset on log_line (platform_build_id, line_offset);

-- Next offset of each platform build, and the last sequence stored for its current attempt.
alter table platform_build add column log_lines    bigint not null default 0;
alter table platform_build add column log_sequence bigint not null default 0;

-- The per-build log cap.
alter table build add column log_bytes     bigint  not null default 0;
alter table build add column log_truncated boolean not null default false;

-- CloudEvents on Kafka carry a content-type header.
alter table outbox add column content_type varchar(100);
