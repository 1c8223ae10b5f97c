// Empty-state picture inlined as a data URI: no request to a CDN (the demo and the browser
// tests run offline), nothing to wait for, and the EmptyState keeps its size.
const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="226" height="160" viewBox="0 0 226 160"><rect x="23" y="30" width="180" height="110" rx="10" fill="#f1f1f1"/><g fill="#c9e7dc"><rect x="43" y="100" width="22" height="25" rx="3"/><rect x="75" y="80" width="22" height="45" rx="3"/><rect x="107" y="90" width="22" height="35" rx="3"/><rect x="139" y="65" width="22" height="60" rx="3"/></g><rect x="171" y="50" width="22" height="75" rx="3" fill="#008060"/><circle cx="60" cy="55" r="8" fill="#b5b5b5"/><rect x="74" y="50" width="60" height="10" rx="5" fill="#d4d4d4"/></svg>`;

export const EMPTY_STATE_IMAGE = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(SVG)}`;
