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
import { RFM_SEGMENT_KEYS, segmentName } from "~/display/segment-names";
import { type CustomerListRow } from "~/pages/customer-list";
import { NumericCell } from "./NumericCell";
import { ProblemsBanner, useReloadingPage } from "./states";

// The customer IndexTable: sorting, filters and pages are URL search parameters read by the
// loader (server-side keyset pages, app/pages/customer-list.server.ts), so every view is a
// link and a million customers page as fast as a hundred.

/** A row as the table shows it: the list's row less the column it does not show. */
export type CustomerTableRow = Omit<CustomerListRow, "expectedNextOrderIso">;

export type TableSortKey = "netSpent" | "predictedClv" | "pAlive" | "lastOrder" | "orders";

export interface CustomerTableProps {
  /** The table's heading (and accessible caption), e.g. "Customers in Champions". */
  caption: string;
  rows: CustomerTableRow[];
  currency: string;
  sort: TableSortKey;
  direction: "asc" | "desc";
  next: string | null;
  previous: string | null;
  /** Filters the page offers (a segment page fixes its own segment and hides that filter). */
  filters: { segment: boolean; behaviour: boolean };
  /** The active filters, to fill the form. */
  active: { segment?: string | null; behaviour?: string | null; minClv?: string | null; pAliveMin?: string | null; pAliveMax?: string | null };
  /** Total customers when known without counting (e.g. the segment's size from the aggregate). */
  total?: number | null;
  hasPredictions: boolean;
}

/** Columns in display order; sortable ones name their sort key. */
const COLUMNS: { title: string; sort?: TableSortKey; end?: boolean }[] = [
  { title: "Customer" },
  { title: "Segment" },
  { title: "Orders", sort: "orders", end: true },
  { title: "Net spent", sort: "netSpent", end: true },
  { title: "Predicted CLV", sort: "predictedClv", end: true },
  { title: "P(alive)", sort: "pAlive", end: true },
  { title: "Last order", sort: "lastOrder", end: true },
];

export function CustomerTable(props: CustomerTableProps) {
  const { rows, currency, sort, direction, next, previous, filters, active, total, caption, hasPredictions } = props;
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
                </Text>
              )}
            </InlineStack>
            <FilterForm filters={filters} active={active} sort={sort} direction={direction} currency={currency} hasPredictions={hasPredictions} clearUrl={urlWith({ behaviour: null, segment: filters.segment ? null : active.segment ?? null, minClv: null, pAliveMin: null, pAliveMax: null })} />
          </BlockStack>
        </Box>
        <IndexTable
          resourceName={{ singular: "customer", plural: "customers" }}
          itemCount={rows.length}
          selectable={false}
          loading={loading}
          headings={COLUMNS.map((column) => ({ title: column.title, alignment: column.end ? ("end" as const) : undefined })) as never}
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
              <NumericCell>{money(row.netSpentMinor, currency)}</NumericCell>
              <NumericCell>{money(row.predictedClvMinor, currency)}</NumericCell>
              <NumericCell>{percent(row.pAlive, 0)}</NumericCell>
              <NumericCell>{isoDay(row.lastOrderIso)}</NumericCell>
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
              label={rows.length > 0 ? `${count(rows.length)} customers on this page` : "No customers"}
            />
          </InlineStack>
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
}: Omit<CustomerTableProps, "rows" | "next" | "previous"> & { problems: string[]; page: { rows: CustomerTableRow[]; next: string | null; previous: string | null } }) {
  return (
    <>
      {problems.length > 0 && (
        <Layout.Section>
          <ProblemsBanner problems={problems} />
        </Layout.Section>
      )}
      <Layout.Section>
        <CustomerTable {...table} rows={page.rows} next={page.next} previous={page.previous} />
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
  clearUrl: string;
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
  clearUrl,
}: FilterFormProps) {
  const [segment, setSegment] = useState(active.segment ?? "");
  const [behaviour, setBehaviour] = useState(active.behaviour ?? "");
  const [minClv, setMinClv] = useState(active.minClv ?? "");
  const [pAliveMin, setPAliveMin] = useState(active.pAliveMin ?? "");
  const [pAliveMax, setPAliveMax] = useState(active.pAliveMax ?? "");
  const anyActive = Boolean(active.behaviour || active.minClv || active.pAliveMin || active.pAliveMax || (filters.segment && active.segment));
  const navigate = useNavigate();
  const location = useLocation();
  // Without JavaScript the form submits as a plain GET; with it, empty fields stay out of the URL.
  const submit = (event: React.FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(event.currentTarget)) {
      if (typeof value === "string" && value.trim() !== "") params.set(name, value.trim());
    }
    navigate(`${location.pathname}?${params}`);
  };
  return (
    <Form method="get" aria-label="Filter customers" onSubmit={submit}>
      <input type="hidden" name="sort" value={sort} />
      <input type="hidden" name="dir" value={direction} />
      {!filters.segment && active.segment && <input type="hidden" name="segment" value={active.segment} />}
      <InlineStack gap="300" blockAlign="end" wrap>
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
            label={`Predicted CLV at least (${currency})`}
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
            ["P(alive) from %", "pAliveMin", pAliveMin, setPAliveMin],
            ["P(alive) to %", "pAliveMax", pAliveMax, setPAliveMax],
          ] as const
        ).map(([label, name, value, onChange]) => (
          <div key={name} style={{ width: "8rem" }}>
            <TextField label={label} name={name} type="number" min={0} max={100} value={value} onChange={onChange} autoComplete="off" disabled={!hasPredictions} />
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
