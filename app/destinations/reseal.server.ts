import type pg from "pg";
import { allSealedCredentials, updateSealedCredentials } from "~/data/destinations.server";
import { encryptionKeys } from "~/env.server";
import { destinationSecretContext, keyIdOf, openSecret, sealSecret, sealedKeyId } from "./secrets.server";

// Key rotation's second half (README.md, "Key rotation"): every destination key still sealed
// under a retired key is sealed again under TENURE_ENCRYPTION_KEY. The worker runs this at
// start; a pass also re-seals the key it opens. Once it reports nothing left, the retired key
// can be removed from TENURE_ENCRYPTION_KEYS_RETIRED.

export interface ResealReport {
  resealed: number;
  /** Keys that no configured key opens (their destinations pause at their next pass). */
  unreadable: { destinationId: string; reason: string }[];
}

export async function resealDestinationKeys(pool: pg.Pool): Promise<ResealReport> {
  const keys = encryptionKeys();
  const report: ResealReport = { resealed: 0, unreadable: [] };
  if (!keys.current) return report;
  const currentId = keyIdOf(keys.current);
  for (const row of await allSealedCredentials(pool)) {
    if (sealedKeyId(row.sealedCredentials) === currentId) continue;
    const context = destinationSecretContext(row.shop, row.kind);
    try {
      const { plaintext } = openSecret(row.sealedCredentials, context, keys);
      // Only if unchanged meanwhile (a reconnect wrote a new key): that one is current already.
      if (await updateSealedCredentials(pool, row.id, sealSecret(plaintext, context, keys), row.sealedCredentials)) report.resealed += 1;
    } catch (error) {
      report.unreadable.push({ destinationId: row.id, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
}
