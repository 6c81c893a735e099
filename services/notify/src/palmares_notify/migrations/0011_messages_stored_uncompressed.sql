-- A message is written once and read once or twice (the sender; a resend). PostgreSQL compressed
-- each one (pglz) before moving it out of line, and decompressed it on each read: an award with its
-- entry sign is 13 kB, mostly base64 that pglz barely shrinks. Measured on 2,000 awards here: the
-- insert 0.21 → 0.11 ms of the server's CPU per row, the read 0.03 → 0.01 ms, for 50 % more disk.
-- Rows written before keep their compression; PostgreSQL reads both.
ALTER TABLE notifications ALTER COLUMN message SET STORAGE EXTERNAL;
