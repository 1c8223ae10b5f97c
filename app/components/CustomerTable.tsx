import { Form, useLocation, useNavigate, useSearchParams } from "@remix-run/react";
import {
  Badge,
  BlockStack,
  Box,
  Button,
  Card,
  IndexTable,
  InlineStack,
  Layout,
  Link,
  Pagination,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import { useState } from "react";
import { BEHAVIOURAL_SEGMENT_KEYS } from "~/analytics/behaviour";
import { count, isoDay, money, percent } from "~/display/format";
import { expectedSpendLabel, withBasis } from "~/display/glossary";
import { RFM_SEGMENT_KEYS, segmentName } from "~/display/segment-names";
import { channelName } from "~/display/channel-names";
import { ACQUIRED_DIMENSIONS, type AcquiredDimension, type CustomerListRow, acquiredText, pagerText } from "~/pages/customer-list";
import { inBasis, labelBasis, type PageMoneyBasis } from "~/pages/money-basis";
import { GlossaryLinks, termHeading } from "./HelpLabel";
import { NumericCell } from "./NumericCell";
import { ProblemsBanner, useReloadingPage } from "./states";

// The customer IndexTable: sorting, filters and pages are URL search parameters read by the
// loader (server-side keyset pages, app/pages/customer-list.server.ts), so every view is a
// link and a million customers page as fast as a hundred.

/** A row as the table shows it. */
export type CustomerTableRow = CustomerListRow;

export type TableSortKey = "netSpent" | "predictedClv" | "chance90d" | "lastOrder" | "orders" | "grossProfit";

export interface CustomerTableProps {
  /** The table's heading (and accessible caption), e.g. "Customers in Champions". */
  caption: string;
  rows: CustomerTableRow[];
  currency: string;
  sort: TableSortKey;
  direction: "asc" | "desc";
  next: string | null;
  previous: string | null;
  /** Place of the first row (0 first) and the view's total, for the pager ("51–65 of 65"). */
  firstPosition: number | null;
  total: number | null;
  /** The refit's day when `total` is its count (a view too large to count on each load). */
  totalAsOfIso?: string;
  /** Settings' horizon, named in the expected spend column. */
  horizonDays: number;
  /** The page's money basis: every amount in the table is in it. */
  basis: PageMoneyBasis;
  /** Filters the page offers (a segment page fixes its own segment and hides that filter). */
  filters: { segment: boolean; behaviour: boolean };
  /** The active filters, to fill the form. */
  active: {
    segment?: string | null;
    behaviour?: string | null;
    minClv?: string | null;
    chanceMin?: string | null;
    chanceMax?: string | null;
    q?: string | null;
    nextOrderFrom?: string | null;
    nextOrderTo?: string | null;
    /** The acquisition drivers' filter: customers whose first order had this value ("" none). */
    acquiredBy?: string | null;
    acquiredValue?: string | null;
  };
  hasPredictions: boolean;
}

interface Column {
  term: string;
  label: string;
  sort?: TableSortKey;
  end?: boolean;
}

/** Whether the table shows each customer's gross profit: the shop's product costs are known (issue 17). */
function withProfit(basis: PageMoneyBasis): boolean {
  return basis.marginSource === "costs";
}

/** Columns in display order, named with their horizon and money basis; sortable ones name their sort key. */
function columnsOf(horizonDays: number, basis: PageMoneyBasis): Column[] {
  const money = labelBasis(basis);
  return [
    { term: "customers", label: "Customer" },
    { term: "rfm", label: "Segment" },
    { term: "orders", label: "Orders", sort: "orders", end: true },
    { term: "spent-to-date", label: withBasis("Spent to date", money), sort: "netSpent", end: true },
    { term: "expected-spend", label: withBasis(expectedSpendLabel(horizonDays), money), sort: "predictedClv", end: true },
    // Spent to date + expected spend, added here: shown, not sortable (a sort needs an index, and each costs the refit).
    { term: "lifetime-value", label: withBasis("Lifetime value", money), end: true },
    // Only where product costs are known: without them it would be revenue x a margin, which the basis already shows.
    ...(withProfit(basis) ? [{ term: "gross-profit-to-date", label: "Gross profit to date", sort: "grossProfit" as const, end: true }] : []),
    { term: "chance-of-ordering-90d", label: "Chance of ordering, next 90 days", sort: "chance90d", end: true },
    { term: "last-order", label: "Last order", sort: "lastOrder", end: true },
    { term: "expected-next-order", label: "Expected next order", end: true },
  ];
}

export function CustomerTable(props: CustomerTableProps) {
  const { rows, currency, sort, direction, next, previous, filters, active, total, caption, hasPredictions, horizonDays, basis } = props;
  const COLUMNS = columnsOf(horizonDays, basis);
  const [searchParams] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const loading = useReloadingPage();

  /** The current URL with some parameters changed; a new sort or filter starts from the first page. */
  const urlWith = (changes: Record<string, string | null>, keepCursor = false) => {
    const params = new URLSearchParams(searchParams);
    if (!keepCursor) {
      params.delete("after");
      params.delete("before");
    }
    for (const [name, value] of Object.entries(changes)) {
      if (value === null || value === "") params.delete(name);
      else params.set(name, value);
    }
    const text = params.toString();
    return `${location.pathname}${text ? `?${text}` : ""}`;
  };

  const sortColumnIndex = COLUMNS.findIndex((column) => column.sort === sort);
  const headingId = `customer-table-${caption.replace(/\W+/g, "-").toLowerCase()}`;

  return (
    <Card padding="0">
      <section aria-labelledby={headingId}>
        <Box padding="400">
          <BlockStack gap="300">
            <InlineStack align="space-between" blockAlign="center">
              <Text as="h2" variant="headingMd" id={headingId}>
                {caption}
              </Text>
              {total != null && (
                <Text as="p" tone="subdued">
                  {count(total)} {total === 1 ? "customer" : "customers"}
                  {props.totalAsOfIso && ` (counted ${isoDay(props.totalAsOfIso)})`}
                </Text>
              )}
            </InlineStack>
            <FilterForm
              filters={filters}
              active={active}
              sort={sort}
              direction={direction}
              currency={currency}
              hasPredictions={hasPredictions}
              expectedSpendLabel={withBasis(expectedSpendLabel(horizonDays), labelBasis(basis))}
              clearUrl={urlWith({
                behaviour: null,
                segment: filters.segment ? null : active.segment ?? null,
                minClv: null,
                chanceMin: null,
                chanceMax: null,
                q: null,
                nextOrderFrom: null,
                nextOrderTo: null,
                acquiredBy: null,
                acquiredValue: null,
              })}
            />
            {acquiredOf(active) && (
              <InlineStack gap="200" blockAlign="center">
                <Text as="p">{acquiredText(acquiredOf(active)!.dimension, acquiredOf(active)!.value, channelName)}</Text>
                <Link url={urlWith({ acquiredBy: null, acquiredValue: null })}>Show every first order</Link>
              </InlineStack>
            )}
          </BlockStack>
        </Box>
        <IndexTable
          resourceName={{ singular: "customer", plural: "customers" }}
          itemCount={rows.length}
          selectable={false}
          loading={loading}
          headings={COLUMNS.map((column) => ({ ...termHeading(column.term, column.label), alignment: column.end ? ("end" as const) : undefined })) as never}
          sortable={COLUMNS.map((column) => column.sort !== undefined)}
          sortColumnIndex={sortColumnIndex}
          sortDirection={direction === "asc" ? "ascending" : "descending"}
          defaultSortDirection="descending"
          onSort={(index, newDirection) => {
            const key = COLUMNS[index]?.sort;
            if (!key) return;
            navigate(urlWith({ sort: key, dir: newDirection === "ascending" ? "asc" : "desc" }));
          }}
          emptyState={
            <Box padding="600">
              <BlockStack gap="200" inlineAlign="center">
                <Text as="p" variant="headingSm">
                  No customers match
                </Text>
                <Text as="p" tone="subdued">
                  Widen or clear the filters to see more customers.
                </Text>
              </BlockStack>
            </Box>
          }
        >
          {rows.map((row, index) => (
            <IndexTable.Row id={row.id} key={row.id} position={index}>
              <IndexTable.Cell>
                <BlockStack gap="050">
                  <Link url={`/app/customers/${row.id}`} removeUnderline>
                    <Text as="span" fontWeight="semibold">
                      {row.name}
                    </Text>
                  </Link>
                  {row.email && row.email !== row.name && (
                    <Text as="span" variant="bodySm" tone="subdued">
                      {row.email}
                    </Text>
                  )}
                </BlockStack>
              </IndexTable.Cell>
              <IndexTable.Cell>
                {row.segment ? <Badge>{row.segmentName}</Badge> : <Text as="span" tone="subdued">Not scored</Text>}
              </IndexTable.Cell>
              <NumericCell>{count(row.orders)}</NumericCell>
              <NumericCell>{money(inBasis(row.netSpentMinor, basis), currency)}</NumericCell>
              <NumericCell>{money(inBasis(row.predictedClvMinor, basis), currency)}</NumericCell>
              <NumericCell>{money(row.predictedClvMinor === null ? null : inBasis(row.netSpentMinor + row.predictedClvMinor, basis), currency)}</NumericCell>
              {withProfit(basis) && <NumericCell>{money(row.grossProfitMinor, currency)}</NumericCell>}
              <NumericCell>{percent(row.chanceOfOrder90d, 0)}</NumericCell>
              <NumericCell>{isoDay(row.lastOrderIso)}</NumericCell>
              <NumericCell>{isoDay(row.expectedNextOrderIso)}</NumericCell>
            </IndexTable.Row>
          ))}
        </IndexTable>
        <Box padding="400">
          <InlineStack align="center">
            <Pagination
              hasPrevious={previous !== null}
              previousURL={previous ? urlWith({ before: previous, after: null }, true) : undefined}
              previousTooltip="Previous page"
              hasNext={next !== null}
              nextURL={next ? urlWith({ after: next, before: null }, true) : undefined}
              nextTooltip="Next page"
              accessibilityLabels={{ previous: "Previous page of customers", next: "Next page of customers" }}
              label={pagerText({ rows, firstPosition: props.firstPosition, total })}
            />
          </InlineStack>
        </Box>
        <Box paddingInline="400" paddingBlockEnd="400">
          <GlossaryLinks terms={COLUMNS.map((column) => column.term)} />
        </Box>
      </section>
    </Card>
  );
}

/** The table's layout section, after a banner on what in the page's link was not used (when anything was not). */
export function CustomerTableSections({
  problems,
  page,
  ...table
}: Omit<CustomerTableProps, "rows" | "next" | "previous" | "firstPosition" | "total" | "totalAsOfIso"> & {
  problems: string[];
  page: { rows: CustomerTableRow[]; next: string | null; previous: string | null; firstPosition: number | null; total: number | null; totalAsOfIso?: string };
}) {
  return (
    <>
      {problems.length > 0 && (
        <Layout.Section>
          <ProblemsBanner problems={problems} />
        </Layout.Section>
      )}
      <Layout.Section>
        <CustomerTable {...table} rows={page.rows} next={page.next} previous={page.previous} firstPosition={page.firstPosition} total={page.total} totalAsOfIso={page.totalAsOfIso} />
      </Layout.Section>
    </>
  );
}

interface FilterFormProps {
  filters: CustomerTableProps["filters"];
  active: CustomerTableProps["active"];
  sort: TableSortKey;
  direction: "asc" | "desc";
  currency: string;
  hasPredictions: boolean;
  expectedSpendLabel: string;
  clearUrl: string;
}

/** The active first-order filter, when the URL's is one the table applies. */
function acquiredOf(active: CustomerTableProps["active"]): { dimension: AcquiredDimension; value: string } | null {
  const by = active.acquiredBy;
  return by && (ACQUIRED_DIMENSIONS as readonly string[]).includes(by) ? { dimension: by as AcquiredDimension, value: active.acquiredValue ?? "" } : null;
}

function FilterForm(props: FilterFormProps) {
  // Controlled fields, reset when the URL's values change (a link, back button).
  return <FilterFields key={JSON.stringify(props.active)} {...props} />;
}

function FilterFields({
  filters,
  active,
  sort,
  direction,
  currency,
  hasPredictions,
  expectedSpendLabel: spendLabel,
  clearUrl,
}: FilterFormProps) {
  const [segment, setSegment] = useState(active.segment ?? "");
  const [behaviour, setBehaviour] = useState(active.behaviour ?? "");
  const [minClv, setMinClv] = useState(active.minClv ?? "");
  const [chanceMin, setChanceMin] = useState(active.chanceMin ?? "");
  const [chanceMax, setChanceMax] = useState(active.chanceMax ?? "");
  const [search, setSearch] = useState(active.q ?? "");
  const [nextOrderFrom, setNextOrderFrom] = useState(active.nextOrderFrom ?? "");
  const [nextOrderTo, setNextOrderTo] = useState(active.nextOrderTo ?? "");
  const anyActive = Boolean(
    active.behaviour || active.minClv || active.chanceMin || active.chanceMax || active.q || active.nextOrderFrom || active.nextOrderTo || active.acquiredBy || (filters.segment && active.segment),
  );
  const navigate = useNavigate();
  const location = useLocation();
  const [searchParams] = useSearchParams();
  // Without JavaScript the form submits as a plain GET; with it, empty fields stay out of the URL.
  const submit = (event: React.FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(event.currentTarget)) {
      // acquiredValue "" is a value (no code): kept whenever its dimension is.
      if (typeof value === "string" && (value.trim() !== "" || name === "acquiredValue")) params.set(name, value.trim());
    }
    navigate(`${location.pathname}?${params}`);
  };
  return (
    <Form method="get" aria-label="Filter customers" onSubmit={submit}>
      <input type="hidden" name="sort" value={sort} />
      <input type="hidden" name="dir" value={direction} />
      {!filters.segment && active.segment && <input type="hidden" name="segment" value={active.segment} />}
      {/* The page's money basis stays when the filters change (the minimum below is in it). */}
      {searchParams.get("basis") && <input type="hidden" name="basis" value={searchParams.get("basis") ?? ""} />}
      {/* The acquisition drivers' first-order filter stays while the others change. */}
      {active.acquiredBy && (
        <>
          <input type="hidden" name="acquiredBy" value={active.acquiredBy} />
          <input type="hidden" name="acquiredValue" value={active.acquiredValue ?? ""} />
        </>
      )}
      <InlineStack gap="300" blockAlign="end" wrap>
        <div style={{ width: "14rem" }}>
          <TextField
            label="Search by name or email"
            name="q"
            value={search}
            onChange={setSearch}
            autoComplete="off"
            helpText="The start of a name, last name or email"
          />
        </div>
        {(
          [
            [filters.segment, "RFM segment", "segment", segment, setSegment, "Any segment", RFM_SEGMENT_KEYS],
            [filters.behaviour, "Behaviour", "behaviour", behaviour, setBehaviour, "Any behaviour", BEHAVIOURAL_SEGMENT_KEYS],
          ] as const
        ).map(
          ([shown, label, name, value, onChange, any, keys]) =>
            shown && (
              <Select
                key={name}
                label={label}
                name={name}
                value={value}
                onChange={onChange}
                options={[{ label: any, value: "" }, ...keys.map((key) => ({ label: segmentName(key), value: key }))]}
              />
            ),
        )}
        <div style={{ width: "11rem" }}>
          <TextField
            label={`${spendLabel} at least (${currency})`}
            name="minClv"
            value={minClv}
            onChange={setMinClv}
            autoComplete="off"
            inputMode="decimal"
            disabled={!hasPredictions}
            helpText={hasPredictions ? undefined : "No predictions yet"}
          />
        </div>
        {(
          [
            ["Chance of ordering, next 90 days, from %", "chanceMin", chanceMin, setChanceMin],
            ["Chance of ordering, next 90 days, to %", "chanceMax", chanceMax, setChanceMax],
          ] as const
        ).map(([label, name, value, onChange]) => (
          <div key={name} style={{ width: "12rem" }}>
            <TextField label={label} name={name} type="number" min={0} max={100} value={value} onChange={onChange} autoComplete="off" disabled={!hasPredictions} />
          </div>
        ))}
        {(
          [
            ["Expected next order from", "nextOrderFrom", nextOrderFrom, setNextOrderFrom],
            ["Expected next order to", "nextOrderTo", nextOrderTo, setNextOrderTo],
          ] as const
        ).map(([label, name, value, onChange]) => (
          <div key={name} style={{ width: "11rem" }}>
            <TextField label={label} name={name} type="date" value={value} onChange={onChange} autoComplete="off" disabled={!hasPredictions} />
          </div>
        ))}
        <Button submit variant="primary">
          Apply filters
        </Button>
        {anyActive && <Button url={clearUrl}>Clear filters</Button>}
      </InlineStack>
    </Form>
  );
}
