// Import directions between the folders of app/ (ADR 0011, docs/architecture.md). Each room
// lists the rooms it may import; anything else in app/ is an import that runs back up and
// fails `npm test` (`npm run deps`). The allowed graph is checked for cycles below, so
// folders can never import each other in a circle.
//
// A room is a folder of app/ or one of app/'s top-level modules (env.server.ts, ...).

/** Room name -> path pattern under app/. */
const ROOMS = {
  routes: "routes/|entry\\.server\\.tsx|root\\.tsx|routes\\.ts",
  worker: "worker/",
  cli: "cli/",
  components: "components/",
  pages: "pages/",
  "demo-mode": "demo-mode\\.server\\.ts",
  shopify: "shopify\\.server\\.ts",
  integrations: "integrations/",
  ingest: "ingest/",
  metrics: "metrics/",
  refit: "refit/",
  destinations: "destinations/",
  data: "data/",
  queues: "queues/",
  db: "db/|db\\.server\\.ts",
  display: "display/",
  analytics: "analytics/",
  lib: "lib/",
  env: "env\\.server\\.ts",
};

/** What each room may import besides itself (top to bottom). */
const ALLOWED = {
  routes: ["pages", "components", "display", "demo-mode", "shopify", "ingest", "queues", "data", "db", "analytics", "lib", "env"],
  worker: ["demo-mode", "destinations", "integrations", "ingest", "metrics", "refit", "data", "queues", "db", "analytics", "lib", "env"],
  cli: ["analytics", "lib"],
  // UI: page data through the pages' plain (non-.server) type files only, see the rule below.
  components: ["pages", "display", "analytics"],
  pages: ["destinations", "refit", "queues", "data", "db", "display", "analytics", "lib", "env"],
  "demo-mode": ["shopify", "env"],
  shopify: ["queues", "data", "db", "env"],
  integrations: ["shopify", "ingest", "refit", "data", "queues", "db", "analytics", "lib", "env"],
  ingest: ["data", "queues", "db", "analytics", "lib", "env"],
  metrics: ["refit", "data", "queues", "db", "analytics", "lib", "env"],
  refit: ["data", "queues", "db", "analytics", "lib", "env"],
  // Email tools (Klaviyo, Mailchimp): adapters over HTTP, the sync engine over the outbox.
  destinations: ["data", "queues", "db", "display", "analytics", "lib", "env"],
  data: ["db", "analytics", "lib", "env"],
  queues: ["env"],
  db: ["env"],
  display: ["analytics"],
  analytics: [],
  lib: [],
  env: [],
};

function assertAcyclic() {
  const state = {};
  const visit = (room, trail) => {
    if (state[room] === "done") return;
    if (state[room] === "open") throw new Error(`.dependency-cruiser.cjs: allowed imports form a cycle: ${[...trail, room].join(" -> ")}`);
    state[room] = "open";
    for (const next of ALLOWED[room]) visit(next, [...trail, room]);
    state[room] = "done";
  };
  for (const room of Object.keys(ALLOWED)) visit(room, []);
  for (const room of Object.keys(ROOMS)) if (!ALLOWED[room]) throw new Error(`.dependency-cruiser.cjs: room ${room} has no ALLOWED entry`);
}
assertAcyclic();

const under = (pattern) => `^app/(${pattern})`;
const TESTS = "\\.test\\.tsx?$|\\.testing\\.ts$";

const roomRules = Object.entries(ALLOWED).map(([room, allowed]) => ({
  name: `${room}-imports-downward`,
  comment: `app/${room} may import only: ${[room, ...allowed].join(", ")} (docs/architecture.md)`,
  severity: "error",
  from: { path: under(ROOMS[room]) },
  to: { path: "^app/", pathNot: [room, ...allowed].map((name) => under(ROOMS[name])) },
}));

module.exports = {
  forbidden: [
    ...roomRules,
    {
      name: "components-no-server-modules",
      comment: "UI code imports page data types from plain files, never a *.server module",
      severity: "error",
      from: { path: under(ROOMS.components) },
      to: { path: "\\.server\\.tsx?$" },
    },
    {
      name: "app-stays-in-app",
      comment: "the app never imports the demo, scripts, benchmarks or tests (tests beside the code may use tests/fixtures and tests/support)",
      severity: "error",
      from: { path: "^app/", pathNot: TESTS },
      to: { path: "^(demo|scripts|bench|tests)/" },
    },
    {
      name: "no-unresolvable",
      comment: "an import that does not resolve is a typo or a moved file",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|build|\\.tools|\\.demo|app/generated)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".tsx", ".js", ".mjs", ".json"] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
