-- Namespaces own image repositories, and through them builds and build rules: the namespace of
-- host/namespace/name[/...] is its first path component, as in a registry's layout.
-- Rows from before namespaces take theirs from their repository; one without a second path
-- component (host/name) is put in the namespace 'default'.
alter table build add column namespace varchar(255);
update build set namespace = case
    when split_part(repository, '/', 3) <> '' then split_part(repository, '/', 2)
    else 'default' end;
alter table build alter column namespace set not null;

-- A request_id is an idempotency key of one namespace: two teams may use the same one.
alter table build drop constraint build_request_id_key;
create unique index build_request_id_per_namespace on build (namespace, request_id);
create index build_namespace_newest_first on build (namespace, create_time desc, id desc);

alter table source_repository add column namespace varchar(255);
update source_repository set namespace = case
    when split_part(image, '/', 3) <> '' then split_part(image, '/', 2)
    else 'default' end;
alter table source_repository alter column namespace set not null;
create index source_repository_by_namespace on source_repository (namespace);
