// Test support (imported only by *.test.ts): one temporary folder per test file, so the CLI
// tests that read and write real files share the setup and the clean-up.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A fresh folder under the OS temp dir for the tests of this file, removed after them. Call at
 * the top level of a test file: it registers beforeAll/afterAll hooks.
 */
export function tempDirForTests(prefix: string) {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const path = (name: string) => join(dir, name);
  return {
    path,
    /** Writes `text` to `name` in the folder and returns its path. */
    write: (name: string, text: string): string => {
      writeFileSync(path(name), text);
      return path(name);
    },
  };
}
