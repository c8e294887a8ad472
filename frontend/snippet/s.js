/*
 * daytwo.js: the Daytwo tracking snippet (docs/design.md §8). This is the readable source; `cargo xtask build-assets`
 * minifies it with esbuild into assets/s.js, which the Worker serves at GET /s.js. Budget: < 1,000 B gzip.
 *
 * Install (one tag):
 *   <script async src="https://HOST/s.js" data-write-key="wk_…"></script>
 * Options, as data- attributes on that tag:
 *   data-endpoint="https://…"   where events go; default: the origin this script was loaded from.
 *   data-storage="local"        keep the anonymous id (and the user and group ids) in localStorage, so one
 *                               visitor stays one visitor across pages. Default: memory only, no cookies,
 *                               nothing stored: every page load is a new anonymous visitor.
 *
 * Calls made before the script has loaded are queued by this inline stub (put it before the tag) and replayed,
 * in order, right after the automatic page view (so the stub needs no page() call of its own):
 *   <script>window.daytwo=window.daytwo||[];["page","track","identify","group"].forEach(function(m){daytwo[m]=daytwo[m]||function(){daytwo.push([m].concat([].slice.call(arguments)))}})</script>
 *
 * API (Segment-like; window.daytwo):
 *   daytwo.page(name?, properties?)     (sent automatically once on load)
 *   daytwo.track(event, properties?)    e.g. track('Order Completed', {revenue: 1200.5, currency: 'USD'})
 *   daytwo.identify(userId, traits?)    later messages carry userId
 *   daytwo.group(groupId, traits?)      later messages carry context.groupId
 *
 * Messages follow Segment's spec (type, messageId, anonymousId, userId, timestamp, context.page,
 * context.campaign from utm_* parameters, context.library, context.groupId, properties/traits). They are
 * batched: sent after 1 s or at 10 messages as `POST {endpoint}/v1/b` with a text/plain body
 * {"writeKey", "sentAt", "batch"} (no CORS preflight), and with navigator.sendBeacon on pagehide or when the
 * page becomes hidden.
 *
 * Privacy: with Do Not Track or Global Privacy Control on, nothing is ever sent (the API stays callable and
 * does nothing). It never throws into the host page: every entry point swallows its errors, failed sends too.
 *
 * Size: esbuild renames locals but not properties, so internal names are short and the wire names appear once.
 */
((w, d, n, X = Object.assign) => {
  let Q = [], T, A, U, G, K, E, L, C;
  const off = (n.doNotTrack || w.doNotTrack) == 1 || n.globalPrivacyControl === true;
  const now = () => new Date().toISOString();
  // Outside secure contexts (plain http) there is no randomUUID: time + randomness is unique enough there.
  const uid = () => (crypto.randomUUID ? crypto.randomUUID() : Date.now() + "" + Math.random());
  const page = (l = location) => ({ path: l.pathname, url: l.href, title: d.title, referrer: d.referrer, search: l.search });

  // Sends what is queued: fetch (keepalive) normally, sendBeacon when the page goes away (b). Both send a
  // string body as `text/plain;charset=UTF-8` by themselves (a CORS-safelisted type: no preflight), which is
  // what `new Blob([body], {type: "text/plain"})` and an explicit Content-Type header would say, in fewer bytes.
  const flush = (b, body) => {
    T = 0; // a timer still pending after a flush of 10 only sends the next messages a little earlier
    try {
      Q.length &&
        ((body = JSON.stringify({ writeKey: K, batch: Q.splice(0), sentAt: now() })),
        (b && n.sendBeacon(E, body)) || fetch(E, { method: "POST", body, keepalive: true }).catch(() => 0));
    } catch (e) {}
  };

  // The API: each method's type is its name; f turns the arguments into the message's own fields (or
  // nothing, to send nothing). A no-op under DNT/GPC, and it never throws.
  const api = {};
  const def = (type, f) =>
    (api[type] = (...a) => {
      try {
        if (!off && (a = f(...a))) {
          a = X(
            {
              type,
              messageId: uid(),
              anonymousId: A,
              userId: U, // undefined until identify(): JSON.stringify leaves it out
              timestamp: now(),
              context: (C = { page: page(), library: { name: "daytwo.js", version: "1.0.0" }, groupId: G }),
            },
            a,
          );
          // UTM capture: utm_source=x → context.campaign.source = x (utm_campaign → name), as Segment does.
          new URLSearchParams(C.page.search).forEach((v, k) => {
            k.indexOf("utm_") || ((C.campaign = C.campaign || {})[k == "utm_campaign" ? "name" : k.slice(4)] = v);
          });
          // Serialised once here: a message that cannot be (a cycle in its properties) throws now and is
          // dropped alone, instead of failing the whole batch later.
          JSON.stringify(a);
          Q.push(a);
          Q.length > 9 ? flush() : T || (T = setTimeout(flush, 1e3));
          L && (localStorage.daytwo = JSON.stringify([A, U, G])); // last: a full storage loses no message
        }
      } catch (e) {}
    });
  // The Worker rejects a batch whole when one message is invalid, so ids and names are checked here and
  // properties/traits are always plain objects (Object.assign({}, x) copies whatever x is into one).
  def("page", (a, p) => (
    a && typeof a == "object" && ((p = a), (a = 0)), { name: a ? "" + a : void 0, properties: X(page(), p) }
  ));
  def("track", (e, p) => e && { event: "" + e, properties: X({}, p) });
  def("identify", (u, t) => (
    u && typeof u == "object" ? (t = u) : u != null && (U = "" + u), { traits: X({}, t) }
  ));
  def("group", (g, t) => (g != null && (G = "" + g), G && { groupId: G, traits: X({}, t) }));

  try {
    const q = w.daytwo;
    if (q && !q.push) return; // loaded twice: keep the first
    // The tag's settings. Without them (no currentScript: loaded as a module or by eval) this throws and the
    // stub stays in place, harmlessly queueing.
    const s = d.currentScript, // set while a classic script (async or not) first runs
      o = s.dataset;
    K = o.writeKey;
    E = (o.endpoint || new URL(s.src).origin) + "/v1/b"; // a trailing slash is fine: the Worker trims them
    L = o.storage == "local";
    try {
      [A, U, G] = (L && JSON.parse(localStorage.daytwo)) || [];
    } catch (e) {}
    A = A || uid();
    w.daytwo = api;
    addEventListener("pagehide", () => flush(1));
    addEventListener("visibilitychange", () => d.hidden && flush(1));
    api.page();
    q && q.map(([m, ...a]) => api[m] && api[m](...a));
  } catch (e) {}
})(window, document, navigator);
