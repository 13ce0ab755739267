// The bundled demo site (the default origin for `npm start`): pages in site/pages inside site/layout.html, on
// 127.0.0.1:8788.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SITE = join(dirname(fileURLToPath(import.meta.url)), "site");
const PORT = Number(process.env.DEMO_PORT ?? 8788);

/** Path -> [page file, title]; the first matching rule wins. */
const ROUTES = [
  [/^\/$/, "home", "Home"],
  [/^\/quote(\/.*)?$/, "quote", "Get a quote"],
  [/^\/help\/complaint(\/.*)?$/, "complaint", "Make a complaint"],
  [/^\/help\/?$/, "help", "Help centre"],
  [/^\/offers\/[\w-]+$/, "offers", "Offers"],
  [/^\/checkout$/, "checkout", "Checkout"],
];

/** The checkout page renders the variant the worker assigned (X-PZ-Variants), as an origin would. */
function checkoutVariant(header) {
  const match = /(?:^|;\s*)checkout-cta=([\w-]+)/.exec(header ?? "");
  const variant = match ? match[1] : "none";
  const bold = variant === "bold";
  return {
    "checkout-cta": variant,
    "cta-class": bold ? "bold" : "",
    "cta-label": bold ? "Buy now" : "Continue to payment",
  };
}

function fill(template, values) {
  return template.replace(/\{\{([\w-]+)\}\}/g, (whole, key) => (key in values ? values[key] : whole));
}

async function page(name, title, values) {
  const [layout, content] = await Promise.all([
    readFile(join(SITE, "layout.html"), "utf8"),
    readFile(join(SITE, "pages", `${name}.html`), "utf8"),
  ]);
  return fill(layout, { title, content: fill(content, values) });
}

async function handle(req, res) {
  const url = new URL(req.url, "http://demo.local");
  if (url.pathname === "/assets/site.css") {
    res.writeHead(200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" });
    return res.end(await readFile(join(SITE, "assets", "site.css")));
  }
  if (req.method === "POST" && url.pathname === "/quote") {
    res.writeHead(303, { location: "/checkout" });
    return res.end();
  }
  const route = ROUTES.find(([pattern]) => pattern.test(url.pathname));
  const values = checkoutVariant(req.headers["x-pz-variants"]);
  const html = route ? await page(route[1], route[2], values) : await page("not-found", "Not found", values);
  res.writeHead(route ? 200 : 404, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "public, max-age=60",
  });
  res.end(req.method === "HEAD" ? undefined : html);
}

createServer((req, res) => {
  handle(req, res).catch((err) => {
    res.writeHead(500, { "content-type": "text/plain" });
    res.end(`demo site error: ${err.message}`);
  });
}).listen(PORT, "127.0.0.1", () => console.log(`demo site on http://127.0.0.1:${PORT}`));
