// Numbers on the page, before any library reads the locale.
// navigator.language is whatever the visitor's system says, and not always a tag Intl accepts:
// WebKitGTK started under LANG=C reports "C", and uPlot builds its number format from
// navigator.language while its script loads, so it would throw and leave no charts. An
// unreadable tag is replaced by the first readable one the browser lists, else "en-US".
// Falken's text is English, so its numbers are written the English way everywhere (the status
// lines Python writes, and the chart axes through falkenNumbers.axis), whatever the locale.
(() => {
  const readable = tag => { try { new Intl.NumberFormat(tag); return true; } catch (error) { return false; } };
  if (!readable(navigator.language)) {
    const fallback = (navigator.languages || []).find(readable) || "en-US";
    Object.defineProperty(navigator, "language", { get: () => fallback, configurable: true });
  }
  const english = new Intl.NumberFormat("en-US", { maximumFractionDigits: 6 });
  window.falkenNumbers = {
    format: value => english.format(value),
    axis: (chart, splits) => splits.map(value => (value == null ? "" : english.format(value))),
  };
})();
