import { Badge, DataTable, Text } from "@shopify/polaris";
import { count, MISSING, money, ratio } from "~/display/format";
import type { CohortsPageData } from "~/pages/cohorts";
import { HelpLabel, TermText } from "../HelpLabel";

// LTV per customer at 30/60/90/180/365 days after the first order: all cohorts pooled,
// then each cohort; with LTV:CAC beside each figure when a CAC is set.

export function LtvTable({ page }: { page: CohortsPageData }) {
  const { ltv, cohorts, horizonsDays, currency, cacMinor } = page;
  if (!ltv) return null;
  const withCac = cacMinor !== null;
  const cell = (value: number | null, toCac: number | null) =>
    value === null ? MISSING : withCac && toCac !== null ? `${money(value, currency)} (${ratio(toCac)}×)` : money(value, currency);
  const rows = [
    [
      <Text as="span" fontWeight="semibold" key="all">
        All cohorts
      </Text>,
      count(page.totals?.customers ?? null),
      ...ltv.atDays.map((point) => cell(point.value, point.ltvToCac)),
      payback(ltv.paybackMonth, withCac),
    ],
    ...[...cohorts].reverse().map((row) => [
      <span key={row.month}>
        {row.month}{" "}
        {row.small && (
          <Badge tone="attention" size="small">
            Small
          </Badge>
        )}
      </span>,
      count(row.size),
      ...row.ltvAtDays.map((value, h) => cell(value, row.ltvToCacAtDays[h] ?? null)),
      payback(row.paybackMonth, withCac),
    ]),
  ];
  return (
    <DataTable
      columnContentTypes={["text", "numeric", ...horizonsDays.map(() => "numeric" as const), "text"]}
      headings={[
        <HelpLabel key="first" term="first-order" />,
        <HelpLabel key="customers" term="customers" />,
        // One help for the day columns, on the first: they mean the same, day count by day count.
        ...horizonsDays.map((days, index) =>
          index === 0 ? <HelpLabel key={days} term="cohort-ltv" label={`${days} days`} /> : <TermText key={days} term="cohort-ltv" label={`${days} days`} />,
        ),
        <HelpLabel key="payback" term="payback" />,
      ]}
      rows={rows}
      stickyHeader
      truncate
    />
  );
}

function payback(month: number | null, withCac: boolean): string {
  if (!withCac) return MISSING;
  if (month === null) return "Not yet";
  return month === 0 ? "Month 0" : `Month ${month}`;
}
