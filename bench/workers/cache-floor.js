// Benchmark floor for serving a cached page through a rewriter: the Cache API and a no-op HTMLRewriter, nothing else
// (no cookies, no decision, no events). The first request of a URL fills the cache from ORIGIN_URL.
const noop = { element() {} };

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const origin = new URL(env.ORIGIN_URL);
    url.protocol = origin.protocol;
    url.host = origin.host;
    const cache = await caches.open("floor");
    let response = await cache.match(url.href);
    if (!response) {
      response = await fetch(new Request(url, request));
      const [forVisitor, forCache] = response.body.tee();
      const stored = new Response(forCache, response);
      stored.headers.set("cache-control", "public, max-age=3600");
      ctx.waitUntil(cache.put(url.href, stored));
      response = new Response(forVisitor, response);
    }
    return new HTMLRewriter().on("[data-pz-slot]", noop).transform(response);
  },
};
