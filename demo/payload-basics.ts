import { tzOffset } from "@date-fns/tz";
import { type DemoCustomer, type DemoOrder, type DemoStore } from "./store-model";
import { type DemoConsentChange, consentAsOf } from "./consent";
import { customerUpdatedAt } from "./order-state";

// What every demo webhook body is built from: the render context, money in shop and
// presentment currency, Shopify's timestamp and amount formats, and the customer (alone
// for customers/create, embedded in an order). payloads.ts renders the orders and refunds.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface RenderContext {
  shop: string;
  timezone: string;
  currency: string;
}

export function contextOf(store: DemoStore): RenderContext {
  return { shop: store.options.shop, timezone: store.options.timezone, currency: "USD" };
}

/** "2025-03-14T10:21:07-04:00": Shopify's format, in the shop's time zone. */
export function formatShopTime(at: number, timezone: string): string {
  const offset = tzOffset(timezone, new Date(at));
  const local = new Date(at + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** Integer minor units to Shopify's decimal string ("1234" -> "12.34"). */
export function formatAmount(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

export const gid = (type: string, id: number) => `gid://shopify/${type}/${id}`;

/** Money in shop and presentment currency. */
export class Money {
  constructor(
    readonly shop: number,
    readonly presentment: number,
  ) {}
  static zero = new Money(0, 0);
  plus(other: Money): Money {
    return new Money(this.shop + other.shop, this.presentment + other.presentment);
  }
  minus(other: Money): Money {
    return new Money(this.shop - other.shop, this.presentment - other.presentment);
  }
  times(n: number): Money {
    return new Money(this.shop * n, this.presentment * n);
  }
}

export class Converter {
  constructor(
    readonly shopCurrency: string,
    readonly presentmentCurrency: string,
    private readonly rate: number,
  ) {}
  /** An atomic shop amount and its presentment equivalent. */
  of(minor: number): Money {
    return new Money(minor, this.rate === 1 ? minor : Math.round(minor * this.rate));
  }
  set(money: Money): JsonObject {
    return {
      shop_money: { amount: formatAmount(money.shop), currency_code: this.shopCurrency },
      presentment_money: { amount: formatAmount(money.presentment), currency_code: this.presentmentCurrency },
    };
  }
}

export const sum = (values: Money[]) => values.reduce((a, b) => a.plus(b), Money.zero);

export function converterFor(order: DemoOrder, context: RenderContext): Converter {
  return new Converter(context.currency, order.region.currency, order.region.fxRate);
}

// ---------------------------------------------------------------- customers

function addressOf(customer: DemoCustomer): JsonObject {
  const r = customer.region;
  return {
    id: customer.addressId,
    customer_id: customer.id,
    first_name: customer.firstName,
    last_name: customer.lastName,
    company: null,
    address1: customer.address1,
    address2: null,
    city: customer.city,
    province: r.province,
    country: r.country,
    zip: customer.zip,
    phone: customer.phone,
    name: `${customer.firstName} ${customer.lastName}`,
    province_code: r.provinceCode,
    country_code: r.countryCode,
    country_name: r.country,
    default: true,
  };
}

/** The customer resource as of `at` (customers/create body; embedded in orders). */
/** A consent as REST payloads carry it (lower-case states and levels); null for a channel without one. */
function renderConsent(change: DemoConsentChange | null, context: RenderContext, sms: boolean): JsonObject | null {
  if (change === null) return null;
  const body: JsonObject = {
    state: change.state.toLowerCase(),
    opt_in_level: change.optInLevel ? change.optInLevel.toLowerCase() : null,
    consent_updated_at: change.updatedAt === null ? null : formatShopTime(change.updatedAt, context.timezone),
  };
  if (sms) body.consent_collected_from = change.collectedFrom ?? "OTHER";
  return body;
}

export function renderCustomer(customer: DemoCustomer, at: number, context: RenderContext, embedded = false): JsonObject {
  // The profile as of its update time; its consent as of the same moment.
  const profileAt = embedded ? customerUpdatedAt(customer, at) : customer.createdAt + 1_000;
  const body: JsonObject = {
    id: customer.id,
    email: customer.email,
    created_at: formatShopTime(customer.createdAt, context.timezone),
    updated_at: formatShopTime(profileAt, context.timezone),
    first_name: customer.firstName,
    last_name: customer.lastName,
    state: customer.hasAccount ? "enabled" : "disabled",
    note: null,
    verified_email: true,
    multipass_identifier: null,
    tax_exempt: false,
    phone: customer.phone,
    currency: context.currency,
    tags: customer.tags.join(", "),
    email_marketing_consent: renderConsent(consentAsOf(customer.emailConsent, profileAt), context, false),
    sms_marketing_consent: renderConsent(consentAsOf(customer.smsConsent, profileAt), context, true),
    admin_graphql_api_id: gid("Customer", customer.id),
    default_address: addressOf(customer),
  };
  if (!embedded) {
    body.addresses = [addressOf(customer)];
    body.tax_exemptions = [];
  }
  return body;
}
