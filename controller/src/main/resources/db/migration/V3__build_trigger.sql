-- What started each build: an API call, a manual rule run, a push or the poller.
alter table build add column trigger_kind       varchar(16) not null default 'API';
alter table build add column trigger_rule       varchar(255);
alter table build add column trigger_ref        varchar(255);
alter table build add column trigger_event_id   varchar(255);
alter table build add column trigger_event_time timestamptz;
create index build_by_rule on build (trigger_rule, create_time desc) where trigger_rule is not null;
create index build_by_repository on build (repository, create_time desc);
