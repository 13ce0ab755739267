/**
 * The page's tracking script (served at /__pz/pz.js): impressions of personalised slots when at
 * least half visible, clicks in them, pz.track / pz.accept / pz.dismiss, batched to
 * POST /__pz/events by sendBeacon (fetch keepalive as fallback). Dependency-free, well under 2 KB
 * gzipped, and written in plain ES2017 so every current browser runs it untranspiled.
 */

/** Where the script posts; the same origin as the page, so the pz_id cookie travels with it. */
export const EVENTS_PATH = "/__pz/events";
export const TRACKER_PATH = "/__pz/pz.js";

/**
 * The script. Slot attributes read: data-pz-decision (required to be tracked), data-pz-slot,
 * data-pz-offer, data-pz-experiment, data-pz-variant. A page may queue calls before the script
 * loads with `window.pz = window.pz || []; pz.push(["track", "signup"])`.
 */
export const TRACKER_SCRIPT = `(function(w,d){
"use strict";
var pre=w.pz;if(pre&&pre.ready)return;
var U=${JSON.stringify(EVENTS_PATH)},S="[data-pz-decision]",q=[],timer=0,seen=[],n=navigator;
function uid(){if(w.crypto&&crypto.randomUUID)return crypto.randomUUID();
return Date.now().toString(36)+"-"+Math.random().toString(36).slice(2)+Math.random().toString(36).slice(2)}
function attrs(el){var o={},k=["slot","decision","offer","experiment","variant"];
for(var i=0;i<k.length;i++){var v=el&&el.getAttribute("data-pz-"+k[i]);if(v)o[k[i]]=v}return o}
function flush(){clearTimeout(timer);timer=0;
while(q.length){var b=JSON.stringify({events:q.splice(0,50)});
if(!(n.sendBeacon&&n.sendBeacon(U,new Blob([b],{type:"text/plain"}))))
fetch(U,{method:"POST",body:b,keepalive:true,credentials:"same-origin",headers:{"content-type":"text/plain"}})["catch"](function(){})}}
function push(type,f,now){var e={id:uid(),type:type,at:Date.now()};for(var k in f)e[k]=f[k];q.push(e);
if(now||q.length>=20)flush();else if(!timer)timer=setTimeout(flush,2000)}
function slotOf(offer){var el=d.querySelector('[data-pz-offer="'+String(offer).replace(/["\\\\]/g,"")+'"]');return el?attrs(el):{}}
function outcome(type){return function(offer,props){var f=slotOf(offer);f.offer=String(offer);if(props)f.props=props;push(type,f,1)}}
var io=w.IntersectionObserver&&new IntersectionObserver(function(list){
for(var i=0;i<list.length;i++){var x=list[i];if(x.intersectionRatio>=0.5){io.unobserve(x.target);push("impression",attrs(x.target))}}},{threshold:0.5});
function scan(){var els=d.querySelectorAll(S);for(var i=0;i<els.length;i++){var el=els[i];
if(seen.indexOf(el)<0){seen.push(el);if(io)io.observe(el)}}}
d.addEventListener("click",function(e){var el=e.target&&e.target.closest&&e.target.closest(S);
if(el)push("click",attrs(el),1)},true);
d.addEventListener("visibilitychange",function(){if(d.visibilityState==="hidden")flush()});
w.addEventListener("pagehide",flush);
var api={ready:1,flush:flush,scan:scan,
track:function(name,props){var f={name:String(name)};if(props)f.props=props;push("custom",f)},
accept:outcome("accept"),dismiss:outcome("dismiss")};
w.pz=api;
if(d.readyState==="loading")d.addEventListener("DOMContentLoaded",scan);else scan();
if(pre&&pre.length)for(var i=0;i<pre.length;i++){var c=pre[i];if(c&&api[c[0]])api[c[0]].apply(api,c.slice(1))}
})(window,document);
`;

/** 32-bit FNV-1a as 8 hex characters: a short, stable content hash for the versioned URL. */
function contentHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Changes whenever the script's text changes, so the versioned URL can be cached for a year. */
export const TRACKER_VERSION = contentHash(TRACKER_SCRIPT);

/** The versioned script URL. */
export function trackerUrl(): string {
  return `${TRACKER_PATH}?v=${TRACKER_VERSION}`;
}

/** The tag the proxy injects before </body> when INJECT_TRACKER is on. */
export function trackerScriptTag(): string {
  return `<script src="${trackerUrl()}" defer></script>`;
}
