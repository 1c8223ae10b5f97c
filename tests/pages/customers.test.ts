import { type CustomerMetricsValues } from "~/analytics/customer-metrics";
import { dayToIso } from "~/analytics/dates";
import {
  type CustomerListQuery,
  type CustomerPage,
  SORT_KEYS,
  type SortDirection,
  type SortKey,
  COUNT_CAP,
  decodeCursor,
  encodeCursor,
  pagerText,
  parseListParams,
} from "~/pages/customer-list";
import { listCustomers } from "~/pages/customer-list.server";
import { countAllCustomerTableRows, countCustomerTableRows } from "~/data/customer-metrics-reads.server";
import { replaceShopAggregates } from "~/data/aggregates.server";
import { testDb, uniqueShop, testPool } from "../support/db";
import { metricsRow, writeMetrics } from "../support/customer-metrics-rows";

// The customer table reads CustomerMetrics by keyset pages. Each sort and direction is walked
// page by page, forwards and back, and must give exactly the order a plain sort of the
// rows gives (nulls last, ties by customer id), with no row repeated or skipped; another
// shop's rows (same customer ids, bigger values) never appear.

const SEGMENTS = ["champions", "loyal", "lost"];
const BEHAVIOURS = ["vip", "repeat-buyer", "discount-shopper"];

/** 37 customers with many ties and nulls in every nullable column. */
function shopRows(): CustomerMetricsValues[] {
  return Array.from({ length: 37 }, (_, index) => {
    const i = index + 1;
    const ordered = i % 6 !== 0;
    return metricsRow(i, {
      orders: ordered ? 1 + (i % 3) : 0,
      netSpent: ordered ? (i % 7) * 1000 : 0,
      // Negative (costs above sales), zero and tied values, as gross profit to date has.
      grossProfit: ordered ? (i % 9) * 300 - 600 : 0,
      lastOrderDay: ordered ? 20_100 - (i % 5) : null,
      firstOrderDay: ordered ? 20_000 : null,
      predictedClv: i % 4 === 0 ? null : (i % 5) * 500,
      chanceOfOrder90d: i % 3 === 0 ? null : [0.1, 0.5, 0.5, 0.9][i % 4],
      segment: ordered ? SEGMENTS[i % 3] : null,
      behaviours: ordered ? BEHAVIOURS.filter((_, b) => (i >> b) % 2 === 1) as CustomerMetricsValues["behaviours"] : [],
    });
  });
}

const valueOf = (row: CustomerMetricsValues, sort: SortKey): number | null => {
  switch (sort) {
    case "netSpent":
      return row.netSpent;
    case "predictedClv":
      return row.predictedClv;
    case "chance90d":
      return row.chanceOfOrder90d;
    case "lastOrder":
      return row.lastOrderDay;
    case "orders":
      return row.orders;
    case "grossProfit":
      return row.grossProfit;
  }
};

/** The table's order by a plain sort: values in the direction (ties by id in the same direction), nulls last by id. */
function expectedOrder(rows: CustomerMetricsValues[], sort: SortKey, direction: SortDirection): string[] {
  const sign = direction === "asc" ? 1 : -1;
  const withValue = rows.filter((row) => valueOf(row, sort) !== null);
  const without = rows.filter((row) => valueOf(row, sort) === null);
  withValue.sort((a, b) => sign * ((valueOf(a, sort) as number) - (valueOf(b, sort) as number)) || sign * (Number(a.customerId) - Number(b.customerId)));
  without.sort((a, b) => sign * (Number(a.customerId) - Number(b.customerId)));
  return [...withValue, ...without].map((row) => row.customerId);
}

function matches(row: CustomerMetricsValues, q: CustomerListQuery): boolean {
  if (q.segment && row.segment !== q.segment) return false;
  if (q.behaviour && !row.behaviours.includes(q.behaviour as never)) return false;
  if (q.minPredictedClvMinor != null && !(row.predictedClv !== null && row.predictedClv >= q.minPredictedClvMinor)) return false;
  if (q.chanceMin != null && !(row.chanceOfOrder90d !== null && row.chanceOfOrder90d >= q.chanceMin)) return false;
  if (q.chanceMax != null && !(row.chanceOfOrder90d !== null && row.chanceOfOrder90d <= q.chanceMax)) return false;
  return true;
}

async function walkForward(shop: string, query: CustomerListQuery): Promise<CustomerPage[]> {
  const pages: CustomerPage[] = [];
  let after = null;
  for (let guard = 0; guard < 100; guard++) {
    const page: CustomerPage = await listCustomers(testPool(), shop, { ...query, after });
    pages.push(page);
    if (!page.next) return pages;
    after = decodeCursor(page.next);
  }
  throw new Error("paging did not end");
}

describe("listCustomers: keyset pages over CustomerMetrics", () => {
  const shop = uniqueShop("table");
  const other = uniqueShop("table-other");
  const rows = shopRows();

  beforeAll(async () => {
    await writeMetrics(shop, rows);
    // The other shop: the same customer ids with values that would sort first in every order.
    await writeMetrics(
      other,
      Array.from({ length: 10 }, (_, index) =>
        metricsRow(index + 1, { orders: 99, netSpent: 9_999_999, predictedClv: 9_999_999, chanceOfOrder90d: 1, lastOrderDay: 20_200, segment: "champions", behaviours: ["vip"] }),
      ),
    );
    const at = new Date("2025-01-01T00:00:00Z");
    await testDb().customer.createMany({
      data: [
        ...rows.map((row) => ({ shop, id: BigInt(row.customerId), firstName: "Ada", lastName: `No${row.customerId}`, shopifyUpdatedAt: at })),
        ...Array.from({ length: 10 }, (_, index) => ({ shop: other, id: BigInt(index + 1), firstName: "Other", lastName: "Shop", shopifyUpdatedAt: at })),
      ],
    });
  });

  for (const sort of SORT_KEYS) {
    for (const direction of ["desc", "asc"] as const) {
      it(`pages by ${sort} ${direction}: the plain sort's order, forwards and back, each row once`, async () => {
        const query: CustomerListQuery = { sort, direction, pageSize: 5 };
        const pages = await walkForward(shop, query);
        const expected = expectedOrder(rows, sort, direction);
        expect(pages.flatMap((page) => page.rows.map((row) => row.id))).toEqual(expected);
        expect(pages).toHaveLength(Math.ceil(rows.length / 5));
        expect(pages[0].previous).toBeNull();
        expect(pages.at(-1)!.next).toBeNull();
        expect(pages.at(-1)!.rows).toHaveLength(rows.length % 5);
        // Names come from this shop's Customer rows, never the other shop's.
        expect(pages.flatMap((page) => page.rows.map((row) => row.name)).every((name) => name.startsWith("Ada No"))).toBe(true);

        // Back from the last page: each previous page is the forward page before it.
        let index = pages.length - 1;
        let before = pages[index].previous;
        while (before) {
          index -= 1;
          const page = await listCustomers(testPool(), shop, { ...query, before: decodeCursor(before) });
          expect(page.rows.map((row) => row.id), `page ${index}`).toEqual(pages[index].rows.map((row) => row.id));
          expect(page.next).not.toBeNull();
          before = page.previous;
        }
        expect(index).toBe(0);
      });
    }
  }

  const filterCases: [string, Partial<CustomerListQuery>][] = [
    ["an RFM segment", { segment: "loyal" }],
    ["a behavioural segment", { behaviour: "vip" }],
    ["a minimum expected spend", { minPredictedClvMinor: 1000 }],
    ["a chance of ordering range", { chanceMin: 0.3, chanceMax: 0.6 }],
    ["everything at once", { segment: "loyal", behaviour: "repeat-buyer", minPredictedClvMinor: 500, chanceMin: 0.5 }],
  ];
  for (const [label, filters] of filterCases) {
    it(`filters by ${label}, paging through exactly the matching rows`, async () => {
      for (const sort of ["predictedClv", "chance90d", "netSpent"] as const) {
        const query: CustomerListQuery = { sort, direction: "desc", pageSize: 3, ...filters };
        const pages = await walkForward(shop, query);
        const expected = expectedOrder(rows.filter((row) => matches(row, query)), sort, "desc");
        expect(expected.length, "the case selects some rows").toBeGreaterThan(0);
        expect(expected.length, "and leaves some out").toBeLessThan(rows.length);
        expect(pages.flatMap((page) => page.rows.map((row) => row.id)), `${label} by ${sort}`).toEqual(expected);
      }
    });
  }

  it("says where each page is in the table: \"36–37 of 37\", forwards and back (issue 13)", async () => {
    const query: CustomerListQuery = { sort: "predictedClv", direction: "desc", pageSize: 5 };
    const pages = await walkForward(shop, query);
    expect(pages.map((page) => page.firstPosition)).toEqual(pages.map((_, k) => k * 5));
    expect(pages.every((page) => page.total === rows.length)).toBe(true);
    expect(pagerText(pages[0])).toBe("1–5 of 37");
    expect(pagerText(pages.at(-1)!)).toBe("36–37 of 37");
    // Back from the last page, the places count down again.
    const back = await listCustomers(testPool(), shop, { ...query, before: decodeCursor(pages.at(-1)!.previous!) });
    expect(pagerText(back)).toBe("31–35 of 37");
    const first = await listCustomers(testPool(), shop, { ...query, before: decodeCursor(pages[1].previous!) });
    expect(pagerText(first)).toBe("1–5 of 37");
    // A filtered view counts its own rows.
    const loyal = await walkForward(shop, { ...query, segment: "loyal" });
    const inLoyal = rows.filter((row) => row.segment === "loyal").length;
    expect(pagerText(loyal.at(-1)!)).toBe(`${Math.floor((inLoyal - 1) / 5) * 5 + 1}–${inLoyal} of ${inLoyal}`);
    // A link from before positions still pages, saying only how many rows it shows.
    const old = decodeCursor(pages[0].next!)!;
    delete old.position;
    expect(pagerText(await listCustomers(testPool(), shop, { ...query, after: old }))).toBe("5 customers on this page");
  });

  it("counts a filtered view up to a cap, so the count stays cheap on a large shop", async () => {
    expect(await countCustomerTableRows(testPool(), shop, { segment: "loyal" }, 100, null)).toBe(rows.filter((row) => row.segment === "loyal").length);
    expect(await countCustomerTableRows(testPool(), shop, {}, 10, null)).toBeNull();
    expect(pagerText({ rows: [1, 2], firstPosition: 50, total: null })).toBe("51–52 of more than 10,000");
  });

  it("gives the whole table and a whole segment the refit's exact count when too large to count live; a filtered view keeps the cap", async () => {
    const big = uniqueShop("customers-big");
    const customers = COUNT_CAP + 5;
    // 10,001 loyal customers; the last four have no counted order (still rows of the table).
    await writeMetrics(big, Array.from({ length: customers }, (_, k) => metricsRow(k + 1, k > COUNT_CAP ? { orders: 0, netSpent: 0, segment: null } : { segment: "loyal", predictedClv: 1_000 })));
    const query: CustomerListQuery = { sort: "netSpent", direction: "desc", pageSize: 50 };
    // Before any refit there is no count to show: "more than 10,000".
    expect(pagerText(await listCustomers(testPool(), big, query))).toBe("1–50 of more than 10,000");

    // The refit's segments row, with the table's rows counted as the refit counts them (tests/refit checks it does).
    const segments = { currency: "USD", asOfIso: "2026-12-05", customers: COUNT_CAP, tableCustomers: await countAllCustomerTableRows(testPool(), big), netSpentMinor: 0, rows: [] };
    await testPool().query(
      `INSERT INTO "ShopAggregate" (shop, kind, "asOfDay", "modelVersion", data, "computedAt") VALUES ($1, 'segments', 20427, 1, $2, now())`,
      [big, JSON.stringify(segments)],
    );
    const whole = await listCustomers(testPool(), big, query);
    expect(pagerText(whole)).toBe(`1–50 of ${customers.toLocaleString("en-US")}`);
    expect(whole.totalAsOfIso).toBe("2026-12-05");
    // A whole segment: the segment's count, with its day.
    const loyal = await listCustomers(testPool(), big, { ...query, segment: "loyal" }, {}, { scope: "segment", scopeTotal: COUNT_CAP + 1, scopeTotalAsOfIso: "2026-12-05" });
    expect(pagerText(loyal)).toBe("1–50 of 10,001");
    expect(loyal.totalAsOfIso).toBe("2026-12-05");
    // Filtered views count live, up to the cap, and say so.
    const filtered = await listCustomers(testPool(), big, { ...query, minPredictedClvMinor: 0 });
    expect(pagerText(filtered)).toBe("1–50 of more than 10,000");
    expect(filtered.totalAsOfIso).toBeUndefined();
  });

  it("pages a search matching more than 10,000 customers along the sort order, and counts it only with other filters", async () => {
    const many = uniqueShop("customers-many");
    const customers = COUNT_CAP + 5;
    // Every customer's email starts "jo"; one in ten is loyal, the rest lost.
    await writeMetrics(many, Array.from({ length: customers }, (_, k) => metricsRow(k + 1, { segment: k % 10 === 0 ? "loyal" : "lost", netSpent: k + 1 })));
    await testPool().query(
      `INSERT INTO "Customer" (shop, id, email, "firstName", "lastName", tags, "shopifyUpdatedAt")
       SELECT $1, g, 'jo' || g || '@example.com', 'Jo', 'Row' || g, '{}', now() FROM generate_series(1, $2::int) AS g`,
      [many, customers],
    );
    const page = await listCustomers(testPool(), many, { sort: "netSpent", direction: "desc", pageSize: 3, search: "JO" });
    expect(page.rows.map((row) => row.id)).toEqual([String(customers), String(customers - 1), String(customers - 2)]);
    expect(pagerText(page)).toBe("1–3 of more than 10,000");
    const next = await listCustomers(testPool(), many, { sort: "netSpent", direction: "desc", pageSize: 3, search: "JO", after: decodeCursor(page.next!) });
    expect(next.rows.map((row) => row.id)).toEqual([String(customers - 3), String(customers - 4), String(customers - 5)]);
    // Another filter narrows the matches under the cap: counted exactly.
    const loyal = await listCustomers(testPool(), many, { sort: "netSpent", direction: "desc", pageSize: 3, search: "jo", segment: "loyal" });
    expect(loyal.total).toBe(Math.ceil(customers / 10));
    expect(loyal.rows.every((row) => row.segment === "loyal")).toBe(true);
    // A narrower prefix matches few: read and counted from their ids.
    const few = await listCustomers(testPool(), many, { sort: "netSpent", direction: "desc", search: "jo1000" });
    expect(few.rows.map((row) => row.id).sort()).toEqual(["1000", "10000", "10001", "10002", "10003", "10004", "10005"].sort());
    expect(few.total).toBe(7);
  });

  it("searches by the start of a name, last name or email, in any case, taking % and _ literally", async () => {
    await testPool().query(`UPDATE "Customer" SET email = 'ada' || id || '@example.com' WHERE shop = $1 AND id <= 3`, [shop]);
    await testPool().query(`UPDATE "Customer" SET email = 'x_y%z@example.com' WHERE shop = $1 AND id = 4`, [shop]);
    const ids = async (search: string) => (await walkForward(shop, { sort: "netSpent", direction: "desc", pageSize: 50, search })).flatMap((p) => p.rows.map((r) => r.id)).sort((a, b) => Number(a) - Number(b));
    // Last name "No1", "No10".."No19" and full name "Ada No1…".
    const no1 = ["1", ...Array.from({ length: 10 }, (_, k) => String(10 + k))];
    expect(await ids("no1")).toEqual(no1);
    expect(await ids("  ADA NO1 ")).toEqual(no1);
    expect(await ids("ada2@EXAMPLE")).toEqual(["2"]);
    expect(await ids("x_y%")).toEqual(["4"]);
    expect(await ids("x%")).toEqual([]);
    expect(await ids("ada no36")).toEqual(["36"]);
    expect(await ids("zebra")).toEqual([]);
    // The other shop's "Other Shop" customers are never found.
    expect(await ids("other")).toEqual([]);
    const page = await listCustomers(testPool(), shop, { sort: "chance90d", direction: "asc", pageSize: 5, search: "no1" });
    expect(page.total).toBe(no1.length);
    expect(pagerText(page)).toBe(`1–5 of ${no1.length}`);
  });

  it("answers an empty page, not an error, when nothing matches", async () => {
    const page = await listCustomers(testPool(), shop, { sort: "netSpent", direction: "desc", minPredictedClvMinor: 1e9 });
    expect(page).toEqual({ rows: [], next: null, previous: null, firstPosition: 0, total: 0 });
    expect(pagerText(page)).toBe("No customers");
    const contradictory = await listCustomers(testPool(), shop, { sort: "netSpent", direction: "desc", chanceMin: 0.9, chanceMax: 0.1 });
    expect(contradictory.rows).toEqual([]);
  });

  it("shows another shop's customers only to that shop", async () => {
    const page = await listCustomers(testPool(), other, { sort: "netSpent", direction: "desc" });
    expect(page.rows.map((row) => row.id)).toEqual(["10", "9", "8", "7", "6", "5", "4", "3", "2", "1"]);
    expect(page.rows.every((row) => row.name === "Other Shop" && row.netSpentMinor === 9_999_999)).toBe(true);
  });

  it("returns the row's fields in page form (numbers, ISO days, segment names)", async () => {
    const page = await listCustomers(testPool(), shop, { sort: "netSpent", direction: "desc", pageSize: 1 });
    const source = rows.find((row) => row.customerId === page.rows[0].id)!;
    expect(page.rows[0]).toMatchObject({
      orders: source.orders,
      netSpentMinor: source.netSpent,
      predictedClvMinor: source.predictedClv,
      chanceOfOrder90d: source.chanceOfOrder90d,
      lastOrderIso: source.lastOrderDay === null ? null : dayToIso(source.lastOrderDay),
      segment: source.segment,
    });
    expect(page.rows[0].segmentName).toMatch(/^(Champions|Loyal|Lost)$/);
  });

  it("refuses a cursor of another sort order instead of paging wrongly", async () => {
    const cursor = { sort: "chance90d" as const, direction: "desc" as const, value: 0.5, id: "3" };
    await expect(listCustomers(testPool(), shop, { sort: "netSpent", direction: "desc", after: cursor })).rejects.toThrow(/another sort/);
  });

  it("sorts by gross profit to date from its link, like the other columns (issue 17)", async () => {
    const { query, problems } = parseListParams(new URLSearchParams({ sort: "grossProfit", dir: "desc", pageSize: "5" }), "USD");
    expect(problems).toEqual([]);
    expect(query.sort).toBe("grossProfit");
    const page = await listCustomers(testPool(), shop, query);
    expect(page.rows.map((row) => row.id)).toEqual(expectedOrder(rows, "grossProfit", "desc").slice(0, 5));
    expect(page.rows.map((row) => row.grossProfitMinor)).toEqual([1800, 1800, 1800, 1800, 1500]);
  });
});

describe("parseListParams: the table's state in the URL", () => {
  it("reads sort, direction, filters (money in major units, chance of ordering in percent), search and a matching cursor", () => {
    const cursor = encodeCursor({ sort: "predictedClv", direction: "asc", value: "1250", id: "42" });
    const params = new URLSearchParams({
      sort: "predictedClv",
      dir: "asc",
      after: cursor,
      segment: "at-risk",
      behaviour: "vip",
      minClv: "12.50",
      chanceMin: "20",
      chanceMax: "80",
      q: "  ada@ ",
      pageSize: "25",
    });
    const { query, problems } = parseListParams(params, "USD");
    expect(problems).toEqual([]);
    expect(query).toEqual({
      sort: "predictedClv",
      direction: "asc",
      after: { sort: "predictedClv", direction: "asc", value: "1250", id: "42" },
      segment: "at-risk",
      behaviour: "vip",
      minPredictedClvMinor: 1250,
      chanceMin: 0.2,
      chanceMax: 0.8,
      search: "ada@",
      pageSize: 25,
    });
    expect(parseListParams(new URLSearchParams({ minClv: "1500" }), "JPY").query.minPredictedClvMinor).toBe(1500);
  });

  it("drops what is wrong, saying what to do, and keeps the rest", () => {
    const params = new URLSearchParams({
      sort: "shoeSize",
      dir: "sideways",
      after: "garbage",
      segment: "royalty",
      behaviour: "night-owl",
      minClv: "12.345",
      chanceMin: "150",
      q: "x".repeat(300),
      pageSize: "100000",
    });
    const { query, problems } = parseListParams(params, "USD");
    expect(query).toEqual({ sort: "netSpent", direction: "desc", pageSize: 50 });
    expect(problems.join("\n")).toMatch(/Unknown sort "shoeSize"/);
    expect(problems.join("\n")).toMatch(/use asc or desc/);
    expect(problems.join("\n")).toMatch(/first page/);
    expect(problems.join("\n")).toMatch(/no RFM segment "royalty"/);
    expect(problems.join("\n")).toMatch(/no behavioural segment "night-owl"/);
    expect(problems.join("\n")).toMatch(/Minimum expected spend.*more decimals/);
    expect(problems.join("\n")).toMatch(/Chance of ordering from must be a percentage from 0 to 100/);
    expect(problems.join("\n")).toMatch(/Search text is at most 255 characters/);
  });

  it("drops a cursor made for another sort (a stale link after the sort changed)", () => {
    const cursor = encodeCursor({ sort: "chance90d", direction: "desc", value: 0.5, id: "1" });
    const { query, problems } = parseListParams(new URLSearchParams({ sort: "netSpent", after: cursor }), "USD");
    expect(query.after).toBeUndefined();
    expect(problems).toHaveLength(1);
  });

  it("decodes only well-formed cursors", () => {
    for (const sort of SORT_KEYS) {
      const value = sort === "lastOrder" ? "2026-01-02" : sort === "chance90d" ? 0.123456789 : sort === "orders" ? 3 : "123456789012345678";
      const cursor = { sort, direction: "asc" as const, value, id: "9007199254740993" };
      expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
      expect(decodeCursor(encodeCursor({ ...cursor, position: 50 }))).toEqual({ ...cursor, position: 50 });
    }
    expect(decodeCursor(Buffer.from(JSON.stringify(["netSpent", "asc", "1", "1", -1])).toString("base64url"))).toBeNull();
    expect(decodeCursor(encodeCursor({ sort: "netSpent", direction: "asc", value: null, id: "1" }))).toBeNull();
    expect(decodeCursor(Buffer.from(JSON.stringify(["netSpent", "asc", "1; DROP TABLE", "1"])).toString("base64url"))).toBeNull();
    expect(decodeCursor("%%%")).toBeNull();
  });
});

describe("the count of a view the refit counted far above the cap (issue 17)", () => {
  it("shows the refit's count of one behaviour or one first-order value alone instead of counting live, and counts live otherwise", async () => {
    const shop = uniqueShop("stored-counts");
    // Sixty live customers with the behaviour (more than a page); the refit's rows say far more (a large shop's counts, as stored).
    await writeMetrics(shop, Array.from({ length: 60 }, (_, index) => index + 1).map((id) => metricsRow(id, { behaviours: ["vip"], firstOrderDay: 20_432 /* 2025-12-10 */ })));
    await replaceShopAggregates(
      testPool(),
      shop,
      { asOfDay: 20_777, modelVersion: null, computedAt: new Date("2026-11-20T03:00:00Z") },
      [
        ["segments", { currency: "USD", asOfIso: "2026-11-20", customers: 900_000, netSpentMinor: 0, rows: [{ kind: "behaviour", key: "vip", customers: 25_000 }] }],
        [
          "drivers",
          {
            currency: "USD",
            asOfIso: "2026-11-20",
            tables: [
              { key: "firstOrderMonth", rows: [{ label: "December", filterValue: "December", kind: "value", customers: 30_000 }] },
              { key: "discountCode", rows: [{ label: "No code", filterValue: "", kind: "none", customers: 15_000 }, { label: "Other", filterValue: null, kind: "other", customers: 90_000 }] },
            ],
          },
        ],
      ],
      [],
    );
    const view = async (params: Record<string, string>) => {
      const { query, problems } = parseListParams(new URLSearchParams(params), "USD");
      expect(problems).toEqual([]);
      const page = await listCustomers(testPool(), shop, query);
      return { total: page.total, asOf: page.totalAsOfIso ?? null, rows: page.rows.length };
    };
    expect(await view({ behaviour: "vip" })).toEqual({ total: 25_000, asOf: "2026-11-20", rows: 50 });
    expect(await view({ acquiredBy: "firstOrderMonth", acquiredValue: "12" })).toEqual({ total: 30_000, asOf: "2026-11-20", rows: 50 });
    // At most twice the cap: live changes could bring it under, so it is counted live (no orders stored here: none).
    expect(await view({ acquiredBy: "discountCode", acquiredValue: "" })).toEqual({ total: 0, asOf: null, rows: 0 });
    // Another filter beside it: counted live.
    expect(await view({ behaviour: "vip", chanceMax: "50" })).toEqual({ total: 0, asOf: null, rows: 0 });
    expect(await view({ behaviour: "vip", acquiredBy: "firstOrderMonth", acquiredValue: "12" })).toEqual({ total: 60, asOf: null, rows: 50 });
  });
});
