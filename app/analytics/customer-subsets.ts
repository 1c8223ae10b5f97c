// Subsets of a transaction table by customer, for the retention reports filtered by an
// acquisition dimension (channel, first product, discount code). Pure; hot at a million
// customers, so the loops read the table's typed columns directly.
import { TransactionTable } from "./summary";

/**
 * A table of the rows of the customers `keep` selects (by the table's customer index),
 * for a filtered retention report. Row order is kept, so customers stay grouped.
 */
export function customersTable(table: TransactionTable, keep: (customer: number) => boolean): TransactionTable {
  const customers = table.customers;
  const days = table.days;
  const amounts = table.amounts;
  const ids = table.customerIds;
  let rows = 0;
  for (let row = 0; row < table.length; row++) if (keep(customers[row])) rows++;
  const subset = new TransactionTable(rows);
  // Each kept customer's id is interned once, not once per order.
  const subsetIndex = new Int32Array(table.customerCount).fill(-1);
  for (let row = 0; row < table.length; row++) {
    const customer = customers[row];
    if (!keep(customer)) continue;
    if (subsetIndex[customer] < 0) subsetIndex[customer] = subset.index.intern(ids[customer]);
    subset.addForCustomer(subsetIndex[customer], days[row], amounts[row]);
  }
  return subset;
}

/**
 * customersTable for several groups at once: the table of each of `codes`, where
 * `codeOfCustomer` gives each customer's group (by the table's customer index; a customer
 * is in one group at most). Two passes over the rows however many groups, where one
 * customersTable per group would take two each.
 */
export function customersTablesByCode(table: TransactionTable, codeOfCustomer: ArrayLike<number>, codes: readonly number[]): Map<number, TransactionTable> {
  const slotOfCode = new Map(codes.map((code, slot) => [code, slot]));
  const customerSlot = new Int32Array(table.customerCount);
  for (let customer = 0; customer < customerSlot.length; customer++) customerSlot[customer] = slotOfCode.get(codeOfCustomer[customer]) ?? -1;
  const customers = table.customers;
  const rows = new Array<number>(codes.length).fill(0);
  for (let row = 0; row < table.length; row++) {
    const slot = customerSlot[customers[row]];
    if (slot >= 0) rows[slot]++;
  }
  const subsets = rows.map((count) => new TransactionTable(count));
  const days = table.days;
  const amounts = table.amounts;
  const ids = table.customerIds;
  // Each kept customer's id is interned once, not once per order.
  const subsetIndex = new Int32Array(table.customerCount).fill(-1);
  for (let row = 0; row < table.length; row++) {
    const customer = customers[row];
    const slot = customerSlot[customer];
    if (slot < 0) continue;
    const subset = subsets[slot];
    if (subsetIndex[customer] < 0) subsetIndex[customer] = subset.index.intern(ids[customer]);
    subset.addForCustomer(subsetIndex[customer], days[row], amounts[row]);
  }
  return new Map(codes.map((code, slot) => [code, subsets[slot]]));
}

/**
 * A per-row column of `table` (e.g. each order's own gross profit) cut like
 * customersTablesByCode: for each of `codes`, that group's values in its subset's row order.
 */
export function columnByCode(
  table: TransactionTable,
  codeOfCustomer: ArrayLike<number>,
  codes: readonly number[],
  column: ArrayLike<number>,
): Map<number, Float64Array> {
  if (column.length !== table.length) throw new RangeError(`the column has ${column.length} rows; the table has ${table.length}`);
  const slotOfCode = new Map(codes.map((code, slot) => [code, slot]));
  const customerSlot = new Int32Array(table.customerCount);
  for (let customer = 0; customer < customerSlot.length; customer++) customerSlot[customer] = slotOfCode.get(codeOfCustomer[customer]) ?? -1;
  const customers = table.customers;
  const counts = new Array<number>(codes.length).fill(0);
  for (let row = 0; row < table.length; row++) {
    const slot = customerSlot[customers[row]];
    if (slot >= 0) counts[slot]++;
  }
  const columns = counts.map((count) => new Float64Array(count));
  const filled = new Array<number>(codes.length).fill(0);
  for (let row = 0; row < table.length; row++) {
    const slot = customerSlot[customers[row]];
    if (slot >= 0) columns[slot][filled[slot]++] = column[row];
  }
  return new Map(codes.map((code, slot) => [code, columns[slot]]));
}
