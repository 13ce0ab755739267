/**
 * The dashboard in headless Chromium, against the worker hosted by Miniflare: an experiment whose
 * split is broken shows, visibly, its verdict, its interval chart and the sample-ratio alert.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTROL_AND_BOLD, experiment, ruleset } from "../test/fixtures/ruleset";
import { hostResultsWorker, seedEvents, type D1, type SeededEvents } from "./helpers/results-worker";

const temp = mkdtempSync(join(tmpdir(), "pz-dashboard-"));
const TOKEN = "browser-test-admin-token";
const CHROMIUM = "/usr/bin/chromium";
const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 4, 1, 12);
let mf: Miniflare;
let url: string;
let browser: Browser;

/** 50/50 configured, but 1,000 control units against 600 bold ones: 10% vs 20% buying. */
async function seed(db: D1): Promise<void> {
  const events: SeededEvents = { experiment: "split-test", exposures: [], purchases: [] };
  const arm = (variant: string, units: number, converted: number) => {
    for (let i = 0; i < units; i++) {
      const visitor = `${variant}-${i}`;
      const at = T0 + (i % 5) * DAY;
      events.exposures.push({ id: `x-${visitor}`, at, visitor, variant });
      if (i % 10 < converted) events.purchases.push({ id: `e-${visitor}`, at: at + 1000, visitor });
    }
  };
  arm("control", 1000, 1);
  arm("bold", 600, 2);
  await seedEvents(db, events);
}

beforeAll(async () => {
  const rules = ruleset({
    experiments: [
      experiment("split-test", {
        variants: CONTROL_AND_BOLD,
        goals: ["purchase"],
      }),
    ],
  });
  const hosted = await hostResultsWorker(temp, TOKEN, rules);
  ({ mf, url } = hosted);
  await seed(hosted.db);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await mf?.dispose();
  rmSync(temp, { recursive: true, force: true });
});

describe("the dashboard in a browser", () => {
  it("shows the experiment's verdict, its interval chart and the sample-ratio alert", async () => {
    const context = await browser.newContext({ userAgent: USER_AGENT, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    // ?token= is exchanged for the admin cookie and redirected away.
    const response = await page.goto(`${url}/__pz/admin/?token=${TOKEN}`);
    expect(response?.status()).toBe(200);
    expect(new URL(page.url()).search).toBe("");

    const card = page.locator('section.experiment[data-experiment="split-test"]');
    await card.scrollIntoViewIfNeeded();
    const alert = card.locator(".srm-alert");
    expect(await alert.isVisible()).toBe(true);
    expect(await alert.innerText()).toMatch(
      /Sample-ratio mismatch \(p = .*\): the split differs from the configured weights/,
    );

    const verdict = card.locator(".verdict");
    expect(await verdict.isVisible()).toBe(true);
    // 10% vs 20% on 1,000 and 600 units: bold wins, by +100%, even with always-valid intervals.
    expect(await verdict.innerText()).toMatch(/^bold beats control on purchase: \+100\.0% \(\+\d/);

    const chart = card.locator("svg.effect-chart");
    expect(await chart.isVisible()).toBe(true);
    const box = await chart.boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(30);
    // The drawn interval: a thick line with its point estimate, both on screen.
    const interval = chart.locator('line[stroke-width="4"]');
    expect(await interval.count()).toBe(1);
    const line = await interval.boundingBox();
    expect(line!.width).toBeGreaterThan(10);
    expect(await chart.locator("circle").isVisible()).toBe(true);
    expect(await card.locator("svg.timeline-chart").isVisible()).toBe(true);

    const shot = join(temp, "split-test-card.png");
    await card.screenshot({ path: shot });
    const png = readFileSync(shot);
    expect(existsSync(shot)).toBe(true);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(10_000);
    await context.close();
  });
});
