/** Shared by the link, admin, decide and visitor tests: admin calls and a small playbook with two campaigns. */
import { env, SELF } from "cloudflare:test";
import { compilePlaybook, formatDiagnostic, type SourceText } from "../../src/compiler/index";
import type { CompiledRuleset } from "../../src/core/index";

export const ORIGIN = "http://localhost";

/** Headers an admin client sends. */
export function adminHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${env.PZ_ADMIN_TOKEN}`, ...extra };
}

/** Calls an admin route with the admin token; a body object is sent as JSON. */
export function admin(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const init: RequestInit = { method, headers: adminHeaders(headers) };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] ??= "application/json";
  }
  return SELF.fetch(`${ORIGIN}/__pz/admin${path}`, init);
}

/**
 * A playbook small enough to reason about: one slot, a profile segment, a layer, an offer, an experiment, two
 * campaigns.
 */
export const PLAYBOOK = [
  {
    path: "rules/site.yaml",
    text: `
slots:
  hero: { description: Banner }
segments:
  gold: { when: { profile.tier: gold } }
layers:
  - id: context
    stages:
      - { id: browsing, entry: { request.path: { $regex: "^/offers" } } }
offers:
  - id: gold-upgrade
    slots: [hero]
    eligible: { $segment: gold }
    content: { html: "<p>Hello {{profile.firstName|there}}, gold offer</p>" }
  - id: welcome
    slots: [hero]
    weight: 0.5
    content: { html: "<p>Welcome</p>" }
experiments:
  - id: cta
    kind: header
    variants: [{ id: control }, { id: bold }]
`,
  },
  {
    path: "rules/campaigns.yaml",
    text: `
campaigns:
  - id: spring-sms
    channel: sms
    destinations: ["/offers/*", "/quote", "https://shop.example.com/sale/*"]
    landing: /spring
    ttl: 14d
    utm: { source: sms, campaign: spring-renewal }
  - id: win-back-email
    channel: email
    destinations: ["/shop/*"]
    landing: /
    ttl: 30d
`,
  },
];

/** Compiles playbook source as `pz rules build` does; throws with the diagnostics if it does not compile. */
export function compiled(files: SourceText[] = PLAYBOOK): CompiledRuleset {
  const result = compilePlaybook(files);
  if (!result.ok)
    throw new Error(`fixture does not compile:\n${result.errors.map((d) => formatDiagnostic(d)).join("\n")}`);
  return result.ruleset;
}

/**
 * Compiles `files` and publishes the ruleset through the admin API, as `pz rules publish` does; returns the new live
 * version.
 */
export async function publish(files = PLAYBOOK): Promise<string> {
  const res = await admin("POST", "/rules", compiled(files));
  if (res.status !== 201) throw new Error(`publish failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { version: string }).version;
}
