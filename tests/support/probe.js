// The tests' console probe for engines whose WebDriver has no console log (Firefox, WebKit):
// keeps console.error calls, uncaught errors, failed element loads, unhandled rejections and
// CSP violations in window.__falkenProbe, where the harness reads them.
(() => {
  if (window.__falkenProbe) return;
  const seen = window.__falkenProbe = [];
  // An error's stack, led by its name and message: only V8's stack starts with them.
  const describe = p => {
    if (!p || !p.stack) return String(p);
    const stack = String(p.stack), head = String(p);
    return stack.startsWith(head) ? stack : `${head}\n${stack}`;
  };
  const keep = (...parts) => seen.push(parts.map(describe).join(" "));
  const error = console.error.bind(console);
  console.error = (...parts) => { keep(...parts); error(...parts); };
  addEventListener("error", event => {
    const target = event.target;
    if (target && target !== window && (target.src || target.href)) keep("failed to load", target.src || target.href);
    else keep("Uncaught", event.error || event.message);
  }, true);
  addEventListener("unhandledrejection", event => keep("Uncaught (in promise)", event.reason));
  addEventListener("securitypolicyviolation", event =>
    keep(`Content-Security-Policy blocked ${event.blockedURI} (${event.violatedDirective})`));
})();
