import { describe, expect, it } from "vitest";
import { type DestinationProfile } from "./adapter";
import { isComplianceRefusal, mailchimpDataCentre, statusFromConsent, subscriberHash, tenureMergeFields } from "./mailchimp.server";

const profile = (overrides: Partial<DestinationProfile> = {}): DestinationProfile => ({
  customerId: "1",
  email: "a@example.com",
  firstName: null,
  lastName: null,
  phone: null,
  emailConsentState: null,
  properties: {
    tenure_rfm_segment: null,
    tenure_behaviours: [],
    tenure_predicted_value_12m: null,
    tenure_historic_value: 0,
    tenure_chance_of_ordering_90d: null,
    tenure_p_alive: null,
    tenure_next_order_date: null,
  },
  ...overrides,
});

describe("Mailchimp's identifiers", () => {
  it("hashes the lowercase email as Mailchimp's guide shows", () => {
    expect(subscriberHash("Urist.McVankab@freddiesjokes.com")).toBe("62eeb292278cc15f5817cb78f7790b08");
  });

  it("reads the data centre at the end of a key", () => {
    expect(mailchimpDataCentre("0123456789abcdef0123456789abcdef-us21")).toBe("us21");
    expect(mailchimpDataCentre("0123456789abcdef0123456789abcdef")).toBeNull();
    expect(mailchimpDataCentre("abc-us21-extra")).toBeNull();
    expect(mailchimpDataCentre("abc-21")).toBeNull();
  });
});

describe("what a member gets", () => {
  it("is subscribed only when Shopify says SUBSCRIBED, else transactional", () => {
    expect(statusFromConsent({ emailConsentState: "SUBSCRIBED" })).toBe("subscribed");
    for (const state of ["NOT_SUBSCRIBED", "UNSUBSCRIBED", "PENDING", "REDACTED", "INVALID", null]) {
      expect(statusFromConsent({ emailConsentState: state })).toBe("transactional");
    }
  });

  it("tells Mailchimp's refusal to subscribe an unsubscribed or cleaned member by its words (its code is the catch-all ERROR_GENERIC)", () => {
    expect(isComplianceRefusal({ error: "a@example.com is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed." })).toBe(true);
    for (const error of [
      "a@example.com is already a list member. Use PUT to insert or update list members.",
      "a@example.com looks fake or invalid, please enter a real email address.",
      "a@example.com was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.",
    ]) {
      expect(isComplianceRefusal({ error })).toBe(false);
    }
  });

  it("clears a figure Tenure does not have and leaves the names alone when Shopify has none", () => {
    expect(tenureMergeFields(profile())).toEqual({ TNR_SEG: "", TNR_PV: "", TNR_CHANCE: "", TNR_NEXT: "" });
  });

  it("writes money to the cent and the chance as a percentage to one decimal", () => {
    const fields = tenureMergeFields(
      profile({
        firstName: "Zoë",
        lastName: "Ng",
        properties: { ...profile().properties, tenure_rfm_segment: "Loyal", tenure_predicted_value_12m: 1234.5678, tenure_chance_of_ordering_90d: 0.08349, tenure_next_order_date: "2027-03-01" },
      }),
    );
    expect(fields).toEqual({ TNR_SEG: "Loyal", TNR_PV: 1234.57, TNR_CHANCE: 8.3, TNR_NEXT: "2027-03-01", FNAME: "Zoë", LNAME: "Ng" });
  });
});
