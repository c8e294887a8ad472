// Daytwo dashboard widget: one ES module, served at /widget/daytwo.js.
//
//   <script type="module" src="https://DAYTWO/widget/daytwo.js"></script>
//   <daytwo-dashboard site="acme" token="et1.…"></daytwo-dashboard>
//
// or, from a script:  import { mount } from "https://DAYTWO/widget/daytwo.js";
//                     const widget = await mount(element, { site, token, endpoint });  widget.destroy();
//
// The dashboard renders into an open Shadow DOM, so the host page's CSS cannot restyle it; theme it with
// CSS custom properties (--daytwo-accent, --daytwo-bg, --daytwo-fg, --daytwo-font, …) on the tag.
// `endpoint` defaults to the origin this module was loaded from.

import init, { mount_widget } from "./daytwo_widget.js";

const DEFAULT_ENDPOINT = new URL(import.meta.url).origin;

// One wasm instance for every widget on the page: every caller awaits the same promise.
let ready = null;
function loadWasm() {
  if (!ready) {
    ready = init({ module_or_path: new URL("./daytwo_widget_bg.wasm", import.meta.url) });
  }
  return ready;
}

const roots = new WeakMap();
function shadowOf(element) {
  let root = element.shadowRoot || roots.get(element);
  if (root) return root;
  try {
    root = element.attachShadow({ mode: "open" });
  } catch (_) {
    // Elements that cannot host a shadow root (e.g. <p>): render into an inner <div> that can.
    const div = document.createElement("div");
    element.appendChild(div);
    root = div.attachShadow({ mode: "open" });
  }
  roots.set(element, root);
  return root;
}

function showLoadError(root, error) {
  root.textContent = "";
  const p = document.createElement("p");
  p.setAttribute("role", "alert");
  p.style.cssText = "all:initial;display:block;font:14px system-ui,sans-serif;color:#b3261e;padding:16px";
  p.textContent = "The Daytwo dashboard could not load: " + (error && error.message ? error.message : error);
  root.appendChild(p);
}

/**
 * Mounts a dashboard into `element` (its open shadow root, created if needed).
 * Resolves to a handle with `destroy()`.
 */
export async function mount(element, options = {}) {
  try {
    await loadWasm();
  } catch (error) {
    showLoadError(shadowOf(element), error);
    throw error;
  }
  return mountNow(element, options);
}

// A read token (rt_…) never expires and every viewer of the page can read it: it works, but the admin
// should know. Embed tokens (et1.…, minted by POST /v1/sites/{site}/embed-tokens) expire and can be revoked.
const warned = new Set();
function warnReadToken(token) {
  if (token.startsWith("rt_") && !warned.has(token)) {
    warned.add(token);
    console.warn("Daytwo: this page embeds a read token, which never expires and is visible to every viewer. " +
      "Use a signed embed token instead (POST /v1/sites/{site}/embed-tokens); see the README.");
  }
}

// Mounts once the wasm is initialised (synchronous, so remounts cannot interleave).
function mountNow(element, options) {
  warnReadToken(String(options.token || "").trim());
  const root = shadowOf(element);
  const widget = mount_widget(
    root,
    String(options.endpoint || DEFAULT_ENDPOINT),
    String(options.site || ""),
    String(options.token || ""),
  );
  return {
    destroy() {
      widget.destroy();
      widget.free();
    },
  };
}

class DaytwoDashboard extends HTMLElement {
  static get observedAttributes() {
    return ["endpoint", "site", "token"];
  }

  constructor() {
    super();
    this._handle = null;
    this._seq = 0;
    this._queued = false;
  }

  connectedCallback() {
    this._schedule();
  }

  disconnectedCallback() {
    this._seq++;
    this._unmount();
  }

  attributeChangedCallback(_name, oldValue, newValue) {
    if (oldValue !== newValue && this.isConnected) this._schedule();
  }

  // Several attributes often change together: remount once, after the current task's changes.
  _schedule() {
    if (this._queued) return;
    this._queued = true;
    queueMicrotask(() => {
      this._queued = false;
      this._remount();
    });
  }

  async _remount() {
    const seq = ++this._seq;
    try {
      await loadWasm();
    } catch (error) {
      showLoadError(shadowOf(this), error);
      return;
    }
    if (seq !== this._seq || !this.isConnected) return;
    this._unmount();
    this._handle = mountNow(this, {
      endpoint: this.getAttribute("endpoint"),
      site: this.getAttribute("site"),
      token: this.getAttribute("token"),
    });
  }

  _unmount() {
    if (this._handle) {
      this._handle.destroy();
      this._handle = null;
    }
  }
}

if (!customElements.get("daytwo-dashboard")) {
  customElements.define("daytwo-dashboard", DaytwoDashboard);
}
