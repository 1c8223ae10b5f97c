import { type LoginError, LoginErrorType } from "@shopify/shopify-app-remix/server";

export interface LoginErrorMessage {
  shop?: string;
}

/** The message to show under the shop field for Shopify's login errors. */
export function loginErrorMessage(loginErrors: LoginError): LoginErrorMessage {
  switch (loginErrors?.shop) {
    case LoginErrorType.MissingShop:
      return { shop: "Enter your shop domain to log in" };
    case LoginErrorType.InvalidShop:
      return { shop: "Enter a valid shop domain, such as example.myshopify.com" };
    default:
      return {};
  }
}
