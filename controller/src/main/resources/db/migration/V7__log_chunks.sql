-- Build output is stored as chunks: one row per batch an agent sends, holding that batch's lines in
-- order as parallel arrays. One insert per batch instead of one row per line is what lets a build
-- log tens of thousands of lines per second; readers find the chunk holding an offset by the key.
create table log_chunk (
    platform_build_id uuid          not null references platform_build (id),
    first_offset      bigint        not null,
    attempt           integer       not null,
    stages            text[]        not null,
    texts             text[]        not null,
    read_micros       bigint[]      not null, -- when the agent read each line, microseconds since the epoch
    primary key (platform_build_id, first_offset)
);

-- Lines stored before this version become chunks of one line each.
insert into log_chunk (platform_build_id, first_offset, attempt, stages, texts, read_micros)
select platform_build_id, line_offset, attempt, array[stage], array[text],
       array[(extract(epoch from coalesce(read_time, now())) * 1000000)::bigint]
from log_line
where line_offset is not null;

drop table log_line;
