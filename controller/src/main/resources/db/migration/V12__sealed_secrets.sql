-- The values of a build's secret build arguments, AES-GCM encrypted (the stored spec masks them).
ALTER TABLE build ADD COLUMN sealed_secrets bytea;
