// The demo shop's tracking setup: what a customer site pastes, plus the per-run write key.
//
// /demo/config.js (loaded just before this file) is written by `cargo xtask run` and sets
// window.DAYTWO_DEMO = {endpoint, site, writeKey, token}. Without it the shop still works; it just sends nothing.
(function () {
  // The inline stub documented at the top of frontend/snippet/s.js: calls made before /s.js has loaded
  // are queued here and replayed, in order, when it loads.
  window.daytwo = window.daytwo || [];
  ["page", "track", "identify", "group"].forEach(function (m) {
    daytwo[m] = daytwo[m] || function () { daytwo.push([m].concat([].slice.call(arguments))); };
  });

  var config = window.DAYTWO_DEMO;
  if (!config || !config.writeKey) {
    document.addEventListener("DOMContentLoaded", function () {
      var note = document.createElement("p");
      note.className = "note";
      note.textContent = "Tracking is off: no /demo/config.js (start the demo with `cargo xtask run`).";
      document.body.insertBefore(note, document.body.firstChild);
    });
    return;
  }
  // The one tag a customer pastes: <script async src="https://DAYTWO/s.js" data-write-key="…"></script>
  // (events go to the script's own origin, the Worker).
  // data-storage="local": this shop opts in to keeping the visitor's ids in localStorage, so the visit from
  // the home page to checkout is one visitor (the snippet's default keeps them in memory, per page).
  var s = document.createElement("script");
  s.async = true;
  s.src = (config.endpoint || "") + "/s.js"; // the Worker: this page may be served from another origin
  s.setAttribute("data-write-key", config.writeKey);
  s.setAttribute("data-storage", "local");
  document.head.appendChild(s);
})();

// A random id for demo users and orders (a real shop has its own).
function demoId(prefix) {
  return prefix + Math.random().toString(36).slice(2, 10);
}
