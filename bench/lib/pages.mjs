// The origin's HTML for the proxy benchmark: a 50 KB page with three slots, and a 2 MB page.

/** Default (origin-written) content of each slot, so a bench can tell a rewritten slot from an untouched one. */
export const SLOT_DEFAULTS = {
  hero: "<h1>Welcome to Example Insurance</h1><p>Cover that fits your life.</p>",
  "offer-banner": "<p>Ask us about our products.</p>",
  greeting: 'Hello <span data-pz-text="profile.firstName">there</span>!',
};

const head = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Example Insurance — Home</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/site.css">
</head>
<body>
<header><nav><a href="/">Home</a> <a href="/car">Car</a> <a href="/home-insurance">Home</a> <a href="/quote">Get a quote</a></nav></header>
<main>
<div class="greeting" data-pz-slot="greeting">${SLOT_DEFAULTS.greeting}</div>
<div class="hero" data-pz-slot="hero">${SLOT_DEFAULTS.hero}</div>
<div class="banner" data-pz-slot="offer-banner">${SLOT_DEFAULTS["offer-banner"]}</div>
`;

const tail = `</main>
<footer><p>© Example Insurance. All rights reserved.</p></footer>
</body>
</html>
`;

/** One block of ordinary page content (a card with a heading, text and a link). */
function card(i) {
  return `<section class="card" id="card-${i}"><h2>Article ${i}</h2><p>Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua, item ${i}.</p><ul><li>Point one</li><li>Point two</li><li>Point three</li></ul><a href="/articles/${i}">Read more</a></section>\n`;
}

/** A page of about `bytes` bytes: the head with the three slots, filler cards, the tail. */
export function buildPage(bytes) {
  const parts = [head];
  let size = head.length + tail.length;
  for (let i = 1; size < bytes; i++) {
    const c = card(i);
    parts.push(c);
    size += c.length;
  }
  parts.push(tail);
  return Buffer.from(parts.join(""), "utf8");
}
