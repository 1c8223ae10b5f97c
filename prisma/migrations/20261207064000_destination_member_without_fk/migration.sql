-- DestinationMember loses its foreign key to Destination (ADR 0022): its per-row check was
-- about a quarter of a full pass's member insert. The destination's deletion (disconnect,
-- uninstall, shop/redact: app/data/destinations.server.ts) deletes its members itself, and a
-- pass's commit holds the destination's row (KEY SHARE) while writing them.
DO $$
DECLARE fk record;
BEGIN
  FOR fk IN SELECT conname FROM pg_constraint
            WHERE conrelid = '"DestinationMember"'::regclass AND contype = 'f' AND confrelid = '"Destination"'::regclass
  LOOP
    EXECUTE format('ALTER TABLE "DestinationMember" DROP CONSTRAINT %I', fk.conname);
  END LOOP;
END $$;
