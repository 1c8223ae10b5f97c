import { fixtureText } from "../../tests/support/webhook-fixtures";
import { classifyBody } from "./intake.server";
import { mapOrderPayload } from "./mappers";

// Ids at the boundary (issue 12, findings 5 and 9): a JSON-number id above 2^53 is read
// exactly from the object's GraphQL id; an id beyond PostgreSQL's bigint fails its
// delivery at the intake, once, instead of failing in PostgreSQL on every retry.

const BIG = "9007199254740993"; // 2^53 + 1: as a JSON number it reads as 9007199254740992
const orderText = (id: string, gidDigits: string) =>
  fixtureText("orders-create")
    .replace(/"id":\s*6123456789012\b/, `"id": ${id}`)
    .replace(/gid:\/\/shopify\/Order\/6123456789012/, `gid://shopify/Order/${gidDigits}`);

describe("order ids above 2^53 and beyond 64 bits", () => {
  it("takes a JSON-number id above 2^53 from its GraphQL id, exactly", () => {
    const text = orderText(BIG, BIG);
    expect(classifyBody("orders/create", text)).toMatchObject({ status: "PENDING", error: null });
    expect(mapOrderPayload(JSON.parse(text), "orders/create").order.id).toBe(BigInt(BIG));
  });

  it("stores FAILED, with the reason, an id beyond a 64-bit integer", () => {
    const verdict = classifyBody("orders/create", orderText('"99999999999999999999"', "99999999999999999999"));
    expect(verdict.status).toBe("FAILED");
    expect(verdict.error).toMatch(/id: .*beyond a 64-bit id/);
  });
});
