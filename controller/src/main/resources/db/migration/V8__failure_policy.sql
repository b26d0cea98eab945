-- Platforms left out of an index published under the publish_partial policy, comma-separated.
alter table build add column missing_platforms text;

-- Attempts a platform build had before its last RetryBuild: lost-agent retries count from there.
alter table platform_build add column attempts_before_retry integer not null default 0;
