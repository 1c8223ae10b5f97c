import { testServicesPlan } from "./test-services";

// Prints which PostgreSQL, Redis and Chromium a test run would use (.ci/run, first thing).
for (const line of await testServicesPlan()) console.log(line);
