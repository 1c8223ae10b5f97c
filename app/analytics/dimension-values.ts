// The values of one acquisition dimension (channel, first product, discount code) per
// customer, interned, and the values with the most customers. Pure.

/**
 * Interns the values of one acquisition dimension (few distinct values, one per customer):
 * customers hold a small integer, and the top values are found by counting.
 */
export class DimensionValues {
  private readonly codes = new Map<string, number>();
  readonly values: string[] = [];
  readonly ofCustomer: number[] = [];

  /** Records the value of the next customer (customers are added in table order); -1 for none. */
  push(value: string | null | undefined): void {
    if (!value) {
      this.ofCustomer.push(-1);
      return;
    }
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.codes.set(value, code);
      this.values.push(value);
    }
    this.ofCustomer.push(code);
  }

  /** The value of a customer, or null. */
  valueOf(customer: number): string | null {
    const code = this.ofCustomer[customer];
    return code === undefined || code < 0 ? null : this.values[code];
  }

  /** The `limit` values with the most customers (ties by value), with their customers. */
  top(limit: number, counted: (customer: number) => boolean = () => true): { value: string; code: number; customers: number }[] {
    const counts = new Float64Array(this.values.length);
    this.ofCustomer.forEach((code, customer) => {
      if (code >= 0 && counted(customer)) counts[code]++;
    });
    return this.values
      .map((value, code) => ({ value, code, customers: counts[code] }))
      .filter((v) => v.customers > 0)
      .sort((a, b) => b.customers - a.customers || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, limit);
  }
}
