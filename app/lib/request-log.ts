// What the access log may say about a request URL: the path, and the query with the values
// of credentials blanked. Shopify's embedded-app requests carry a session token (`id_token`,
// a JWT) and `hmac`, `session`, `host`; the OAuth callback carries `code` and `state`.

const SECRET_PARAMETERS = new Set(["id_token", "hmac", "session", "host", "code", "state", "signature", "token", "access_token"]);

/** `/app?id_token=eyJ…&shop=a.myshopify.com` → `/app?id_token=[redacted]&shop=a.myshopify.com`. */
export function redactedRequestUrl(url: string): string {
  const queryAt = url.indexOf("?");
  if (queryAt === -1) return url;
  const path = url.slice(0, queryAt);
  const query = url.slice(queryAt + 1);
  const redacted = query
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      const name = equals === -1 ? pair : pair.slice(0, equals);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replaceAll("+", " "));
      } catch {
        // a malformed name stays as sent; its value is blanked below only if it matches
      }
      return equals !== -1 && SECRET_PARAMETERS.has(decoded.toLowerCase()) ? `${name}=[redacted]` : pair;
    })
    .join("&");
  return `${path}?${redacted}`;
}
