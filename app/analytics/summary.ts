// Per-customer purchase summaries (x, t_x, T, m) — the input of every count model.
//
// Conventions (Fader, Hardie & Lee 2005; docs/CLV-REFERENCE.md): purchases on the same
// day are one purchase with their amounts summed; x = purchase days - 1; the mean
// repeat value m excludes the first purchase day.
//
// Large shops have tens of millions of rows, so transactions live in a columnar table
// (typed arrays, customer ids interned to integers) and are grouped with two counting
// sorts instead of per-customer arrays of objects.
import { type TimeUnit, unitDays } from "./units";

export interface Transaction {
  customerId: string;
  day: number;
  amount: number;
}

export interface CustomerSummary {
  customerId: string;
  /** Distinct purchase days in the window (same-day purchases count as one). */
  orders: number;
  /** x = orders - 1 (repeat purchases). */
  frequency: number;
  /** t_x in `unit`: first to last purchase. */
  recency: number;
  /** In `unit`: first purchase to the as-of day. */
  T: number;
  /** Mean value of the repeat purchase days (first excluded); 0 when x = 0. */
  monetaryValue: number;
  /** Everything the customer spent in the window, refunds included. */
  totalSpent: number;
  firstDay: number;
  lastDay: number;
}

export interface SummaryOptions {
  /** Last day counted (inclusive); later transactions are ignored. */
  asOfDay: number;
  unit: TimeUnit;
}

const INITIAL_CAPACITY = 1024;

/**
 * Customer id -> dense integer index. An open-addressing hash table over typed arrays
 * that can look an id up straight from a range of a larger string (a file chunk), so a
 * 10M-row file allocates a string only for each new customer, not for every row.
 *
 * Rows arrive in date order, so lookups land anywhere in the table and each memory access
 * is a cache miss; a Map<string, number> more than doubles the reader's CPU (ADR 0004).
 * Here a slot is one 32-byte line holding the hash, the index and, for ids of up to 16
 * characters below U+0100 (numeric ids, "C0001234"), the characters themselves: such a
 * lookup touches one cache line. Longer ids are compared against a flat character arena.
 */
export class CustomerIndex {
  readonly ids: string[] = [];
  // Per slot: [hash, index + 1 (0 = empty), length, arena offset or -1 when inline, 4 x 4 packed chars].
  private slots = new Int32Array(32 * SLOT_FIELDS);
  private mask = 31;
  private arena = new Uint16Array(256);
  private arenaUsed = 0;
  private batchHashes = new Int32Array(0);
  private touched = 0;

  get size(): number {
    return this.ids.length;
  }

  /** Index of customerId, assigned on first sight. */
  intern(customerId: string): number {
    return this.internRange(customerId, 0, customerId.length);
  }

  /** Index of the id text.slice(start, end), assigned on first sight. */
  internRange(text: string, start: number, end: number): number {
    return this.internHashed(text, start, end, hashRange(text, start, end));
  }

  /**
   * internRange for ids texts[k].slice(starts[k], ends[k]), k < count, in that order (the
   * same indices), into out. Each id's slot is read once before any is looked up: those
   * loads do not depend on each other, so the CPU overlaps their cache misses, which one
   * lookup after another (each behind a line's parsing) it cannot. In a table of a million
   * ids nearly every lookup misses; this halved the reader's interning time (issue 16).
   */
  internRanges(texts: readonly string[], starts: Int32Array, ends: Int32Array, count: number, out: Int32Array): void {
    if (this.batchHashes.length < count) this.batchHashes = new Int32Array(count);
    const hashes = this.batchHashes;
    for (let k = 0; k < count; k++) hashes[k] = hashRange(texts[k], starts[k], ends[k]);
    const slots = this.slots;
    const mask = this.mask;
    let touched = 0;
    for (let k = 0; k < count; k++) touched |= slots[(hashes[k] & mask) * SLOT_FIELDS + 1];
    // Kept, so that the compiler cannot drop the loads as unused.
    this.touched = touched;
    for (let k = 0; k < count; k++) out[k] = this.internHashed(texts[k], starts[k], ends[k], hashes[k]);
  }

  private internHashed(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    const slots = this.slots;
    let slot = hash & this.mask;
    while (true) {
      const at = slot * SLOT_FIELDS;
      const entry = slots[at + 1];
      if (entry === 0) break;
      if (slots[at] === hash && slots[at + 2] === length) {
        const offset = slots[at + 3];
        if (offset < 0 ? this.sameInline(at, text, start, length) : this.sameInArena(offset, text, start, length)) return entry - 1;
      }
      slot = (slot + 1) & this.mask;
    }
    return this.insert(slot, hash, text, start, end);
  }

  /** Index of customerId, or undefined when it was never interned. */
  get(customerId: string): number | undefined {
    const hash = hashRange(customerId, 0, customerId.length);
    let slot = hash & this.mask;
    while (true) {
      const at = slot * SLOT_FIELDS;
      const entry = this.slots[at + 1];
      if (entry === 0) return undefined;
      if (this.slots[at] === hash && this.ids[entry - 1] === customerId) return entry - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  private sameInline(at: number, text: string, start: number, length: number): boolean {
    const slots = this.slots;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(start + i);
      if (code !== ((slots[at + 4 + (i >> 2)] >>> ((i & 3) << 3)) & 0xff)) return false;
    }
    return true;
  }

  private sameInArena(offset: number, text: string, start: number, length: number): boolean {
    const arena = this.arena;
    for (let i = 0; i < length; i++) if (arena[offset + i] !== text.charCodeAt(start + i)) return false;
    return true;
  }

  private insert(slot: number, hash: number, text: string, start: number, end: number): number {
    const index = this.ids.length;
    const length = end - start;
    const at = slot * SLOT_FIELDS;
    const slots = this.slots;
    slots[at] = hash;
    slots[at + 1] = index + 1;
    slots[at + 2] = length;
    let inline = length <= INLINE_CHARS;
    for (let i = start; inline && i < end; i++) if (text.charCodeAt(i) > 0xff) inline = false;
    if (inline) {
      slots[at + 3] = -1;
      for (let i = 0; i < length; i++) slots[at + 4 + (i >> 2)] |= text.charCodeAt(start + i) << ((i & 3) << 3);
    } else {
      if (this.arenaUsed + length > this.arena.length) {
        const arena = new Uint16Array(Math.max(this.arena.length * 2, this.arenaUsed + length));
        arena.set(this.arena);
        this.arena = arena;
      }
      const offset = this.arenaUsed;
      for (let i = 0; i < length; i++) this.arena[offset + i] = text.charCodeAt(start + i);
      this.arenaUsed += length;
      slots[at + 3] = offset;
    }
    // A copy, never a slice: a slice of a chunk would keep the whole chunk alive.
    this.ids.push(start === 0 && end === text.length ? text : copyString(text.slice(start, end)));
    if (this.ids.length * 2 > this.mask) this.rehash();
    return index;
  }

  private rehash(): void {
    const capacity = (this.mask + 1) * 2;
    const mask = capacity - 1;
    const slots = new Int32Array(capacity * SLOT_FIELDS);
    const old = this.slots;
    for (let at = 0; at < old.length; at += SLOT_FIELDS) {
      if (old[at + 1] === 0) continue;
      let slot = old[at] & mask;
      while (slots[slot * SLOT_FIELDS + 1] !== 0) slot = (slot + 1) & mask;
      // Field by field: a subarray per slot made rehashing a million ids allocation-bound.
      const to = slot * SLOT_FIELDS;
      for (let k = 0; k < SLOT_FIELDS; k++) slots[to + k] = old[at + k];
    }
    this.slots = slots;
    this.mask = mask;
  }
}

const SLOT_FIELDS = 8;
const INLINE_CHARS = 16;

/** FNV-1a over UTF-16 code units, finished with a murmur3 mix for the low bits. */
function hashRange(text: string, start: number, end: number): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash;
}

/** A copy of a string that does not keep a larger parent string alive. */
function copyString(text: string): string {
  // slice() of a long string makes a view into its parent (here a whole file chunk).
  // Slicing a concatenation first flattens it into a new string, so the view's parent
  // is that short copy instead.
  return text.length < 13 ? text : (" " + text).slice(1);
}

/**
 * Growable columnar store of transactions. Customer ids are interned: row i belongs to
 * customerIds[customers[i]]. Adding a row allocates nothing once capacity is reached.
 */
export class TransactionTable {
  readonly index = new CustomerIndex();
  private customerColumn: Int32Array;
  private dayColumn: Int32Array;
  private amountColumn: Float64Array;
  private rowCount = 0;

  constructor(expectedRows = INITIAL_CAPACITY) {
    const capacity = Math.max(16, Math.ceil(expectedRows));
    this.customerColumn = new Int32Array(capacity);
    this.dayColumn = new Int32Array(capacity);
    this.amountColumn = new Float64Array(capacity);
  }

  static from(transactions: Iterable<Transaction>): TransactionTable {
    const table = new TransactionTable();
    for (const tx of transactions) table.add(tx.customerId, tx.day, tx.amount);
    return table;
  }

  get length(): number {
    return this.rowCount;
  }

  get customerIds(): readonly string[] {
    return this.index.ids;
  }

  get customerCount(): number {
    return this.index.size;
  }

  /** Row columns, valid up to `length` (views, not copies). */
  get customers(): Int32Array {
    return this.customerColumn.subarray(0, this.rowCount);
  }
  get days(): Int32Array {
    return this.dayColumn.subarray(0, this.rowCount);
  }
  get amounts(): Float64Array {
    return this.amountColumn.subarray(0, this.rowCount);
  }

  add(customerId: string, day: number, amount: number): void {
    this.addForCustomer(this.index.intern(customerId), day, amount);
  }

  /** Adds a row whose customer id is text.slice(idStart, idEnd), without allocating it. */
  addRange(text: string, idStart: number, idEnd: number, day: number, amount: number): void {
    this.addForCustomer(this.index.internRange(text, idStart, idEnd), day, amount);
  }

  /** addRange for a batch of rows (see CustomerIndex.internRanges; TableRowBatch fills it). */
  addRanges(batch: TableRowBatch): void {
    const { count, indices } = batch;
    this.index.internRanges(batch.texts, batch.idStarts, batch.idEnds, count, indices);
    for (let k = 0; k < count; k++) this.addForCustomer(indices[k], batch.days[k], batch.amounts[k]);
  }

  addForCustomer(customerIndex: number, day: number, amount: number): void {
    if (!Number.isInteger(day) || day < -1e7 || day > 1e7) throw new RangeError(`day ${day} is not a day index`);
    if (!Number.isFinite(amount)) throw new RangeError(`amount ${amount} is not a finite number`);
    if (!(customerIndex >= 0 && customerIndex < this.index.size)) {
      throw new RangeError(`customer index ${customerIndex} was not interned`);
    }
    if (this.rowCount === this.customerColumn.length) this.grow();
    const row = this.rowCount++;
    this.customerColumn[row] = customerIndex;
    this.dayColumn[row] = day;
    this.amountColumn[row] = amount;
  }

  /**
   * Appends another table's rows (given as its ids and columns) in their order: ids new
   * here are interned in the order the other table first saw them, so reading a file in
   * parts and appending them in file order gives the table one read would.
   */
  appendColumns(ids: readonly string[], customers: Int32Array, days: Int32Array, amounts: Float64Array): void {
    const rows = customers.length;
    if (days.length !== rows || amounts.length !== rows) throw new RangeError(`columns of ${rows}, ${days.length} and ${amounts.length} rows`);
    // Checked before anything changes: a refused append leaves the table as it was.
    for (let row = 0; row < rows; row++) {
      if (!(customers[row] >= 0 && customers[row] < ids.length)) throw new RangeError(`row ${row}: customer index ${customers[row]} has no id`);
    }
    const toHere = new Int32Array(ids.length);
    // In batches, as the reader interns (CustomerIndex.internRanges): the same indices, overlapped misses.
    const starts = new Int32Array(TABLE_ROW_BATCH);
    const ends = new Int32Array(TABLE_ROW_BATCH);
    const indices = new Int32Array(TABLE_ROW_BATCH);
    for (let from = 0; from < ids.length; from += TABLE_ROW_BATCH) {
      const batch = ids.slice(from, from + TABLE_ROW_BATCH);
      for (let k = 0; k < batch.length; k++) ends[k] = batch[k].length;
      this.index.internRanges(batch, starts, ends, batch.length, indices);
      toHere.set(indices.subarray(0, batch.length), from);
    }
    while (this.rowCount + rows > this.customerColumn.length) this.grow();
    const at = this.rowCount;
    for (let row = 0; row < rows; row++) this.customerColumn[at + row] = toHere[customers[row]];
    this.dayColumn.set(days, at);
    this.amountColumn.set(amounts, at);
    this.rowCount += rows;
  }

  *[Symbol.iterator](): IterableIterator<Transaction> {
    const ids = this.index.ids;
    for (let row = 0; row < this.rowCount; row++) {
      yield { customerId: ids[this.customerColumn[row]], day: this.dayColumn[row], amount: this.amountColumn[row] };
    }
  }

  private grow(): void {
    // x1.5 keeps the transient copy small on 10M-row files.
    const capacity = Math.ceil(this.customerColumn.length * 1.5) + 16;
    const customers = new Int32Array(capacity);
    customers.set(this.customerColumn);
    const days = new Int32Array(capacity);
    days.set(this.dayColumn);
    const amounts = new Float64Array(capacity);
    amounts.set(this.amountColumn);
    this.customerColumn = customers;
    this.dayColumn = days;
    this.amountColumn = amounts;
  }
}

/** Rows of a batch; days and amounts kept as given, so addForCustomer checks them as addRange would. */
export const TABLE_ROW_BATCH = 64;

/**
 * Rows for a table, added in batches of TABLE_ROW_BATCH (TransactionTable.addRanges): call
 * flush() before the table is read. A batch keeps its rows' text (file chunks) until then.
 */
export class TableRowBatch {
  readonly texts: string[] = new Array<string>(TABLE_ROW_BATCH).fill("");
  readonly idStarts = new Int32Array(TABLE_ROW_BATCH);
  readonly idEnds = new Int32Array(TABLE_ROW_BATCH);
  readonly days = new Float64Array(TABLE_ROW_BATCH);
  readonly amounts = new Float64Array(TABLE_ROW_BATCH);
  readonly indices = new Int32Array(TABLE_ROW_BATCH);
  count = 0;

  constructor(private readonly table: TransactionTable) {}

  add(text: string, idStart: number, idEnd: number, day: number, amount: number): void {
    const k = this.count;
    this.texts[k] = text;
    this.idStarts[k] = idStart;
    this.idEnds[k] = idEnd;
    this.days[k] = day;
    this.amounts[k] = amount;
    if (++this.count === TABLE_ROW_BATCH) this.flush();
  }

  flush(): void {
    if (this.count === 0) return;
    this.table.addRanges(this);
    this.count = 0;
    this.texts.fill("");
  }
}

/**
 * Rows of a table grouped by customer, each group in day order:
 * rows order[start[c]] .. order[start[c + 1] - 1] belong to customer c.
 */
export interface CustomerGroups {
  order: Int32Array;
  start: Int32Array;
}

/** Largest day range sorted by counting; wider ranges fall back to a comparison sort. */
const MAX_COUNTING_RANGE = 1 << 24;

/**
 * Groups the rows with day <= lastDay by customer, ordered by day within a customer
 * (a stable counting sort by day, then one by customer: O(rows + days + customers)).
 */
export function groupByCustomer(table: TransactionTable, lastDay = Number.POSITIVE_INFINITY): CustomerGroups {
  const customers = table.customers;
  const days = table.days;
  const rows = table.length;
  let kept = 0;
  let minDay = Number.POSITIVE_INFINITY;
  let maxDay = Number.NEGATIVE_INFINITY;
  for (let row = 0; row < rows; row++) {
    const day = days[row];
    if (day > lastDay) continue;
    kept++;
    if (day < minDay) minDay = day;
    if (day > maxDay) maxDay = day;
  }

  const byDay = new Int32Array(kept);
  if (kept === rows && inDayOrder(days, rows)) {
    // Already in day order (exports usually are): the stable sort would give the rows as they are.
    for (let row = 0; row < rows; row++) byDay[row] = row;
  } else if (kept > 0 && maxDay - minDay < MAX_COUNTING_RANGE) {
    const dayStart = new Int32Array(maxDay - minDay + 2);
    for (let row = 0; row < rows; row++) {
      const day = days[row];
      if (day <= lastDay) dayStart[day - minDay + 1]++;
    }
    for (let d = 1; d < dayStart.length; d++) dayStart[d] += dayStart[d - 1];
    for (let row = 0; row < rows; row++) {
      const day = days[row];
      if (day <= lastDay) byDay[dayStart[day - minDay]++] = row;
    }
  } else if (kept > 0) {
    let next = 0;
    for (let row = 0; row < rows; row++) if (days[row] <= lastDay) byDay[next++] = row;
    // Stable: ties keep row order.
    const sorted = Array.from(byDay).sort((a, b) => days[a] - days[b] || a - b);
    byDay.set(sorted);
  }

  const start = new Int32Array(table.customerCount + 1);
  for (let i = 0; i < kept; i++) start[customers[byDay[i]] + 1]++;
  for (let c = 1; c < start.length; c++) start[c] += start[c - 1];
  const cursor = start.slice(0, table.customerCount);
  const order = new Int32Array(kept);
  for (let i = 0; i < kept; i++) {
    const row = byDay[i];
    order[cursor[customers[row]]++] = row;
  }
  return { order, start };
}

/** Customer indices ordered by customer id (code-unit order, like Array.prototype.sort). */
export function customerIndicesById(table: TransactionTable): Int32Array {
  const ids = table.customerIds;
  const n = ids.length;
  let indices = new Int32Array(n);
  for (let i = 0; i < n; i++) indices[i] = i;
  const byString = (a: number, b: number) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0);
  const digits = prefixDigits(ids);
  if (digits === null) return indices.sort(byString);
  // A stable counting sort per prefix character, the last first (LSD radix), orders the ids
  // by their first PREFIX_CHARS characters without comparing strings, several times faster
  // than a comparison sort with numeric prefix keys (ADR 0004).
  let next = new Int32Array(n);
  const count = new Int32Array(257);
  for (let k = PREFIX_CHARS - 1; k >= 0; k--) {
    const column = digits.subarray(k * n, (k + 1) * n);
    count.fill(0);
    for (let i = 0; i < n; i++) count[column[i] + 1]++;
    if (count[column[0] + 1] === n) continue; // one character for all: the pass would change nothing
    for (let d = 1; d < 257; d++) count[d] += count[d - 1];
    for (let i = 0; i < n; i++) {
      const index = indices[i];
      next[count[column[index]]++] = index;
    }
    [indices, next] = [next, indices];
  }
  // Ids sharing all PREFIX_CHARS characters (only longer ids can) are ordered by the rest.
  let runStart = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n && samePrefix(digits, n, indices[i - 1], indices[i])) continue;
    if (i - runStart > 1) indices.subarray(runStart, i).sort(byString);
    runStart = i;
  }
  return indices;
}

/** Characters of an id the radix sort orders by; the rest only break ties. */
const PREFIX_CHARS = 12;

/**
 * Characters 1..PREFIX_CHARS of every id, character k of id i at [k * ids.length + i], as
 * code + 1 (0 for a missing character, which orders below any other: "a" before "a\0");
 * null when an id has a character above U+00FE.
 */
function prefixDigits(ids: readonly string[]): Uint8Array | null {
  const n = ids.length;
  const digits = new Uint8Array(PREFIX_CHARS * n);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    const length = Math.min(id.length, PREFIX_CHARS);
    for (let k = 0; k < length; k++) {
      const code = id.charCodeAt(k) + 1;
      if (code > 0xff) return null;
      digits[k * n + i] = code;
    }
  }
  return digits;
}

function samePrefix(digits: Uint8Array, n: number, a: number, b: number): boolean {
  for (let k = 0; k < PREFIX_CHARS; k++) if (digits[k * n + a] !== digits[k * n + b]) return false;
  return true;
}

function inDayOrder(days: Int32Array, rows: number): boolean {
  for (let row = 1; row < rows; row++) if (days[row] < days[row - 1]) return false;
  return true;
}

/**
 * Summary of one customer's grouped rows, or null when the group holds no purchase
 * (no rows, or only refunds). A day is a purchase day when it has at least one row with
 * amount >= 0; its value is the sum of that day's rows. Refunds on other days reduce
 * totalSpent only: they are not purchases.
 */
export function summarizeGroup(
  table: TransactionTable,
  groups: CustomerGroups,
  customerIndex: number,
  opts: SummaryOptions,
): CustomerSummary | null {
  return summarizeRun(table, table.days, table.amounts, groups.order, groups.start, customerIndex, opts);
}

/**
 * A group's rows gathered in group order (GroupedOrders in retention.ts has this shape):
 * rows start[c] .. start[c + 1] - 1 of day and amount are customer c's, by day.
 */
export interface GatheredGroups {
  start: Int32Array;
  day: Int32Array;
  amount: Float64Array;
}

/**
 * summarizeGroup's summary from its rows at positions start[c] .. start[c + 1] - 1, each
 * read at order[position], or at position itself when order is null (gathered rows).
 */
function summarizeRun(
  table: TransactionTable,
  days: Int32Array,
  amounts: Float64Array,
  order: Int32Array | null,
  start: Int32Array,
  customerIndex: number,
  opts: SummaryOptions,
): CustomerSummary | null {
  const end = start[customerIndex + 1];
  let position = start[customerIndex];
  let orders = 0;
  let totalSpent = 0;
  let firstDay = 0;
  let lastDay = 0;
  let firstDayValue = 0;
  let purchaseDaysValue = 0;
  while (position < end) {
    const day = days[order === null ? position : order[position]];
    let dayValue = 0;
    let isPurchase = false;
    while (position < end && days[order === null ? position : order[position]] === day) {
      const amount = amounts[order === null ? position : order[position]];
      dayValue += amount;
      if (amount >= 0) isPurchase = true;
      position++;
    }
    totalSpent += dayValue;
    if (!isPurchase) continue;
    if (orders === 0) {
      firstDay = day;
      firstDayValue = dayValue;
    }
    lastDay = day;
    purchaseDaysValue += dayValue;
    orders++;
  }
  if (orders === 0) return null;
  const frequency = orders - 1;
  const length = unitDays[opts.unit];
  return {
    customerId: table.customerIds[customerIndex],
    orders,
    frequency,
    recency: (lastDay - firstDay) / length,
    T: (opts.asOfDay - firstDay) / length,
    monetaryValue: frequency > 0 ? (purchaseDaysValue - firstDayValue) / frequency : 0,
    totalSpent,
    firstDay,
    lastDay,
  };
}

/**
 * Summaries of every customer with a purchase on or before asOfDay, sorted by customerId.
 * `groups`, when given, must be groupByCustomer(table, opts.asOfDay), or its rows gathered
 * in group order: a caller that needs the grouping again (tenure analyze's retention report)
 * groups the rows once, and gathered rows are read in order rather than one cache miss a row.
 */
export function summarizeTable(table: TransactionTable, opts: SummaryOptions, groups?: CustomerGroups | GatheredGroups): CustomerSummary[] {
  checkOptions(opts);
  groups ??= groupByCustomer(table, opts.asOfDay);
  const [days, amounts, order] = "order" in groups ? [table.days, table.amounts, groups.order] : [groups.day, groups.amount, null];
  const summaries: CustomerSummary[] = [];
  for (const customerIndex of customerIndicesById(table)) {
    const summary = summarizeRun(table, days, amounts, order, groups.start, customerIndex, opts);
    if (summary) summaries.push(summary);
  }
  return summaries;
}

/** Per-customer summaries at asOfDay (inclusive), sorted by customerId. */
export function summarize(tx: Iterable<Transaction>, opts: SummaryOptions): CustomerSummary[] {
  const table = tx instanceof TransactionTable ? tx : TransactionTable.from(tx);
  return summarizeTable(table, opts);
}

function checkOptions(opts: SummaryOptions): void {
  if (!Number.isInteger(opts.asOfDay)) throw new RangeError(`asOfDay ${opts.asOfDay} is not a day index`);
  if (!(opts.unit in unitDays)) throw new RangeError(`unknown time unit "${opts.unit}"`);
}
