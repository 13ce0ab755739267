/**
 * The URL map in docs/architecture.md is the one the worker serves, and /__pz and /go keep their unknown paths to
 * themselves.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import doc from "../docs/architecture.md?raw";
import { pz } from "../src/routes/pz";
import { links } from "../src/routes/go-links";

/**
 * Every endpoint an app declares, as "METHOD /path" (middleware and catch-alls, declared for ALL methods, left out).
 */
function endpoints(prefix: string, routes: { method: string; path: string }[]): string[] {
  return routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${prefix}${r.path}`);
}

function documented(): string[] {
  const rows = [...doc.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| routes\/\S+ \|/gm)];
  return rows.map((m) => `${m[1]} ${m[2]}`);
}

describe("the URL map", () => {
  it("documents every route under /__pz and /go, and no other", () => {
    const served = [...new Set([...endpoints("/__pz", pz.routes), ...endpoints("/go", links.routes)])];
    expect(documented().sort()).toEqual(served.sort());
    expect(served).toContain("GET /go/:token");
  });

  it("answers a JSON 404 for unknown paths under /__pz and /go, whatever the method", async () => {
    for (const [method, path] of [
      ["GET", "/__pz"],
      ["GET", "/__pz/"],
      ["POST", "/__pz/health"],
      ["GET", "/go"],
      ["GET", "/go/"],
      ["GET", "/go/a/b"],
      ["POST", "/go/abc"],
    ]) {
      const res = await SELF.fetch(`http://example.com${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual({
        error: { code: "not_found", message: `No worker route for ${method} ${path}.`, details: [] },
      });
    }
  });
});
