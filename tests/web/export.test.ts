import http from "node:http";
import { parse } from "csv-parse/sync";
import { installShop, testPool, uniqueShop } from "../support/db";
import { metricsRow, writeMetrics } from "../support/customer-metrics-rows";
import { type ProductionBuild, productionBuild } from "../support/production-server";
import { waitFor } from "../support/wait-for";

// The export over real HTTP (issue 14, docs/exports.md): the production build served by
// server.mjs in demo mode. A whole file arrives; a client that stops reading holds the
// server's COPY waiting rather than the file in memory; a client that goes away mid-file
// gets its COPY ended and its pool client back (the loader tests cover the same at the
// loader: tests/pages/export.test.ts).

const shop = uniqueShop("export-web");
const CUSTOMERS = 40_000;
let build: ProductionBuild;
let baseUrl = "";

beforeAll(async () => {
  await installShop(shop);
  await testPool().query(
    `INSERT INTO "Customer" (shop, id, email, "firstName", "lastName", "shopifyUpdatedAt", "emailConsentState")
     SELECT $1, g, 'customer' || g || '@example.com', 'Name, "quoted" ' || g, 'Фамилия ' || g, now(), 'SUBSCRIBED' FROM generate_series(1, $2::int) AS g`,
    [shop, CUSTOMERS],
  );
  await writeMetrics(shop, Array.from({ length: CUSTOMERS }, (_, index) => metricsRow(index + 1, { segment: "champions" })));
  build = await productionBuild("export");
  ({ baseUrl } = await build.serve({ TENURE_DEMO_MODE: "true", TENURE_DEMO_SHOP: shop }));
}, 240_000);

afterAll(() => build?.close());

/** The server's backends running an export's COPY (tenure_export in its text), blocked while the client does not read. */
async function runningExportCopies(): Promise<number> {
  const result = await testPool().query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%tenure_export%' AND state <> 'idle'`,
  );
  return result.rows[0].n;
}

describe("an export over HTTP", () => {
  it("sends the whole segment as an attachment that reads back", async () => {
    const response = await fetch(`${baseUrl}/app/segments/champions/export.csv?preset=tenure`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("Content-Disposition")).toMatch(/^attachment; filename=".+-Champions-\d{4}-\d{2}-\d{2}\.csv"/);
    const rows = parse(await response.text(), { bom: true }) as string[][];
    expect(rows).toHaveLength(CUSTOMERS + 1);
    expect(rows[1].slice(0, 4)).toEqual(["1", "customer1@example.com", 'Name, "quoted" 1', "Фамилия 1"]);
  });

  it("ends its COPY when the client goes away mid-file (the client stops reading first, so the server waits mid-file)", async () => {
    // A file larger than the loopback's socket buffers can hold (the receiver's grows to
    // tcp_rmem's maximum, 32 MB here, while the client does not read): a smaller one is all
    // in flight before the COPY is looked for, which has then already ended.
    await testPool().query(`UPDATE "Customer" SET "lastName" = "lastName" || repeat(' Ω', 700) WHERE shop = $1`, [shop]);
    await new Promise<void>((resolve, reject) => {
      const request = http.get(`${baseUrl}/app/customers/export.csv?preset=klaviyo&consent=all`, { headers: { "Accept-Encoding": "identity" } }, (response) => {
        response.once("data", () => {
          // Stop reading: the socket fills and the server's COPY waits.
          response.pause();
          waitFor(async () => (await runningExportCopies()) > 0, 20_000, "the export's COPY running while the client waits")
            .then(() => {
              request.destroy();
              resolve();
            })
            .catch(reject);
        });
      });
      request.on("error", () => undefined); // destroyed on purpose
    });
    await waitFor(async () => (await runningExportCopies()) === 0, 20_000, "the export's COPY ended after the client went away");
  });
});
