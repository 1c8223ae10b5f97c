import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { type EncryptionKeys, encryptionKeys } from "~/env.server";

// Email tools' API keys at rest: AES-256-GCM under TENURE_ENCRYPTION_KEY, written as
//   v1:<key id>:<iv>:<tag>:<ciphertext>   (base64url parts; key id = first 8 hex of sha256(key))
// The key id says which key sealed a secret, so a rotated key (moved to
// TENURE_ENCRYPTION_KEYS_RETIRED) still opens old secrets, and those are re-sealed under the
// current key on their next write (README.md in this folder: "Key rotation").
// The context (the destination's shop and kind) is authenticated with the secret: a sealed
// key copied onto another shop's row does not open there.

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A secret that cannot be sealed or opened, with the reason in words an operator can act on. */
export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretError";
  }
}

export const keyIdOf = (key: Buffer): string => createHash("sha256").update(key).digest("hex").slice(0, 8);

function currentKey(keys: EncryptionKeys): Buffer {
  if (!keys.current) {
    throw new SecretError(
      "TENURE_ENCRYPTION_KEY is not set: destination API keys cannot be stored or read. Set it to 32 random bytes (openssl rand -base64 32) and restart.",
    );
  }
  return keys.current;
}

/** Seals `plaintext` under the current key, bound to `context`. */
export function sealSecret(plaintext: string, context: string, keys: EncryptionKeys = encryptionKeys()): string {
  const key = currentKey(keys);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, keyIdOf(key), iv.toString("base64url"), tag.toString("base64url"), ciphertext.toString("base64url")].join(":");
}

export interface OpenedSecret {
  plaintext: string;
  /** Sealed under a retired key: seal it again under the current one. */
  needsReseal: boolean;
}

/** Opens a sealed secret with whichever configured key sealed it; SecretError when it cannot be opened. */
export function openSecret(sealed: string, context: string, keys: EncryptionKeys = encryptionKeys()): OpenedSecret {
  const parts = sealed.split(":");
  if (parts.length !== 5 || parts[0] !== VERSION) {
    throw new SecretError(`the stored secret is not in the ${VERSION}:<key id>:<iv>:<tag>:<ciphertext> format`);
  }
  const [, keyId, ivText, tagText, ciphertextText] = parts as [string, string, string, string, string];
  const current = currentKey(keys);
  const candidates = [current, ...keys.retired];
  const key = candidates.find((k) => keyIdOf(k) === keyId);
  if (!key) {
    throw new SecretError(
      `the stored secret was sealed with key ${keyId}, which is neither TENURE_ENCRYPTION_KEY (${keyIdOf(current)}) nor in TENURE_ENCRYPTION_KEYS_RETIRED: add the old key there, or reconnect the destination`,
    );
  }
  const iv = Buffer.from(ivText, "base64url");
  const tag = Buffer.from(tagText, "base64url");
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretError("the stored secret is damaged (its iv or tag has the wrong length)");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertextText, "base64url")), decipher.final()]).toString("utf8");
    return { plaintext, needsReseal: key !== current };
  } catch {
    throw new SecretError("the stored secret failed its integrity check: it was altered, or belongs to another destination");
  }
}

/** The context a destination's key is sealed with. */
export const destinationSecretContext = (shop: string, kind: string): string => `destination:${shop}:${kind}`;

/** The key id a sealed secret names (null when malformed): to find the secrets a rotation left behind. */
export function sealedKeyId(sealed: string): string | null {
  const parts = sealed.split(":");
  return parts.length === 5 && parts[0] === VERSION ? parts[1]! : null;
}
