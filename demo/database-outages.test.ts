import { isDatabaseUnavailable } from "./database-outages.server";

describe("isDatabaseUnavailable", () => {
  it("reads Prisma's raw-query error for a connection the server closed as an outage", () => {
    // What prisma.$queryRaw throws when PostgreSQL stops under it (seen in tests/demo/demo-outage.test.ts).
    const error = Object.assign(new Error("\nInvalid `prisma.$queryRaw()` invocation:\n\n\nRaw query failed. Code: `N/A`. Message: `Server has closed the connection.`"), { code: "P2010" });
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it("does not take a wrong query for an outage", () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('relation "Nope" does not exist'), { code: "42P01" }))).toBe(false);
  });
});
