-- When a platform job left the farm's own queue for its Kafka topic (admission); null while it waits
-- for a slot under the platform and namespace limits. Jobs queued before admission existed were sent at once.
alter table platform_build add column admit_time timestamptz;
update platform_build set admit_time = create_time;

-- The admission pass reads the waiting jobs oldest first, and counts the admitted ones not yet ended.
create index platform_build_waiting on platform_build (create_time, id) where admit_time is null and state = 'QUEUED';
create index platform_build_in_flight on platform_build (platform) where admit_time is not null and state in ('QUEUED', 'RUNNING');
