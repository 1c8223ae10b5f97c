import { type ActionFunctionArgs, json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useActionData, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { Banner, BlockStack, Box, Button, Card, FormLayout, InlineGrid, InlineStack, Layout, Page, Text, TextField } from "@shopify/polaris";
import { useEffect, useRef, useState } from "react";
import { SEGMENT_DEFINITIONS } from "~/analytics/segments";
import { instant } from "~/display/format";
import { ListInput } from "~/components/settings/ListInput";
import { RuleEditor, ruleFieldId } from "~/components/settings/RuleEditor";
import { PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { loadSettingsPage, type SaveSettingsOutcome, submitSettings } from "~/pages/settings.server";
import { firstErrorField, HORIZON_DAYS, MAX_LABEL_LENGTH, type RuleCondition, type SettingsFieldErrors, type SettingsFormInput } from "~/pages/settings-form";

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}

export const meta: MetaFunction = () => [{ title: "Settings · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  return loadSettingsPage(pgPool(), shop);
};

/** Saves the settings (JSON body, SettingsFormInput): field errors and nothing written, or written and a refit requested. */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop } = await requireShop(request);
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return json<SaveSettingsOutcome>({ ok: false, fieldErrors: { form: ["The form could not be read. Reload the page and try again."] } }, { status: 400 });
  }
  const outcome = await submitSettings(pgPool(), shop, body);
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
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
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
        <Layout>
          <Layout.Section>
            <BlockStack gap="400">
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

              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Money
                  </Text>
                  <FormLayout>
                    <FormLayout.Group>
                      <TextField
                        id="settings-grossMarginPercent"
                        label="Gross margin"
                        suffix="%"
                        inputMode="decimal"
                        autoComplete="off"
                        value={form.grossMarginPercent}
                        onChange={set("grossMarginPercent")}
                        error={error("grossMarginPercent")}
                        helpText="Share of revenue you keep after product, shipping and payment costs. Predicted CLV and payback use it; 100% shows revenue."
                      />
                      <TextField
                        id="settings-cac"
                        label="Customer acquisition cost (CAC)"
                        prefix={page.currency}
                        inputMode="decimal"
                        autoComplete="off"
                        value={form.cac}
                        onChange={set("cac")}
                        error={error("cac")}
                        helpText="What you spend on average to win one new customer. Leave empty if you don't know; the cohorts page then skips payback."
                      />
                    </FormLayout.Group>
                    <FormLayout.Group>
                      <TextField
                        id="settings-annualDiscountRatePercent"
                        label="Discount rate"
                        suffix="% a year"
                        inputMode="decimal"
                        autoComplete="off"
                        value={form.annualDiscountRatePercent}
                        onChange={set("annualDiscountRatePercent")}
                        error={error("annualDiscountRatePercent")}
                        helpText="How much less a sale next year is worth than one today. 10% is common."
                      />
                      <TextField
                        id="settings-horizonDays"
                        label="CLV horizon"
                        suffix="days"
                        inputMode="numeric"
                        autoComplete="off"
                        value={form.horizonDays}
                        onChange={set("horizonDays")}
                        error={error("horizonDays")}
                        helpText={`How far ahead predicted CLV looks: ${HORIZON_DAYS.min} to ${HORIZON_DAYS.max} days (365 is one year).`}
                      />
                    </FormLayout.Group>
                  </FormLayout>
                </BlockStack>
              </Card>

              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    RFM segment rules
                  </Text>
                  <RuleEditor rules={form.segmentRules} labels={form.segmentLabels} errors={errors} onChange={set("segmentRules")} />
                </BlockStack>
              </Card>

              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Segment names
                  </Text>
                  <Text as="p" tone="subdued">
                    Call segments what your team calls them; every page and export uses your names. Leave a field empty for the default.
                  </Text>
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
                </BlockStack>
              </Card>

              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Orders that don't count
                  </Text>
                  <ListInput
                    id="settings-excludedOrderTags"
                    label="Order tags"
                    helpText="Orders carrying any of these tags are left out of every figure (for example wholesale or staff orders). Press Enter to add."
                    values={form.excludedOrderTags}
                    onChange={set("excludedOrderTags")}
                    error={error("excludedOrderTags")}
                  />
                  <ListInput
                    id="settings-excludedSourceNames"
                    label="Sales channels"
                    helpText="Orders from these channels are left out (for example pos or a marketplace)."
                    values={form.excludedSourceNames}
                    suggestions={page.channelOptions}
                    onChange={set("excludedSourceNames")}
                    error={error("excludedSourceNames")}
                  />
                </BlockStack>
              </Card>

              <Box paddingBlockEnd="800">
                <InlineStack align="space-between" blockAlign="center">
                  <Text as="p" tone="subdued" variant="bodySm">
                    {page.savedAtIso ? `Last saved ${instant(page.savedAtIso)}.` : "Defaults in use: nothing saved yet."}
                  </Text>
                  <Button variant="primary" submit loading={saving}>
                    Save
                  </Button>
                </InlineStack>
              </Box>
            </BlockStack>
          </Layout.Section>
        </Layout>
      </form>
    </Page>
  );
}
