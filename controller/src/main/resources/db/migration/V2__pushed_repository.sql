-- Agents push each platform's image to a staging repository; the assembler copies it by digest.
alter table platform_build add column pushed_repository varchar(255);
