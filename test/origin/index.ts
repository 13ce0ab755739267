/**
 * A test origin in the test's own isolate, handed to the worker as its ORIGIN service binding:
 * it routes by path, records every request it gets, and lets a test drive a page's stream chunk by chunk.
 */

/** The demo-like page: three kinds of slot, a text binding and a body end for the tracker. */
export const PAGE = `<!doctype html><html><head><title>Shop</title></head><body>
<div data-pz-slot="hero"><h1>Default hero</h1></div>
<p>Hi <span data-pz-text="profile.firstName">there</span>!</p>
<div data-pz-slot="banner">Default banner</div>
<div data-pz-slot="country">No country</div>
<div data-pz-slot="promo"><p>Default promo</p><template data-pz-variant="spring"><p>Spring sale</p></template><template data-pz-variant="autumn"><p>Autumn sale</p></template></div>
</body></html>`;

/** A page whose only slot and binding need the profile. */
export const MEMBERS_PAGE = `<!doctype html><html><body><div data-pz-slot="hero"><h1>Members</h1></div><p>Hi <span data-pz-text="profile.firstName">there</span></p></body></html>`;

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const HTML = { "content-type": "text/html; charset=utf-8" };

export class TestOrigin {
  readonly requests: RecordedRequest[] = [];
  /** The writable end of the next /stream page: the test writes chunks and closes it. */
  stream: WritableStreamDefaultWriter<Uint8Array> | null = null;

  /** The Fetcher the worker's env.ORIGIN gets. */
  readonly fetcher = {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => this.handle(new Request(input, init)),
  } as unknown as Fetcher;

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    this.requests.push({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body: request.body ? await request.text() : "",
    });
    switch (url.pathname) {
      case "/":
      case "/page":
        return new Response(PAGE, {
          headers: {
            ...HTML,
            etag: '"v1"',
            "last-modified": "Tue, 10 Mar 2026 10:00:00 GMT",
            "cache-control": "public, max-age=600",
          },
        });
      case "/members":
        return new Response(MEMBERS_PAGE, { headers: HTML });
      case "/missing":
        return new Response("<h1>Not here</h1>", { status: 404, headers: HTML });
      case "/broken":
        return new Response("<h1>Origin error</h1>", { status: 500, headers: HTML });
      case "/moved":
        return new Response(null, {
          status: 302,
          headers: { location: "/page", "set-cookie": "origin_sid=abc; Path=/" },
        });
      case "/api/data":
        return Response.json({ ok: true, items: [1, 2, 3] }, { headers: { etag: '"d1"' } });
      case "/api/gzip":
        return new Response(await gzip('{"compressed":true}'), {
          headers: { "content-type": "application/json", "content-encoding": "gzip" },
        });
      case "/echo":
        return Response.json(this.requests.at(-1));
      case "/stream":
        return this.streamedPage();
      case "/hang":
        return new Promise<Response>(() => {});
      default:
        return new Response("<p>origin default</p>", { headers: HTML });
    }
  }

  private streamedPage(): Response {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    this.stream = writable.getWriter();
    return new Response(readable, { headers: HTML });
  }
}

/** Gzips text, as an origin with compression on would send it. */
export async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
