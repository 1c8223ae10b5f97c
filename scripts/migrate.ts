// Applies prisma/migrations to DATABASE_URL (`npm run migrate`).
import { applyMigrations } from "../app/db/migrations.server";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("tenure migrate: DATABASE_URL is missing");
  process.exit(1);
}
const report = await applyMigrations(url, { log: (line) => console.log(`tenure migrate: ${line}`) });
console.log(
  `tenure migrate: ${report.applied.length} applied, ${report.alreadyApplied.length} already applied`,
);
