// Correctness checks run before a worker is loaded: a benchmark of a proxy that does not do its job means nothing.
import { SLOT_DEFAULTS } from "./pages.mjs";

/** The opening tag and inner HTML of a slot (slots in the bench pages hold no nested <div>). */
export function slotOf(html, slot) {
  const match = new RegExp(`(<div[^>]*data-pz-slot="${slot}"[^>]*>)([\\s\\S]*?)</div>`).exec(html);
  return match ? { tag: match[1], inner: match[2] } : null;
}

/** Problems with a proxied page that must equal the origin's bytes; empty when it does. */
export function checkUntouched(body, originBody) {
  return body === originBody
    ? []
    : [`body differs from the origin's (${body.length} vs ${originBody.length} characters)`];
}

/** Problems with a page GrowthBook should have changed: its hero must hold the experiment's HTML. */
export function checkGrowthbook(body, expectedHero) {
  const hero = slotOf(body, "hero");
  if (!hero) return ["hero slot missing"];
  return hero.inner === expectedHero
    ? []
    : [`hero slot not changed (holds ${JSON.stringify(hero.inner.slice(0, 80))})`];
}

/**
 * Problems with a page the pz worker should have personalised for the bench customer: the hero
 * rewritten with a decision attribute, and the greeting showing the profile's first name.
 */
export function checkPersonalised(body, firstName) {
  const problems = [];
  const hero = slotOf(body, "hero");
  if (!hero) problems.push("hero slot missing");
  else {
    if (hero.inner === SLOT_DEFAULTS.hero) problems.push("hero slot still holds the origin's default");
    if (!hero.tag.includes("data-pz-decision")) problems.push("hero slot has no data-pz-decision");
  }
  const greeting = slotOf(body, "greeting");
  if (!greeting?.inner.includes(firstName))
    problems.push(`greeting does not show the profile's first name (${JSON.stringify(greeting?.inner ?? null)})`);
  return problems;
}
