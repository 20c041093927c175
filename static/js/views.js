// The view in the address, as <html data-view>, kept up to date on every hash change. The
// stylesheet switches views on this attribute, not on :has(:target): WebKit can miss the style
// update for :has(:target) on load, and a link to #digits then showed tic-tac-toe for a second.
// Only the part before "?" names the view: after it come the view's settings (app/address.py).
// Runs before the body is parsed and before Python, so the right view is the first one drawn.
(function () {
  function mark() {
    document.documentElement.dataset.view = location.hash.slice(1).split("?")[0] || "tictactoe";
  }
  mark();
  addEventListener("hashchange", mark);
})();
