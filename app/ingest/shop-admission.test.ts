import { DROP_REASONS, UnknownShopDrops, dropReason } from "./shop-admission.server";

describe("dropReason", () => {
  it("applies nothing for a redacted or never-installed shop, and only compliance and app topics for an uninstalled one", () => {
    expect(dropReason("installed", "orders/create")).toBeNull();
    expect(dropReason("redacted", "shop/redact")).toBe(DROP_REASONS.redacted);
    expect(dropReason("unknown", "customers/redact")).toBe(DROP_REASONS.unknown);
    for (const topic of ["orders/create", "orders/delete", "refunds/create", "customers/update", "customers/delete", "bulk_operations/finish"]) {
      expect(dropReason("uninstalled", topic), topic).toBe(DROP_REASONS.uninstalled);
    }
    for (const topic of ["customers/data_request", "customers/redact", "shop/redact", "app/uninstalled", "app/scopes_update"]) {
      expect(dropReason("uninstalled", topic), topic).toBeNull();
    }
  });
});

describe("UnknownShopDrops", () => {
  it("logs at most once a minute, with how many since the last line", () => {
    let clock = 100_000;
    const lines: string[] = [];
    const drops = new UnknownShopDrops((line) => lines.push(line), () => clock);
    drops.record("a.myshopify.com", "orders/create");
    for (let n = 0; n < 500; n++) drops.record(`random-${n}.myshopify.com`, "orders/create");
    clock += 59_999;
    drops.record("b.myshopify.com", "orders/create");
    expect(lines).toHaveLength(1);
    clock += 1;
    drops.record("c.myshopify.com", "customers/update");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(
      "tenure: acknowledged and dropped 502 webhook deliveries for shops never installed (e.g. orders/create for random-0.myshopify.com); 503 since start",
    );
    expect(drops.total).toBe(503);
  });
});
