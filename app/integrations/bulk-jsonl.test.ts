import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { storeJsonl } from "../../tests/support/store-jsonl";
import { BulkResultError, type ImportBatch, linesOf, orderBatchesOf } from "./bulk-jsonl";

// The JSONL reader on its own: bodies cut into chunks at arbitrary byte offsets, as a
// network delivers them.

async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let from = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    yield bytes.subarray(from, cut);
    from = cut;
  }
  yield bytes.subarray(from);
}
const body = (text: string, cuts: number[] = []) => chunked(new TextEncoder().encode(text), cuts);

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe("linesOf", () => {
  it("gives every line whole wherever the chunks are cut, multi-byte characters and CRLF included", async () => {
    const line = fc.string({ unit: fc.constantFrom("a", "é", "日", "𝄞", " ", "\r", '"'), maxLength: 8 }).map((s) => s.replace(/\r/g, ""));
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 12 }), fc.boolean(), fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), async (lines, crlf, finalNewline, cuts) => {
        const newline = crlf ? "\r\n" : "\n";
        const text = lines.join(newline) + (finalNewline && lines.length > 0 ? newline : "");
        const got = (await collect(linesOf(body(text, cuts)))).flat();
        // A newline at the end ends the last line; it does not start another.
        const expected = text.split(newline);
        if (expected.at(-1) === "") expected.pop();
        expect(got).toEqual(expected);
      }),
    );
  });
});

describe("orderBatchesOf", () => {
  it("cuts batches where an order starts, and a resume from any batch's offset gives the same remaining orders", async () => {
    const text = storeJsonl(23);
    const all = await collect(orderBatchesOf(body(text, [7, 300, 301, 5_000]), { fromLine: 0, batchSize: 5 }));
    expect(all.map((b) => b.bundles.length)).toEqual([5, 5, 5, 5, 3]);
    const lines = text.split("\n");
    for (const batch of all.slice(0, -1)) expect(JSON.parse(lines[batch.upToLine]).__parentId).toBeUndefined();
    expect(all.at(-1)!.upToLine).toBe(lines.length - 1); // the final newline ends the last line
    const ids = (batches: ImportBatch[]) => batches.flatMap((b) => b.bundles.map((bundle) => bundle.order.id));
    for (let k = 1; k < all.length; k += 1) {
      const resumed = await collect(orderBatchesOf(body(text), { fromLine: all[k - 1].upToLine, batchSize: 5 }));
      expect(ids(resumed)).toEqual(ids(all.slice(k)));
      expect(resumed.map((b) => b.bundles.map((x) => x.order.lineItemCount))).toEqual(all.slice(k).map((b) => b.bundles.map((x) => x.order.lineItemCount)));
    }
    // Resuming after the last batch: one empty batch that ends where the file ends.
    expect(await collect(orderBatchesOf(body(text), { fromLine: all.at(-1)!.upToLine, batchSize: 5 }))).toEqual([
      { bundles: [], upToLine: all.at(-1)!.upToLine, skipped: [] },
    ]);
  });

  it("joins line items to their order and sends a repeated customer profile once (again when it changed)", async () => {
    // Order 5's copy of customer 102 is newer than order 2's.
    const text = storeJsonl(8, (i) => (i === 5 ? new Date("2025-02-01T00:00:00Z") : undefined));
    const [batch] = await collect(orderBatchesOf(body(text), { fromLine: 0, batchSize: 100 }));
    expect(batch.bundles.map((b) => b.order.lineItemCount)).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
    expect(batch.bundles.map((b) => (b.customer ? Number(b.customer.id) : null))).toEqual([100, 101, 102, null, null, 102, null, null]);
    expect(batch.bundles[5].customer?.shopifyUpdatedAt).toEqual(new Date("2025-02-01T00:00:00Z"));
    expect(batch.bundles.map((b) => (b.order.customerId === null ? null : Number(b.order.customerId)))).toEqual([100, 101, 102, null, 101, 102, 100, null]);
  });

  it("leaves out an order that fails validation, reporting its line number, and keeps the rest", async () => {
    const lines = storeJsonl(4).trimEnd().split("\n");
    const broken = JSON.parse(lines[2]); // the second order's line (the first has one line item)
    broken.currentTotalPriceSet.shopMoney.amount = "twelve";
    lines[2] = JSON.stringify(broken);
    const batches = await collect(orderBatchesOf(body(lines.join("\n")), { fromLine: 0, batchSize: 100 }));
    expect(batches).toHaveLength(1);
    expect(batches[0].bundles.map((b) => Number(b.order.id))).toEqual([9_000, 9_002, 9_003]);
    expect(batches[0].skipped).toEqual([{ line: 3, message: expect.stringContaining("twelve") }]);
    expect(batches[0].upToLine).toBe(lines.length);
  });

  it.each([
    ["a line that is not JSON", (lines: string[]) => lines.splice(4, 1, '{"id": "gid://shopify/Order/1"'), /line 5 is not JSON/],
    // Order 9002's line before order 9001's second line item.
    ["a line item whose order is not the current one", (lines: string[]) => lines.splice(4, 2, lines[5], lines[4]), /line 6: parent gid:\/\/shopify\/Order\/9001 is not the current order/],
  ])("stops at %s, naming the line", async (_name, corrupt, message) => {
    const lines = storeJsonl(4).trimEnd().split("\n");
    corrupt(lines);
    const reading = collect(orderBatchesOf(body(lines.join("\n")), { fromLine: 0, batchSize: 100 }));
    await expect(reading).rejects.toThrow(BulkResultError);
    await expect(reading).rejects.toThrow(message);
  });
});
