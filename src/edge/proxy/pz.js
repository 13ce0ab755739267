// @ts-check
// pz.js, served at /__pz/pz.js as it is written here: plain ES2017, type-checked by tsconfig.tracker.json.
(function (w, d) {
  "use strict";
  /** @typedef {Record<string, unknown>} Fields */
  /**
   * @typedef {{ ready: number, flush: () => void, scan: () => void, track: (name: unknown, props?: unknown) => void,
   * accept: (offer: unknown, props?: unknown) => void, dismiss: (offer: unknown, props?: unknown) => void }} Api
   */
  /**
   * @typedef {unknown[][] & { ready?: number }} Queued calls the page queued before the script loaded (or a loaded pz)
   */
  var page = /** @type {Window & { pz?: Queued | Api }} */ (w);
  var pre = /** @type {Queued | undefined} */ (page.pz);
  if (pre && pre.ready) return;
  var U = "/__pz/events",
    S = "[data-pz-decision]",
    n = navigator,
    timer = 0;
  /** @type {Fields[]} */
  var q = [];
  /** @type {Element[]} */
  var seen = [];

  function uid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }

  /** @param {Element | null} el @returns {Record<string, string>} */
  function attrs(el) {
    /** @type {Record<string, string>} */
    var o = {},
      k = ["slot", "decision", "offer", "experiment", "variant"];
    for (var i = 0; i < k.length; i++) {
      var v = el && el.getAttribute("data-pz-" + k[i]);
      if (v) o[k[i]] = v;
    }
    return o;
  }

  // Events the worker could not take (503 while its queue is down, a network error) wait in a small
  // backlog, kept in sessionStorage so the next page of the visit still has them, and are sent again
  // after Retry-After. Resends are safe: the worker stores an event id once.
  var KEY = "pz_backlog",
    MAX = 100,
    retry = 0;
  /** @type {Fields[]} */
  var backlog = [];
  try {
    var kept = JSON.parse(w.sessionStorage.getItem(KEY) || "[]");
    if (Array.isArray(kept)) backlog = kept.slice(-MAX);
  } catch (e) {}

  function save() {
    try {
      if (backlog.length) w.sessionStorage.setItem(KEY, JSON.stringify(backlog));
      else w.sessionStorage.removeItem(KEY);
    } catch (e) {}
  }

  /** @param {Fields[]} events @param {number} seconds */
  function keep(events, seconds) {
    backlog = backlog.concat(events).slice(-MAX);
    save();
    if (!retry) retry = setTimeout(resend, Math.min(60, Math.max(1, seconds || 5)) * 1000);
  }

  function resend() {
    retry = 0;
    var events = backlog.splice(0, 50);
    save();
    if (events.length) send(events, 0);
  }

  /** @param {Fields[]} events @param {number} leaving the page is going: sendBeacon, which outlives it */
  function send(events, leaving) {
    var b = JSON.stringify({ events: events });
    if (leaving && n.sendBeacon && n.sendBeacon(U, new Blob([b], { type: "text/plain" }))) return;
    fetch(U, {
      method: "POST",
      body: b,
      keepalive: true,
      credentials: "same-origin",
      headers: { "content-type": "text/plain" },
    }).then(
      function (r) {
        if (r.status === 429 || r.status >= 500) keep(events, Number(r.headers.get("Retry-After")));
        else if (backlog.length && !retry) retry = setTimeout(resend, 0);
      },
      function () {
        keep(events, 5);
      },
    );
  }

  /** @param {unknown} [leaving] */
  function flush(leaving) {
    clearTimeout(timer);
    timer = 0;
    var going = leaving === 1 ? 1 : 0;
    while (q.length) send(q.splice(0, 50), going);
  }

  /** @param {string} type @param {Fields} f @param {number} [now] send at once */
  function push(type, f, now) {
    /** @type {Fields} */
    var e = { id: uid(), type: type, at: Date.now() };
    for (var k in f) e[k] = f[k];
    q.push(e);
    if (now || q.length >= 20) flush();
    else if (!timer) timer = setTimeout(flush, 2000);
  }

  /** @param {unknown} offer */
  function slotOf(offer) {
    var el = d.querySelector('[data-pz-offer="' + String(offer).replace(/["\\]/g, "") + '"]');
    return el ? attrs(el) : {};
  }

  /** @param {string} type */
  function outcome(type) {
    return /** @param {unknown} offer @param {unknown} [props] */ function (offer, props) {
      /** @type {Fields} */
      var f = slotOf(offer);
      f.offer = String(offer);
      if (props) f.props = props;
      push(type, f, 1);
    };
  }

  /** @type {IntersectionObserver | undefined} */
  var io =
    w.IntersectionObserver &&
    new IntersectionObserver(
      function (list) {
        for (var i = 0; i < list.length; i++) {
          var x = list[i];
          if (x.intersectionRatio >= 0.5) {
            /** @type {IntersectionObserver} */ (io).unobserve(x.target);
            push("impression", attrs(x.target));
          }
        }
      },
      { threshold: 0.5 },
    );

  function scan() {
    var els = d.querySelectorAll(S);
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (seen.indexOf(el) < 0) {
        seen.push(el);
        if (io) io.observe(el);
      }
    }
  }

  d.addEventListener(
    "click",
    function (e) {
      var t = /** @type {Element | null} */ (e.target);
      var el = t && t.closest && t.closest(S);
      // A control marked data-pz-action (the site's accept or dismiss button) records its own outcome, not a click.
      if (el && t && !t.closest("[data-pz-action]")) push("click", attrs(el), 1);
    },
    true,
  );
  d.addEventListener("visibilitychange", function () {
    if (d.visibilityState === "hidden") flush(1);
  });
  w.addEventListener("pagehide", function () {
    flush(1);
  });

  /** @type {Api} */
  var api = {
    ready: 1,
    flush: flush,
    scan: scan,
    track: function (name, props) {
      /** @type {Fields} */
      var f = { name: String(name) };
      if (props) f.props = props;
      push("custom", f);
    },
    accept: outcome("accept"),
    dismiss: outcome("dismiss"),
  };
  page.pz = api;
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", scan);
  else scan();
  if (backlog.length) retry = setTimeout(resend, 0);
  if (pre && pre.length)
    for (var i = 0; i < pre.length; i++) {
      var c = pre[i];
      var fn = c && /** @type {Record<string, unknown>} */ (api)[/** @type {string} */ (c[0])];
      if (fn) /** @type {Function} */ (fn).apply(api, c.slice(1));
    }
})(window, document);
