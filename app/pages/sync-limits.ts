// Limits of the sync status page's reads, shared by the loader and the page (no server code).

/** Counts stop here ("1,000+"): enough to say how bad it is without counting everything. */
export const COUNT_CAP = 1_000;
/** Failed deliveries listed, newest first. */
export const FAILED_SHOWN = 25;
