// The Digits view's prediction, #prediction and its ten probability bars, drawn in one call from
// Python (app/digits_view.py). Each property Python sets on a page element is a crossing of
// Pyodide's FFI, about 25 µs in Chromium's main thread: ten bars' width, data-p and percentage,
// and the lookups, were 1.4 ms of every live prediction's 4.6. Here they cost one crossing.
// While a stroke is drawn most bars keep their rounded figures from frame to frame: a write that
// would not change what the element holds is skipped (each one costs the engine style work).
window.falkenBars = {
  elements: null,     // looked up on the first call: #prediction, then [bar, percentage] per digit
  drawn: 0,           // how many predictions (or empty ones) were shown: tests and the bench count frames by it

  show(probabilities) {
    this.drawn++;
    if (!this.elements) {
      const byId = id => document.getElementById(id);
      this.elements = {prediction: byId("prediction"),
                       bars: [...Array(10).keys()].map(d => [byId(`prob-${d}`), byId(`prob-${d}-pct`)])};
    }
    const {prediction, bars} = this.elements;
    let digit = "";
    if (probabilities) {
      digit = 0;                                    // the first of the most probable, as np.argmax
      for (let d = 1; d < 10; d++) if (probabilities[d] > probabilities[digit]) digit = d;
    }
    setText(prediction, digit === "" ? "–" : String(digit));
    if (prediction.dataset.digit !== String(digit)) prediction.dataset.digit = String(digit);
    for (let d = 0; d < 10; d++) {
      const p = probabilities ? probabilities[d] : 0;
      const [bar, percentage] = bars[d];
      const width = `${(100 * p).toFixed(1)}%`, shown = p.toFixed(4);
      if (bar.dataset.p !== shown) {
        bar.style.width = width;
        bar.dataset.p = shown;
      }
      setText(percentage, p ? width : "–");
    }
  },
};

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}
