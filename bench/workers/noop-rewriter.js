// Benchmark floor for any HTML-rewriting proxy: the passthrough plus an HTMLRewriter whose slot handler does nothing.
const noop = { element() {} };

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const origin = new URL(env.ORIGIN_URL);
    url.protocol = origin.protocol;
    url.host = origin.host;
    const response = await fetch(new Request(url, request));
    if (!(response.headers.get("content-type") ?? "").includes("text/html")) return response;
    return new HTMLRewriter().on("[data-pz-slot]", noop).transform(response);
  },
};
