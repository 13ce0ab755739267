/** The proxy's per-isolate profile memory: expiry, least-recently-used eviction, writes, sharing. */
import { describe, expect, it } from "vitest";
import { storedProfileSchema } from "../src/edge/profiles/profile-model";
import { ProfileCache } from "../src/edge/profiles/profile-cache";

const profile = (firstName: string) => storedProfileSchema.parse({ attributes: { firstName } });

describe("ProfileCache", () => {
  it("answers until the entry expires, then asks for a read", () => {
    const cache = new ProfileCache();
    cache.set("profile:c:1", profile("Ana"), 1_000, 5_000);
    expect(cache.get("profile:c:1", 5_999)?.attributes.firstName).toBe("Ana");
    expect(cache.get("profile:c:1", 6_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("remembers that KV has no profile, so an anonymous visitor's next page costs no read", () => {
    const cache = new ProfileCache();
    cache.set("profile:v:x", null, 0, 5_000);
    expect(cache.get("profile:v:x", 1)).toBeNull();
    expect(cache.get("profile:v:y", 1)).toBeUndefined();
  });

  it("drops the least recently used entry when full", () => {
    const cache = new ProfileCache(3);
    for (const id of ["a", "b", "c"]) cache.set(id, profile(id), 0, 60_000);
    cache.get("a", 1);
    cache.set("d", profile("d"), 2, 60_000);
    expect(cache.size).toBe(3);
    expect(cache.get("b", 3)).toBeUndefined();
    expect(["a", "c", "d"].map((id) => cache.get(id, 3)?.attributes.firstName)).toEqual(["a", "c", "d"]);
  });

  it("takes a written value for an entry it holds, and ignores writes to profiles it does not hold", () => {
    const cache = new ProfileCache();
    cache.set("k", profile("Ana"), 0, 5_000);
    const written = profile("Beatriz");
    cache.replace("k", written);
    cache.replace("other", profile("Carla"));
    expect(cache.get("k", 1)?.attributes.firstName).toBe("Beatriz");
    expect(cache.get("other", 1)).toBeUndefined();
    // The writer keeps its own object: changing it later does not reach the shared copy.
    (written.attributes as Record<string, unknown>).firstName = "changed";
    expect(cache.get("k", 1)?.attributes.firstName).toBe("Beatriz");
    cache.replace("k", null);
    expect(cache.get("k", 1)).toBeNull();
  });

  it("hands out a frozen profile: one request cannot change what the next one sees", () => {
    const cache = new ProfileCache();
    cache.set("k", profile("Ana"), 0, 5_000);
    const shared = cache.get("k", 1)!;
    expect(() => {
      (shared.attributes as Record<string, unknown>).firstName = "Eve";
    }).toThrow(TypeError);
    expect(Object.isFrozen(shared.offers)).toBe(true);
  });
});
