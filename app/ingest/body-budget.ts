// The bytes of webhook bodies the process holds at once, across all requests (issue 12,
// finding 4). The intake reads a body into memory before it can check the HMAC, so without
// a cap unauthenticated clients could make the process hold WEBHOOK_MAX_BODY_BYTES each.
//
// A request reserves its declared Content-Length before reading (or grows its reservation
// chunk by chunk: chunked bodies, and bodies longer than they declared) and releases it
// when it is answered. A reservation that does not fit is refused: the intake answers 503
// with Retry-After without buffering more.
//
// Large bodies may fill the budget only up to LARGE_BODY_SHARE of it: the rest is kept for
// small ones, so real deliveries (a few KB) still get through while slow, large forged
// bodies hold their share until the body deadline cuts them off.

/** A body up to this size may use the whole budget; bytes of a larger one only LARGE_BODY_SHARE of it. */
export const SMALL_BODY_BYTES = 256 * 1024;
/** The part of the budget large bodies may hold together; the rest is for small ones. */
export const LARGE_BODY_SHARE = 0.75;

export class BodyBudget {
  #inFlight = 0;

  constructor(readonly capacityBytes: number) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes <= 0) {
      throw new RangeError(`a body budget must be a positive number of bytes, not ${capacityBytes}`);
    }
  }

  /** Bytes reserved now, by every open reservation. */
  get bytesInFlight(): number {
    return this.#inFlight;
  }

  /** A reservation of nothing yet, for one request; release it on every path. */
  open(): BodyReservation {
    return new BodyReservation(this);
  }

  /** @internal BodyReservation's accounting. */
  take(bytes: number, requestTotal: number): boolean {
    const limit = requestTotal <= SMALL_BODY_BYTES ? this.capacityBytes : Math.floor(this.capacityBytes * LARGE_BODY_SHARE);
    if (this.#inFlight + bytes > limit) return false;
    this.#inFlight += bytes;
    return true;
  }

  /** @internal */
  give(bytes: number): void {
    this.#inFlight -= bytes;
  }
}

export class BodyReservation {
  #held = 0;
  #released = false;

  constructor(private readonly budget: BodyBudget) {}

  /** Bytes this request holds. */
  get bytes(): number {
    return this.#held;
  }

  /**
   * Grows the reservation to `totalBytes` (never shrinks it). false when the budget has no
   * room: the request must be refused, and what it held so far stays held until release().
   */
  reserveUpTo(totalBytes: number): boolean {
    if (this.#released) throw new Error("the reservation was released");
    if (totalBytes <= this.#held) return true;
    if (!this.budget.take(totalBytes - this.#held, totalBytes)) return false;
    this.#held = totalBytes;
    return true;
  }

  /** Gives every byte back. Safe to call more than once. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.budget.give(this.#held);
    this.#held = 0;
  }
}
