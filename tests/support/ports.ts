// Ports for tests: the one freePort lives in scripts/local-services.ts (scripts stay
// independent of tests/); tests take it from here.
import { freePort } from "../../scripts/local-services";

export { freePort };

/** A port nothing listens on (bound, then released): where a service that is down would be. */
export const closedPort: () => Promise<number> = freePort;
