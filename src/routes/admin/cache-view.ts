/** The dashboard's edge-cache section: the hit ratio over the counts the proxy's events carried. */
import { html } from "hono/html";
import type { CacheRatio } from "../../edge/cache/cache-stats";

/** "Edge cache: 87.5% of cacheable views answered from the cache (…)", or a note when nothing was counted yet. */
export function cacheSection(cache: CacheRatio | undefined) {
  if (!cache) return html`<p class="muted">Edge cache figures are unavailable.</p>`;
  const since = `${new Date(cache.sinceMs).toISOString().slice(0, 10)} (UTC)`;
  if (cache.ratio === null) {
    return html`<p class="muted">No page view that could use the edge cache was counted since ${since}.</p>`;
  }
  return html`<p>Hit ratio <strong>${(cache.ratio * 100).toFixed(1)}%</strong> since ${since}
(hits ${cache.hit}, stale ${cache.stale}, misses ${cache.miss}; ${cache.pass} views could not use the cache).</p>
<p class="muted">Counted per isolate and carried on the events page views send; views an isolate had not yet reported are not included.</p>`;
}
