// The Digits view's prediction, #prediction and its ten probability bars, drawn in one call from
// Python (app/digits_view.py). Each property Python sets on a page element is a crossing of
// Pyodide's FFI, about 25 µs in Chromium's main thread: ten bars' width, data-p and percentage,
// and the lookups, were 1.4 ms of every live prediction's 4.6. Here they cost one crossing.
window.falkenBars = {
  // probabilities: ten numbers in [0, 1], or null for no prediction (empty bars, "–")
  show(probabilities) {
    const prediction = document.getElementById("prediction");
    let digit = "";
    if (probabilities) {
      digit = 0;                                    // the first of the most probable, as np.argmax
      for (let d = 1; d < 10; d++) if (probabilities[d] > probabilities[digit]) digit = d;
    }
    prediction.textContent = digit === "" ? "–" : String(digit);
    prediction.dataset.digit = String(digit);
    for (let d = 0; d < 10; d++) {
      const p = probabilities ? probabilities[d] : 0;
      const bar = document.getElementById(`prob-${d}`);
      bar.style.width = `${(100 * p).toFixed(1)}%`;
      bar.dataset.p = p.toFixed(4);
      document.getElementById(`prob-${d}-pct`).textContent = p ? `${(100 * p).toFixed(1)}%` : "–";
    }
  },
};
