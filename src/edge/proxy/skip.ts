/** Which requests the proxy never personalises: they reach the origin as sent and come back untouched. */
import { verifiedBot } from "./bots";
import { deviceClass, type DeviceClass } from "./device";

/** Static assets, by extension: stylesheets, scripts, images, fonts, media, documents, archives, maps. */
const STATIC_ASSET =
  /\.(?:css|m?js|json|map|xml|txt|ico|png|jpe?g|gif|webp|avif|svg|bmp|tiff?|woff2?|ttf|otf|eot|mp4|webm|ogg|mp3|wav|m4a|pdf|zip|gz|br|wasm|webmanifest)$/i;

/**
 * Why a request is passed through untouched, or null when it may be personalised. `device` is the
 * user agent's class when the caller already has it (the proxy computes it once per request).
 */
export function skipReason(
  request: Request,
  url: URL,
  device: DeviceClass = deviceClass(request.headers.get("user-agent")),
  cf = request.cf as Record<string, unknown> | undefined,
): string | null {
  if (request.method !== "GET" && request.method !== "HEAD") return "method";
  if (STATIC_ASSET.test(url.pathname)) return "static asset";
  // isBot(request), without classing the user agent a second time.
  if (device === "bot" || verifiedBot(cf)) return "bot";
  return null;
}

/** True when the browser asks for a page (a navigation), as opposed to an API call or a subresource. */
export function wantsHtml(request: Request): boolean {
  return (
    request.headers.get("sec-fetch-dest") === "document" || (request.headers.get("accept") ?? "").includes("text/html")
  );
}

/** True for a response the rewriter may touch: a 200 HTML page. */
export function isHtmlPage(response: Response): boolean {
  return response.status === 200 && (response.headers.get("content-type") ?? "").toLowerCase().startsWith("text/html");
}
