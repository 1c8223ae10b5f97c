import { type ActionFunctionArgs, json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useActionData, useFetcher, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { Banner, Box, Button, Checkbox, ChoiceList, FormLayout, InlineGrid, InlineStack, Link, Page, Text, TextField } from "@shopify/polaris";
import { useEffect, useRef, useState } from "react";
import { SEGMENT_DEFINITIONS } from "~/analytics/segments";
import { channelName } from "~/display/channel-names";
import { instant } from "~/display/format";
import { useShopTimeZone } from "~/components/ShopTimeZone";
import { CardColumn } from "~/components/CardColumn";
import { HeadingCard } from "~/components/HeadingCard";
import { ListInput } from "~/components/settings/ListInput";
import { RuleEditor, ruleFieldId } from "~/components/settings/RuleEditor";
import { PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { pgPool } from "~/db/pg.server";
import { demoAdminClient, requireShop } from "~/demo-mode.server";
import { isShopifyTagsRequest, loadSettingsPage, type SaveSettingsOutcome, type ShopifyTagsOutcome, submitSettings, submitShopifyTags } from "~/pages/settings.server";
import { firstErrorField, HORIZON_DAYS, MAX_LABEL_LENGTH, type RuleCondition, type SettingsFieldErrors, type SettingsFormInput } from "~/pages/settings-form";
import { glossaryUrl } from "~/display/glossary";

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}

export const meta: MetaFunction = () => [{ title: "Settings · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  return loadSettingsPage(pgPool(), shop);
};

/**
 * Saves the settings (JSON body, SettingsFormInput): field errors and nothing written, or
 * written, a refit requested and published Shopify segments renamed after the labels. { intent: "shopify-tags", on } switches Shopify tagging alone.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, demo } = await requireShop(request);
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return json<SaveSettingsOutcome>({ ok: false, fieldErrors: { form: ["The form could not be read. Reload the page and try again."] } }, { status: 400 });
  }
  if (isShopifyTagsRequest(body)) {
    const tags = await submitShopifyTags(pgPool(), shop, body);
    return json<ShopifyTagsOutcome>(tags, { status: tags.ok ? 200 : 400 });
  }
  // Published Shopify segments follow a relabel through the worker; the demo's worker has no Shopify, so its web process does it.
  const outcome = await submitSettings(pgPool(), shop, body, { shopifySegments: demo ? { admin: demoAdminClient() } : "queue" });
  return json<SaveSettingsOutcome>(outcome, { status: outcome.ok ? 200 : 400 });
};

/** The element a field error belongs to (for focus). */
function fieldElementId(path: string): string {
  const [field, index, condition] = path.split(".");
  if (field === "segmentRules" && index !== undefined) {
    return condition === "segment" || condition === undefined ? ruleFieldId(Number(index), "segment") : ruleFieldId(Number(index), condition as RuleCondition, "from");
  }
  if (field === "segmentLabels" && index !== undefined) return `settings-segmentLabels-${index}`;
  return `settings-${field}`;
}

declare global {
  interface Window {
    shopify?: { toast?: { show(message: string): void } };
  }
}

export default function Settings() {
  const timeZone = useShopTimeZone();
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as SaveSettingsOutcome | undefined;
  const tagsFetcher = useFetcher<ShopifyTagsOutcome>();
  // Shown switched as soon as it is clicked; back to the stored value if the save is refused.
  const [tagsOn, setTagsOn] = useState(page.shopifyTags);
  useEffect(() => {
    if (tagsFetcher.state === "idle" && tagsFetcher.data && !tagsFetcher.data.ok) setTagsOn(page.shopifyTags);
  }, [tagsFetcher.state, tagsFetcher.data, page.shopifyTags]);
  const navigation = useNavigation();
  const submit = useSubmit();
  const [form, setForm] = useState<SettingsFormInput>(page.form);
  const [savedAt, setSavedAt] = useState(page.savedAtIso);
  const saving = navigation.state === "submitting" && navigation.formMethod?.toLowerCase() === "post";
  const errors: SettingsFieldErrors = result && !result.ok ? result.fieldErrors : {};
  const successRef = useRef<HTMLDivElement>(null);

  // After a save the loader reads the stored values back: start from them.
  if (page.savedAtIso !== savedAt) {
    setSavedAt(page.savedAtIso);
    setForm(page.form);
  }

  useEffect(() => {
    if (!result) return;
    if (!result.ok) {
      const first = firstErrorField(result.fieldErrors);
      const element = first ? document.getElementById(fieldElementId(first)) : null;
      element?.focus();
      element?.scrollIntoView({ block: "center" });
    } else {
      successRef.current?.focus();
      window.shopify?.toast?.show("Settings saved");
    }
  }, [result]);

  const set = <K extends keyof SettingsFormInput>(key: K) => (value: SettingsFormInput[K]) => setForm((current) => ({ ...current, [key]: value }));
  const save = () => submit(form as unknown as Parameters<typeof submit>[0], { method: "post", encType: "application/json" });
  const error = (key: string) => errors[key]?.[0];
  // What every single-value field and list field of the form shares: its id, its value, how it changes and its error.
  const field = (key: "grossMarginPercent" | "cac" | "annualDiscountRatePercent" | "horizonDays") => ({
    id: `settings-${key}`,
    autoComplete: "off",
    value: form[key],
    onChange: set(key),
    error: error(key),
  });
  // The Money card's fields, two to a row.
  const moneyFields = [
    [
      {
        key: "grossMarginPercent",
        term: "gross-margin",
        label: "Gross margin",
        suffix: "%",
        inputMode: "decimal",
        helpText: "Share of revenue you keep after product, shipping and payment costs. Below 100%, every page can show its amounts as profit (revenue × this margin) instead of revenue, and payback uses it.",
      },
      {
        key: "cac",
        term: "cac",
        label: "Customer acquisition cost (CAC)",
        prefix: page.currency,
        inputMode: "decimal",
        helpText: "What you spend on average to win one new customer. Leave empty if you don't know; the cohorts page then skips payback.",
      },
    ],
    [
      {
        key: "annualDiscountRatePercent",
        term: "discount-rate",
        label: "Discount rate",
        suffix: "% a year",
        inputMode: "decimal",
        helpText: "How much less a sale next year is worth than one today. 10% is common.",
      },
      {
        key: "horizonDays",
        term: "horizon",
        label: "CLV horizon",
        suffix: "days",
        inputMode: "numeric",
        helpText: `How far ahead expected spend looks, named in its label ("Expected spend, next 12 months"): ${HORIZON_DAYS.min} to ${HORIZON_DAYS.max} days (365 is one year).`,
      },
    ],
  ] as const;
  // The optional percentages (blank = the default): a decimal text field with a % suffix.
  const percentField = (key: "costFallbackMarginPercent" | "churnRiskThresholdPercent") => ({
    id: `settings-${key}`,
    type: "text" as const,
    inputMode: "decimal" as const,
    suffix: "%",
    autoComplete: "off",
    value: form[key] ?? "",
    onChange: set(key),
    error: error(key),
  });
  const listField = (key: "excludedOrderTags" | "excludedSourceNames" | "excludedCustomerTags") => ({ id: `settings-${key}`, values: form[key], onChange: set(key), error: error(key) });
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={2} />;

  return (
    <Page
      title="Settings"
      subtitle="What Tenure assumes when it computes lifetime value, segments and payback"
      primaryAction={{ content: "Save", onAction: save, loading: saving }}
    >
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save();
        }}
        noValidate
      >
        <CardColumn>
          <div ref={successRef} tabIndex={-1} id="settings-result">
            {result?.ok && (
              <Banner tone={result.refitQueued ? "success" : "warning"} title="Settings saved">
                <p>
                  {result.refitQueued
                    ? "Tenure is recomputing your figures with them; the pages update in a few minutes."
                    : "The recompute could not be queued right now, so your figures update at the nightly refit."}
                </p>
                {result.warnings.map((warning) => (
                  <p key={warning}>{warning}</p>
                ))}
              </Banner>
            )}
            {errors.form && (
              <Banner tone="critical" title="Settings not saved">
                <p id="settings-form">{errors.form[0]}</p>
              </Banner>
            )}
            {result && !result.ok && !errors.form && (
              <Banner tone="critical" title="Settings not saved">
                <p>Some values need a change; each is explained next to its field. Nothing was saved.</p>
              </Banner>
            )}
          </div>

          <HeadingCard title="Revenue" term="revenue" help="What Tenure counts as the money an order brought in, on every page and in every figure.">
            <ChoiceList
              title="Count orders at"
              titleHidden
              choices={[
                {
                  label: "Net sales, as in Shopify's reports (recommended)",
                  value: "net_sales",
                  helpText: "Gross sales minus discounts and returns. No tax, shipping, duties or tips: the figure Shopify Analytics calls net sales.",
                },
                {
                  label: "Total sales",
                  value: "total_sales",
                  helpText: "What customers paid: net sales plus tax, shipping and duties, less what was refunded.",
                },
              ]}
              selected={[form.revenueBasis]}
              onChange={([value]) => set("revenueBasis")(value)}
              error={error("revenueBasis")}
            />
            {page.ordersWithoutParts > 0 && (
              <Box paddingBlockStart="300">
                <Banner tone="info" title="Some orders count at total sales for now">
                  <p>
                    {page.ordersWithoutParts >= page.ordersWithoutPartsCap ? `${page.ordersWithoutPartsCap.toLocaleString("en-US")} or more` : page.ordersWithoutParts.toLocaleString("en-US")}{" "}
                    {page.ordersWithoutParts === 1 ? "order was" : "orders were"} stored before Tenure read the parts net sales needs (discounts, returns, tax, shipping). Until they
                    are imported again they count at total sales. <Link url="/app/sync">Import your orders again from the Sync page</Link>.
                  </p>
                </Banner>
              </Box>
            )}
          </HeadingCard>

          <HeadingCard title="Money">
            <FormLayout>
              {moneyFields.map((group) => (
                <FormLayout.Group key={group[0].key}>
                  {group.map(({ key, term, ...props }) => (
                    <TextField
                      key={key}
                      {...field(key)}
                      {...props}
                      // Named without the field's label, so the label still names the field alone.
                      labelAction={{ content: "In the glossary", url: glossaryUrl(term) }}
                    />
                  ))}
                </FormLayout.Group>
              ))}
              <TextField
                {...percentField("costFallbackMarginPercent")}
                label="Margin of products without a cost"
                helpText="Gross profit takes each product's cost from Shopify (Cost per item). Sales of products without a cost count at this margin; the share of sales that did is shown beside the profit. 50% by default."
              />
            </FormLayout>
          </HeadingCard>

          <HeadingCard title="RFM segment rules" term="rfm">
            <RuleEditor rules={form.segmentRules} labels={form.segmentLabels} errors={errors} onChange={set("segmentRules")} />
          </HeadingCard>

          <HeadingCard
            title="Segment names"
            help="Call segments what your team calls them; every page uses your names. Leave a field empty for the default."
          >
            <InlineGrid columns={{ xs: 1, md: 2 }} gap="300">
              {Object.values(SEGMENT_DEFINITIONS).map((definition) => (
                <TextField
                  key={definition.key}
                  id={`settings-segmentLabels-${definition.key}`}
                  label={definition.name}
                  placeholder={definition.name}
                  autoComplete="off"
                  maxLength={MAX_LABEL_LENGTH}
                  value={form.segmentLabels[definition.key] ?? ""}
                  onChange={(value) => set("segmentLabels")({ ...form.segmentLabels, [definition.key]: value })}
                  error={error(`segmentLabels.${definition.key}`)}
                  helpText={definition.description}
                />
              ))}
            </InlineGrid>
          </HeadingCard>

          <HeadingCard title="Orders that don't count" term="exclusions">
            <ListInput
              {...listField("excludedOrderTags")}
              label="Order tags"
              helpText="Orders carrying any of these tags are left out of every figure (for example a wholesale or staff order tag). Press Enter to add."
            />
            <ListInput
              {...listField("excludedCustomerTags")}
              label="Customer tags"
              helpText="Every order of a customer carrying any of these tags is left out (for example wholesale or staff accounts). Press Enter to add."
            />
            <ListInput
              {...listField("excludedSourceNames")}
              label="Sales channels"
              helpText="Orders from these channels are left out (for example Point of Sale or a marketplace app)."
              suggestions={page.channelOptions}
              labelOf={channelName}
            />
          </HeadingCard>

          <HeadingCard title="Shopify Flow" help="When Tenure's Flow triggers fire. They fire only for workflows you turned on in Shopify Flow.">
            <TextField
              {...percentField("churnRiskThresholdPercent")}
              label="Churn-risk threshold"
              helpText="The trigger 'Customer churn risk detected' fires once when a customer's chance of ordering in the next 90 days falls below this, and again only after it rose above it. 20% by default."
            />
          </HeadingCard>

          <HeadingCard title="Holiday season" term="holiday-season" help="The season of the behavioural segment Holiday-season first buyers: customers whose first order fell in it, any year.">
            <FormLayout>
              <FormLayout.Group>
                {(
                  [
                    ["holidaySeasonStart", "Season starts (MM-DD)", "11-15 by default (mid-November)."],
                    ["holidaySeasonEnd", "Season ends (MM-DD)", "12-31 by default. An end before the start runs over the new year."],
                  ] as const
                ).map(([key, label, helpText]) => (
                  <TextField
                    key={key}
                    id={`settings-${key}`}
                    label={label}
                    type="text"
                    autoComplete="off"
                    placeholder={key === "holidaySeasonStart" ? "11-15" : "12-31"}
                    value={form[key] ?? ""}
                    onChange={set(key)}
                    error={error(key)}
                    helpText={helpText}
                  />
                ))}
              </FormLayout.Group>
            </FormLayout>
          </HeadingCard>

          <HeadingCard title="Shopify" help="What Tenure writes into your Shopify store besides its customer metafields.">
            <Checkbox
              id="settings-shopifyTags"
              label="Tag customers in Shopify with their Tenure segment"
              helpText="Adds tenure-<segment> (tenure-champions, tenure-at-risk, ...) to each scored customer and moves it as they change segment. Off by default: tags show up everywhere in Shopify admin. Your own tags are never touched; switching off removes Tenure's. Saved at once."
              checked={tagsOn}
              disabled={tagsFetcher.state !== "idle"}
              onChange={(on) => {
                setTagsOn(on);
                tagsFetcher.submit({ intent: "shopify-tags", on }, { method: "post", encType: "application/json" });
              }}
            />
            {tagsFetcher.data ? (
              <Box paddingBlockStart="200">
                <Text as="p" tone={tagsFetcher.data.ok ? "subdued" : "critical"}>
                  {tagsFetcher.data.ok ? tagsFetcher.data.message : tagsFetcher.data.error}
                </Text>
              </Box>
            ) : null}
          </HeadingCard>

          <Box paddingBlockEnd="800">
            <InlineStack align="space-between" blockAlign="center">
              <Text as="p" tone="subdued" variant="bodySm">
                {page.savedAtIso ? `Last saved ${instant(page.savedAtIso, timeZone)}.` : "Defaults in use: nothing saved yet."}
              </Text>
              <Button variant="primary" submit loading={saving}>
                Save
              </Button>
            </InlineStack>
          </Box>
        </CardColumn>
      </form>
    </Page>
  );
}
