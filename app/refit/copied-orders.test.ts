import { Col, CopiedOrdersReader, type CopiedRow } from "./copied-orders";

// COPY's text rows read from bytes give the values pg's row parser gave the refit (Number() of
// a bigint, null -> 0; booleans; text with COPY's escapes undone), whatever the chunking.

interface Read {
  id: string;
  newCustomer: boolean;
  day: number;
  net: number;
  discounted: boolean | null;
  texts: (string | null)[];
  voided: boolean | null;
  costed: number;
  uncosted: number;
}

const readAll = (chunks: Buffer[]): Read[] => {
  const rows: Read[] = [];
  const reader = new CopiedOrdersReader((row: CopiedRow) =>
    rows.push({
      id: row.customerId,
      newCustomer: row.newCustomer,
      day: row.number(Col.Day),
      net: row.number(Col.Net),
      discounted: row.boolean(Col.Discounted),
      texts: [row.text(Col.Channel), row.text(Col.FirstProduct), row.text(Col.FirstDiscountCode), row.text(Col.MarketingSource)],
      voided: row.boolean(Col.Voided),
      costed: row.number(Col.CostedProfit),
      uncosted: row.number(Col.UncostedNet),
    }),
  );
  for (const chunk of chunks) reader.push(chunk);
  reader.end();
  return rows;
};

const lines = [
  "17\t20000\t1250\tt\tweb\tMug \\\\ \\t tab\tSUMMER\tf\t-300\t0\tgoogle",
  "17\t20001\t0\tf\t\\N\t\\N\t\\N\t\\N\t\\N\t12\t\\N",
  "9007199254740993\t-5\t123456789012345678\tf\tpos\tCafé ☕ \\n line\t\tt\t7\t8\t",
].map((line) => `${line}\n`);
const expected: Read[] = [
  { id: "17", newCustomer: true, day: 20000, net: 1250, discounted: true, texts: ["web", "Mug \\ \t tab", "SUMMER", "google"], voided: false, costed: -300, uncosted: 0 },
  { id: "17", newCustomer: false, day: 20001, net: 0, discounted: false, texts: [null, null, null, null], voided: null, costed: 0, uncosted: 12 },
  {
    id: "9007199254740993",
    newCustomer: true,
    day: -5,
    net: Number(BigInt("123456789012345678")),
    discounted: false,
    texts: ["pos", "Café ☕ \n line", "", ""],
    voided: true,
    costed: 7,
    uncosted: 8,
  },
];

test("rows read from whole lines", () => {
  expect(readAll([Buffer.from(lines.join(""))])).toEqual(expected);
});

test("the same rows whatever the chunks (split inside fields, escapes and multi-byte characters)", () => {
  const bytes = Buffer.from(lines.join(""));
  for (let split = 1; split < bytes.length; split++) {
    expect(readAll([bytes.subarray(0, split), bytes.subarray(split)])).toEqual(expected);
  }
  expect(readAll([...bytes].map((byte) => Buffer.from([byte])))).toEqual(expected);
});

test("a row with the wrong number of fields, or a last row without its newline, is an error", () => {
  expect(() => readAll([Buffer.from("17\t1\t2\n")])).toThrow(/does not have 11 fields/);
  expect(() => readAll([Buffer.from(`${lines[0]}${lines[1].slice(0, -1)}`)])).toThrow(/ended inside a row/);
});
