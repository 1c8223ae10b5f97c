import { type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData, useLocation } from "@remix-run/react";
import { useEffect, useState } from "react";
import { BlockStack, Box, Card, Divider, InlineStack, Link, Page, Text } from "@shopify/polaris";
import { CardColumn } from "~/components/CardColumn";
import { PageErrorBoundary, PageSkeleton, useLeavingPage } from "~/components/states";
import { pgPool } from "~/db/pg.server";
import { requireShop } from "~/demo-mode.server";
import { GLOSSARY, GLOSSARY_SECTIONS, type GlossaryTerm, unitLine } from "~/display/glossary";
import { type GlossaryPageData } from "~/pages/glossary";
import { loadGlossaryPage } from "~/pages/glossary.server";

// The glossary: every figure the app shows, defined in one place (app/display/glossary.ts),
// each under its own anchor so every help text can link to it, with the shop's own horizon,
// revenue basis and margin where a definition depends on them.

export const meta: MetaFunction = () => [{ title: "Glossary · Tenure" }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { shop } = await requireShop(request);
  return loadGlossaryPage(pgPool(), shop);
};

export default function Glossary() {
  const page = useLoaderData<typeof loader>();
  const targetId = useTargetId();
  const leaving = useLeavingPage();
  if (leaving) return <PageSkeleton cards={4} />;
  return (
    <Page title="Glossary" subtitle="What every figure in Tenure means, in which unit, and whether it is revenue or profit">
      <CardColumn>
        <Card>
          <BlockStack gap="200">
            <Text as="p">Every card and column header links here. Figures that depend on your Settings say what they are for your shop.</Text>
            <InlineStack gap="300" wrap>
              {GLOSSARY_SECTIONS.map((section) => (
                <Link key={section.key} url={`#section-${section.key}`}>
                  {section.title}
                </Link>
              ))}
            </InlineStack>
          </BlockStack>
        </Card>
        {GLOSSARY_SECTIONS.map((section) => (
          <section key={section.key} id={`section-${section.key}`} aria-labelledby={`section-${section.key}-title`} style={ANCHOR_STYLE}>
            <Card>
              <BlockStack gap="400">
                <BlockStack gap="100">
                  <Text as="h2" variant="headingMd" id={`section-${section.key}-title`}>
                    {section.title}
                  </Text>
                  <Text as="p" tone="subdued">
                    {section.intro}
                  </Text>
                </BlockStack>
                {GLOSSARY.filter((term) => term.section === section.key).map((term, index) => (
                  <BlockStack key={term.id} gap="400">
                    {index > 0 && <Divider />}
                    <Entry term={term} page={page} target={term.id === targetId} />
                  </BlockStack>
                ))}
              </BlockStack>
            </Card>
          </section>
        ))}
      </CardColumn>
    </Page>
  );
}

/**
 * The id in the address's #fragment, once hydrated (the server never sees the fragment, so the
 * first render must not depend on it): the entry a help link led to stands out after the jump.
 */
function useTargetId(): string | null {
  const { hash } = useLocation();
  const [target, setTarget] = useState<string | null>(null);
  useEffect(() => setTarget(hash ? decodeURIComponent(hash.slice(1)) : null), [hash]);
  return target;
}

/** One term under its anchor: its name, the other labels it appears as, the definition, unit and basis, and what it is for this shop. */
function Entry({ term, page, target }: { term: GlossaryTerm; page: GlossaryPageData; target: boolean }) {
  const [name, ...others] = term.labels;
  const renamed = term.id.startsWith("segment-") ? page.segmentLabels[term.id.slice("segment-".length)]?.trim() : undefined;
  const unit = unitLine(term);
  const yours = term.inYourShop?.(page.settings);
  return (
    <div id={term.id} style={target ? TARGET_STYLE : ANCHOR_STYLE}>
      <BlockStack gap="100">
        <Text as="h3" variant="headingSm">
          {name}
        </Text>
        {others.length > 0 && (
          <Text as="p" variant="bodySm" tone="subdued">
            Also shown as: {others.join(" · ")}
          </Text>
        )}
        {renamed && renamed !== name && (
          <Text as="p" variant="bodySm" tone="subdued">
            Your name for it: {renamed}
          </Text>
        )}
        <Text as="p">{term.definition}</Text>
        {unit && (
          <Text as="p" variant="bodySm" tone="subdued">
            {unit}
          </Text>
        )}
        {yours && (
          <Box>
            <Text as="p" variant="bodySm">
              <Text as="span" fontWeight="semibold">
                In your shop:
              </Text>{" "}
              {yours}
            </Text>
          </Box>
        )}
      </BlockStack>
    </div>
  );
}

// An anchor scrolled to lands with room above it.
const ANCHOR_STYLE: React.CSSProperties = { scrollMarginTop: "var(--p-space-400)" };
const TARGET_STYLE: React.CSSProperties = {
  ...ANCHOR_STYLE,
  background: "var(--p-color-bg-surface-info, #eaf4ff)",
  borderRadius: "var(--p-border-radius-200)",
  margin: "calc(-1 * var(--p-space-200))",
  padding: "var(--p-space-200)",
};

export function ErrorBoundary() {
  return <PageErrorBoundary backUrl="/app" backLabel="Dashboard" />;
}
