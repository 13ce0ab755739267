/** timingSafeEqual: the admin and decide tokens' comparison, on workerd's constant-time compare. */
import { describe, expect, it } from "vitest";
import { timingSafeEqual } from "../src/edge/identity/sign";

describe("timingSafeEqual", () => {
  it("is true only for the same string, whatever the lengths", async () => {
    expect(await timingSafeEqual("test-admin-token", "test-admin-token")).toBe(true);
    expect(await timingSafeEqual("", "")).toBe(true);
    expect(await timingSafeEqual("test-admin-token", "test-admin-tokeN")).toBe(false);
    expect(await timingSafeEqual("test-admin-token", "test-admin-token-longer")).toBe(false);
    expect(await timingSafeEqual("", "test-admin-token")).toBe(false);
  });
});
