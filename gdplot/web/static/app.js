// gdplot serve: the page. One EventSource on /events brings the whole state on every change;
// the page keeps its elements and only swaps what changed. A new image is loaded off-screen
// first and swapped in once loaded, so nothing flickers.
"use strict";

const KINDS = ["loss", "fit", "boundary", "surface", "gif"];
const KIND_TITLES = {loss: "loss", fit: "fit", boundary: "decision boundary",
                     surface: "loss surface", gif: "animation", other: "other"};
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const SVG = "http://www.w3.org/2000/svg";

const colours = new Map();   // run id -> colour, kept for the page's life
const columns = new Map();   // run id -> {head, status, cells: Map kind -> cell}
let layout = "";             // the runs and kinds the grid was last built for
let lastState = null;

function colourOf(id) {
  if (!colours.has(id)) colours.set(id, PALETTE[colours.size % PALETTE.length]);
  return colours.get(id);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function fmt(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) {
    return value.toExponential(2);
  }
  return String(Number(value.toPrecision(4)));
}

function batchText(settings) {
  const batch = settings.batch_size;
  return batch === null || batch === undefined ? "full batch" : `batch ${batch}`;
}

function lrText(settings) {
  if (settings.lr === "auto" && typeof settings.lr_used === "number") {
    return `lr auto (${fmt(settings.lr_used)})`;
  }
  return `lr ${fmt(settings.lr)}`;
}

// -- one run's column ------------------------------------------------------------------

function makeColumn(run) {
  const head = el("div", "run-head");
  const title = el("div", "run-title");
  const swatch = el("span", "swatch");
  swatch.style.background = colourOf(run.id);
  const name = el("span", "run-name", run.name);
  title.append(swatch, name);
  const status = el("div", "run-status");
  head.append(title, status);
  return {head, name, status, cells: new Map()};
}

function makeCell(kind) {
  const cell = el("figure", "cell empty-cell");
  const link = el("a");
  link.target = "_blank";
  link.rel = "noopener";
  const img = el("img");
  img.alt = KIND_TITLES[kind] || kind;
  link.append(img);
  const caption = el("figcaption", "caption");
  cell.append(link, caption);
  return {cell, link, img, caption, wanted: null, shown: null};
}

// Load url off-screen; swap it in only once it has loaded (and only if still the newest).
function showImage(slot, url, caption) {
  if (slot.wanted === url) return;
  slot.wanted = url;
  const next = new Image();
  next.src = url;
  // decode(): loaded and decoded, so the swapped-in image paints at once.
  next.decode().then(() => {
    if (slot.wanted !== url) return;
    slot.img.src = url;
    slot.link.href = url;
    slot.shown = url;
    slot.caption.textContent = caption;
    slot.cell.classList.remove("empty-cell");
  }, () => { if (slot.wanted === url) slot.wanted = slot.shown; });
}

function statusLine(run) {
  const line = document.createDocumentFragment();
  const status = run.status;
  if (!status) {
    line.append(el("span", "muted", "no status file"));
    return line;
  }
  const state = run.state || status.state;
  const badge = el("span", `badge ${state}`, state);
  const parts = [status.model || "model?"];
  parts.push(status.epochs ? `epoch ${status.epoch} of ${status.epochs}` : `epoch ${status.epoch}`);
  parts.push(`loss ${fmt(status.loss)}`);
  parts.push(lrText(status.settings || {}));
  parts.push(batchText(status.settings || {}));
  line.append(badge, el("span", "facts", parts.join(" · ")));
  if (status.message) line.append(el("div", "message", status.message));
  if (status.epochs) {
    const bar = el("div", `progress ${state}`);
    const fill = el("div", "fill");
    fill.style.width = `${Math.min(100, 100 * status.epoch / status.epochs)}%`;
    bar.append(fill);
    line.append(bar);
  }
  return line;
}

// -- the grid: a row per plot kind, a column per run ---------------------------------------

function render(state) {
  lastState = state;
  document.getElementById("root").textContent = state.root;
  const runs = state.runs;
  document.getElementById("empty").hidden = runs.length > 0;
  const kinds = KINDS.filter((kind) => runs.some((run) => run.plots[kind]));
  if (runs.some((run) => run.extras.length)) kinds.push("other");

  for (const run of runs) {
    if (!columns.has(run.id)) columns.set(run.id, makeColumn(run));
  }
  for (const id of [...columns.keys()]) {
    if (!runs.some((run) => run.id === id)) columns.delete(id);
  }
  const wanted = JSON.stringify([runs.map((run) => run.id), kinds]);
  const grid = document.getElementById("grid");
  if (wanted !== layout) {
    layout = wanted;
    grid.replaceChildren();
    grid.style.gridTemplateColumns = `var(--label-width) repeat(${runs.length}, minmax(var(--column-min), var(--column-max)))`;
    grid.append(el("div", "corner"));
    for (const run of runs) grid.append(columns.get(run.id).head);
    for (const kind of kinds) {
      grid.append(el("div", "row-label", KIND_TITLES[kind]));
      for (const run of runs) {
        const column = columns.get(run.id);
        if (!column.cells.has(kind)) column.cells.set(kind, makeCell(kind));
        grid.append(column.cells.get(kind).cell);  // moved, not reloaded
      }
    }
  }
  for (const run of runs) {
    const column = columns.get(run.id);
    column.name.textContent = run.name;
    column.status.replaceChildren(statusLine(run));
    for (const kind of kinds) {
      const slot = column.cells.get(kind);
      if (kind === "other") {
        const extra = run.extras[0];
        if (extra) showImage(slot, extra.url, extra.name);
        continue;
      }
      const plot = run.plots[kind];
      if (plot) {
        showImage(slot, plot.url, plot.epoch === null ? plot.name : `epoch ${plot.epoch}`);
      }
    }
  }
  drawOverlay(runs);
}

// -- the overlay of every run's loss ---------------------------------------------------------

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceTicks(low, high, count) {
  const span = high - low || Math.abs(high) || 1;
  const step0 = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => span / s <= count) || step0;
  const ticks = [];
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

// A power of ten as a tick label: 0.01, 1, 100; 1e-5 and 1e6 past three decades.
function decade(value) {
  const power = Math.round(Math.log10(value));
  return Math.abs(power) <= 3 ? String(Number((10 ** power).toPrecision(1))) : `1e${power}`;
}

function drawOverlay(runs) {
  const curves = runs
    .filter((run) => run.status && run.status.history.epoch.length)
    .map((run) => {
      const {epoch, loss} = run.status.history;
      // The loss before the first step, at epoch 0, where it is known.
      const start = run.status.initial_loss;
      return start === null || epoch[0] !== 1
        ? {run, epochs: epoch, losses: loss}
        : {run, epochs: [0, ...epoch], losses: [start, ...loss]};
    });
  const card = document.getElementById("overlay-card");
  card.hidden = curves.length === 0;
  if (!curves.length) return;
  const box = document.getElementById("overlay");
  const width = Math.max(320, box.clientWidth || 640);
  const height = 260;
  const margin = {left: 58, right: 16, top: 12, bottom: 36};
  const values = curves.flatMap((c) => c.losses.filter((v) => v !== null));
  const maxEpoch = Math.max(1, ...curves.map((c) => Math.max(c.run.status.epochs || 0,
                                                              c.epochs[c.epochs.length - 1])));
  let low = Math.min(...values), high = Math.max(...values);
  const log = low > 0 && high / low > 30;
  const toY = log ? Math.log10 : (v) => v;
  if (log) {
    low = 10 ** Math.floor(Math.log10(low));
    high = 10 ** Math.ceil(Math.log10(high));
  } else if (low === high) {
    low -= 0.5; high += 0.5;
  } else {  // out to the ticks around the data, so both ends are labelled
    const ticks = niceTicks(low, high, 5);
    const step = ticks.length > 1 ? ticks[1] - ticks[0] : high - low;
    // (a hair of slack: 1.0000001 is drawn at the tick 1, not one step above it)
    low = Math.floor(low / step + 1e-6) * step;
    high = Math.ceil(high / step - 1e-6) * step;
  }
  const yLow = toY(low), yHigh = toY(high);
  const px = (epoch) => margin.left + (width - margin.left - margin.right) * epoch / maxEpoch;
  const py = (value) => margin.top + (height - margin.top - margin.bottom) *
    (1 - (toY(value) - yLow) / (yHigh - yLow || 1));

  const chart = svg("svg", {width, height, viewBox: `0 0 ${width} ${height}`, class: "overlay-svg"});
  const yTicks = log
    ? Array.from({length: Math.round(yHigh - yLow) + 1}, (_, i) => 10 ** (yLow + i))
    : niceTicks(low, high, 5);
  for (const tick of yTicks) {
    const y = py(tick);
    chart.append(svg("line", {x1: margin.left, x2: width - margin.right, y1: y, y2: y,
                              class: "gridline"}));
    chart.append(svg("text", {x: margin.left - 6, y: y + 4, class: "tick", "text-anchor": "end"},
                     log ? decade(tick) : fmt(tick)));
  }
  for (const tick of niceTicks(0, maxEpoch, 8)) {
    const x = px(tick);
    chart.append(svg("line", {x1: x, x2: x, y1: height - margin.bottom,
                              y2: height - margin.bottom + 4, class: "axis"}));
    chart.append(svg("text", {x, y: height - margin.bottom + 17, class: "tick",
                              "text-anchor": "middle"}, fmt(tick)));
  }
  chart.append(svg("line", {x1: margin.left, x2: width - margin.right, y1: height - margin.bottom,
                            y2: height - margin.bottom, class: "axis"}));
  chart.append(svg("text", {x: (margin.left + width - margin.right) / 2, y: height - 4,
                            class: "axis-label", "text-anchor": "middle"}, "epoch"));
  chart.append(svg("text", {x: 12, y: (margin.top + height - margin.bottom) / 2,
                            class: "axis-label", "text-anchor": "middle",
                            transform: `rotate(-90 12 ${(margin.top + height - margin.bottom) / 2})`},
                   log ? "loss (log)" : "loss"));
  for (const curve of curves) {
    const points = [];
    curve.epochs.forEach((epoch, i) => {
      const value = curve.losses[i];
      if (value !== null && (!log || value > 0)) points.push(`${px(epoch).toFixed(1)},${py(value).toFixed(1)}`);
    });
    chart.append(svg("polyline", {points: points.join(" "), class: "curve",
                                  stroke: colourOf(curve.run.id), "data-run": curve.run.id}));
  }
  box.replaceChildren(chart);

  const legend = document.getElementById("legend");
  legend.replaceChildren(...curves.map((curve) => {
    const status = curve.run.status;
    const item = el("li");
    const swatch = el("span", "swatch");
    swatch.style.background = colourOf(curve.run.id);
    item.append(swatch, el("span", "legend-name", curve.run.name),
                el("span", "legend-facts",
                   `${lrText(status.settings || {})}, ${batchText(status.settings || {})}` +
                   ` · loss ${fmt(status.loss)}`));
    return item;
  }));
}

// -- the event stream ----------------------------------------------------------------------

function connect() {
  const badge = document.getElementById("connection");
  const source = new EventSource("/events");
  source.addEventListener("open", () => {
    badge.dataset.state = "live";
    badge.textContent = "live";
  });
  source.addEventListener("error", () => {
    badge.dataset.state = "reconnecting";
    badge.textContent = "reconnecting";
  });
  source.addEventListener("state", (event) => render(JSON.parse(event.data)));
}

window.addEventListener("resize", () => { if (lastState) drawOverlay(lastState.runs); });
connect();
