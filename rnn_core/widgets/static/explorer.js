// The explorer's front end (anywidget ES module, shipped in the rnn_core package).
//
// Draws the controls natively (label + range input + number field, select, checkbox), the
// readout as HTML and the figure on a <canvas>: a background PNG rendered by matplotlib plus the
// frame of the current control positions (pixels and styles computed by rnn_core.widgets.frames:
// the ticks and axis labels first, then the data).
// Frames are kept by position, so moving back is local; a missing frame is asked of the kernel:
// the position the student is at at once, even while look-ahead requests are out (the kernel
// answers it first and drops the look-ahead requests it has not started:
// rnn_core/widgets/lookahead.py), and when it is answered, look-ahead requests (spec.ahead out
// at a time: two when the kernel computes them in its look-ahead thread), the next key presses
// on the slider in use, that slider's whole range, the neighbours of every other control, then
// the other sliders' ranges (the whole grid when it is small): see neighbours().
// Frames from replaced exercise code are dropped (the kernel's "code" message, and the code
// number of every frame).

const FONT = '"DejaVu Sans", "Bitstream Vera Sans", Verdana, Arial, sans-serif';

function css(c) {
  return `rgba(${Math.round(c[0] * 255)},${Math.round(c[1] * 255)},${Math.round(c[2] * 255)},${c[3]})`;
}

function f32(buf) {
  // copy: a DataView's offset need not be a multiple of 4
  const u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return new Float32Array(u8.slice().buffer);
}

function u8(buf) {
  return new Uint8ClampedArray(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function markerPath(verts, codes) {
  const p = new Path2D();
  let j = 0;
  for (const c of codes) {
    if (c === 1) { p.moveTo(verts[2 * j], verts[2 * j + 1]); j += 1; }
    else if (c === 2) { p.lineTo(verts[2 * j], verts[2 * j + 1]); j += 1; }
    else if (c === 3) {
      p.quadraticCurveTo(verts[2 * j], verts[2 * j + 1], verts[2 * j + 2], verts[2 * j + 3]);
      j += 2;
    } else if (c === 4) {
      p.bezierCurveTo(verts[2 * j], verts[2 * j + 1], verts[2 * j + 2], verts[2 * j + 3],
                      verts[2 * j + 4], verts[2 * j + 5]);
      j += 3;
    } else if (c === 79) { p.closePath(); j += 1; }
    else { j += 1; }
  }
  return p;
}

const CAP = { butt: "butt", round: "round", projecting: "square" };

function drawLine(ctx, a, bufs, dpr) {
  const xy = bufs[a.xy];
  if (a.color && a.n > 1) {
    ctx.strokeStyle = css(a.color);
    ctx.lineWidth = a.lw;
    ctx.setLineDash(a.dash);
    ctx.lineDashOffset = a.dash_offset;
    ctx.lineCap = CAP[a.cap] || "butt";
    ctx.lineJoin = a.join || "round";
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < a.n; i++) {
      const x = xy[2 * i], y = xy[2 * i + 1];
      if (Number.isNaN(x) || Number.isNaN(y)) { pen = false; continue; }
      if (pen) ctx.lineTo(x, y); else { ctx.moveTo(x, y); pen = true; }
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }
  const m = a.marker;
  if (m) {
    const path = markerPath(bufs[m.path], m.codes);
    ctx.lineWidth = m.ew;
    ctx.lineJoin = "miter";
    ctx.lineCap = "butt";
    for (let i = 0; i < a.n; i++) {
      const x = xy[2 * i], y = xy[2 * i + 1];
      if (Number.isNaN(x) || Number.isNaN(y)) continue;
      ctx.setTransform(dpr, 0, 0, dpr, dpr * x, dpr * y);
      if (m.filled && m.face) { ctx.fillStyle = css(m.face); ctx.fill(path); }
      if (m.edge && m.ew > 0) { ctx.strokeStyle = css(m.edge); ctx.stroke(path); }
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }
}

function drawImage(ctx, a, bufs) {
  const off = document.createElement("canvas");
  off.width = a.w;
  off.height = a.h;
  off.getContext("2d").putImageData(new ImageData(bufs[a.rgba], a.w, a.h), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.globalAlpha = a.alpha;
  ctx.drawImage(off, a.box[0], a.box[1], a.box[2], a.box[3]);
  ctx.globalAlpha = 1;
}

function drawText(ctx, a) {
  ctx.font = `${a.weight === "bold" ? "bold " : ""}${a.size}px ${FONT}`;
  ctx.fillStyle = css(a.color);
  ctx.textAlign = a.ha === "center" ? "center" : a.ha;
  ctx.textBaseline = a.va;
  ctx.save();
  ctx.translate(a.x, a.y);
  if (a.rotation) ctx.rotate(-a.rotation * Math.PI / 180);
  ctx.fillText(a.s, 0, 0);
  ctx.restore();
}

function render({ model, el }) {
  const spec = model.get("spec");
  const n = spec.controls.length;
  const W = spec.width, H = spec.height;
  const dpr = Math.min(Math.max(window.devicePixelRatio || 1, 1), 2);
  // ids for <label for>: unique in the page (the module may be evaluated once per explorer)
  const id = `rnn-ex-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

  // -- DOM: controls, readout, canvas -------------------------------------------------------
  const root = document.createElement("div");
  root.className = "rnn-explorer";
  root.dataset.explorer = spec.name;
  root.style.cssText = "font-family: var(--jp-ui-font-family, sans-serif); font-size: 13px;";
  const bar = document.createElement("div");
  bar.className = "rnn-explorer-controls";
  bar.style.cssText = "display:flex; flex-wrap:wrap; gap:4px 18px; align-items:center; margin:2px 0 4px 0;";
  const readout = document.createElement("div");
  readout.className = "rnn-explorer-readout";
  readout.setAttribute("aria-live", "polite");
  readout.style.cssText = "font-weight:bold; margin:2px 0 2px 8px; white-space:pre-line;";
  const canvas = document.createElement("canvas");
  canvas.className = "rnn-explorer-canvas";
  canvas.width = Math.round(W * dpr);
  canvas.height = Math.round(H * dpr);
  canvas.style.width = `${W}px`;
  canvas.style.height = `${H}px`;
  canvas.style.maxWidth = "100%";
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `${spec.name}: figure`);
  const ctx = canvas.getContext("2d");
  root.append(bar, readout, canvas);
  el.appendChild(root);
  // JupyterLab makes a cell active when focus or a press lands inside it (its notebook listens
  // for focusin and mousedown as they bubble) and re-renders in the next animation frame, which
  // is the frame that shows the student's first step: measured in make e2e, most of that step's
  // time. The explorer's controls need neither event above them, so neither goes further.
  for (const type of ["focusin", "mousedown"]) root.addEventListener(type, (ev) => ev.stopPropagation());

  // Where the time goes, read by the e2e harness (root.rnnStats): per request the round trip
  // (want sent -> frame received) and the kernel's parts of it; per paint its ms; per
  // background the decode ms.
  const stats = { current: [], prefetch: [], paint: [], decode: [] };
  root.rnnStats = stats;
  const STATS_KEPT = 2048;              // the newest entries of each list, as the kernel keeps
  const note = (list, v) => { list.push(v); if (list.length > STATS_KEPT) list.shift(); };
  // when each request in flight was sent (performance.now()): the student's; by key, ahead
  const asked = { current: null, prefetch: new Map() };

  const pos = spec.index.slice();       // the positions shown by the controls
  root.dataset.waiting = "1";           // until the first frame is painted
  const setters = [];                   // i -> (position) => update the control's DOM

  spec.controls.forEach((c, i) => {
    const box = document.createElement("span");
    box.className = `rnn-explorer-control rnn-explorer-${c.kind}`;
    box.style.cssText = "display:inline-flex; align-items:center; gap:6px;";
    const cid = `${id}-${c.name}`;
    const label = document.createElement("label");
    label.htmlFor = cid;
    label.textContent = c.label;
    if (c.kind === "range") {
      const input = document.createElement("input");
      input.type = "range";
      input.id = cid;
      input.min = "0";
      input.max = String(c.values.length - 1);
      input.step = "1";
      input.style.width = "170px";
      // the range in values, for a harness or a test that types a value (jumps)
      input.dataset.lo = String(c.values[0]);
      input.dataset.hi = String(c.values[c.values.length - 1]);
      input.dataset.log = c.log ? "1" : "0";
      input.dataset.integer = c.values.every(Number.isInteger) ? "1" : "0";
      const num = document.createElement("input");
      num.type = "text";
      num.inputMode = "decimal";
      num.size = 7;
      num.className = "rnn-explorer-number";
      num.setAttribute("aria-label", `${c.label} (type a value and press Enter)`);
      input.addEventListener("input", () => move(i, Number(input.value)));
      num.addEventListener("keydown", (ev) => {
        if (ev.key !== "Enter") return;
        const v = Number.parseFloat(num.value);
        if (!Number.isFinite(v)) { num.value = c.labels[pos[i]]; return; }
        move(i, nearest(c, v));
      });
      num.addEventListener("blur", () => { num.value = c.labels[pos[i]]; });
      setters.push((p) => {
        input.value = String(p);
        input.setAttribute("aria-valuetext", c.labels[p]);
        num.value = c.labels[p];
      });
      box.append(label, input, num);
    } else if (c.kind === "select") {
      const sel = document.createElement("select");
      sel.id = cid;
      c.labels.forEach((lab, j) => {
        const o = document.createElement("option");
        o.value = String(j);
        o.textContent = lab;
        sel.appendChild(o);
      });
      sel.addEventListener("change", () => move(i, Number(sel.value)));
      setters.push((p) => { sel.value = String(p); });
      box.append(label, sel);
    } else {
      const cb = document.createElement("input");
      cb.type = "checkbox";
      cb.id = cid;
      cb.addEventListener("change", () => move(i, cb.checked ? 1 : 0));
      setters.push((p) => { cb.checked = p === 1; });
      box.append(cb, label);
    }
    // JupyterLab's command-mode shortcuts (ArrowRight: "move cursor to the heading below") would
    // take the keys from the controls; Lumino's keymap skips an event whose target has this.
    for (const ctl of box.querySelectorAll("input, select")) ctl.setAttribute("data-lm-suppress-shortcuts", "true");
    bar.appendChild(box);
    setters[i](pos[i]);
  });

  function nearest(c, v) {
    let best = 0, err = Infinity;
    c.values.forEach((g, j) => {
      const e = c.log ? Math.abs(Math.log(g) - Math.log(Math.max(v, 1e-300))) : Math.abs(g - v);
      if (e < err) { err = e; best = j; }
    });
    return best;
  }

  // -- frames, backgrounds ------------------------------------------------------------------
  let code = -1;                        // the exercise-code generation of the frames held
  const frames = new Map();             // "i,j,k" -> frame
  const backgrounds = new Map();        // bg id -> ImageBitmap | Promise
  let shown = null;                     // key of the frame on the canvas
  let inflight = null;                  // key of the position shown, asked of the kernel
  const ahead = [];                     // keys of the look-ahead requests out, oldest first
  const AHEAD = Math.max(1, spec.ahead || 1);   // how many may be out at once
  let prefetch = [];                    // keys to ask for when idle
  const grid = spec.controls.map((c) => c.labels.length);
  const keyOf = (p) => p.join(",");

  const failed = new Map();             // key -> error message (until the code changes)

  function flush(newCode) {
    code = newCode;
    frames.clear();
    failed.clear();
    prefetch = [];
  }

  function paint(f) {
    const bg = backgrounds.get(f.bg);
    if (!bg || bg instanceof Promise) {        // still decoding: paint when it is ready
      Promise.resolve(bg).then(() => { if (shown === keyOf(f.idx)) paint(f); });
      return;
    }
    const t0 = performance.now();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(bg, 0, 0, W, H);
    for (const a of f.artists) {
      ctx.save();
      if (a.clip) { ctx.beginPath(); ctx.rect(a.clip[0], a.clip[1], a.clip[2], a.clip[3]); ctx.clip(); }
      if (a.kind === "line") drawLine(ctx, a, f.bufs, dpr);
      else if (a.kind === "image") drawImage(ctx, a, f.bufs);
      else if (a.kind === "text") drawText(ctx, a);
      ctx.restore();
    }
    const s = bg.width / W;
    ctx.imageSmoothingEnabled = false;
    for (const [x, y, w, h] of f.overlays) ctx.drawImage(bg, x * s, y * s, w * s, h * s, x, y, w, h);
    readout.textContent = f.readout;
    note(stats.paint, performance.now() - t0);
    root.dataset.frame = keyOf(f.idx);
    root.dataset.waiting = keyOf(f.idx) === keyOf(pos) ? "0" : "1";
  }

  function show(p) {
    const key = keyOf(p);
    const f = frames.get(key);
    if (f) { shown = key; paint(f); }
    else root.dataset.waiting = "1";      // asked of the kernel (a harness waits on this)
    pump();
  }

  let lastMove = null;                  // {i: control, dir: +1 | -1}: where prefetch looks first

  function move(i, p) {
    window.rnnExplorerInUse = id;
    if (p !== pos[i]) lastMove = { i, dir: Math.sign(p - pos[i]) };
    pos[i] = p;
    setters[i](p);
    show(pos);
  }

  function neighbours(p, far = true) {
    // In the order they are fetched: (1) "near", what the next key press on the slider in use
    // reaches: the next two positions in the direction the student is moving and one step
    // back (before any move: one step of every slider either way); a harness waits for these,
    // as a student pauses; with far: (2) the whole range of the slider in use through p (within
    // spec.along / 2 steps either way), nearest first, the way it moves first: a student who
    // keeps to one slider, stepping or jumping along it, lands on held frames; (3) one step of
    // every other slider either way; (4) every other option of a dropdown or checkbox; (5) the
    // ranges of the other sliders; (6) a small grid whole, nearest first. Ranges only for the
    // explorer moved last in this page (below).
    const out = [], seen = new Set();
    const addKey = (q) => {
      const k = keyOf(q);
      if (!frames.has(k) && !failed.has(k) && !seen.has(k)) { seen.add(k); out.push(k); }
    };
    const add = (i, j) => {
      if (j < 0 || j >= grid[i] || j === p[i]) return;
      const q = p.slice();
      q[i] = j;
      addKey(q);
    };
    const moved = lastMove && spec.controls[lastMove.i].kind === "range" ? lastMove : null;
    const sliders = [];
    spec.controls.forEach((c, i) => { if (c.kind === "range") sliders.push(i); });
    const steps = (i) => { add(i, p[i] + 1); add(i, p[i] - 1); };
    const range = (i, dir) => {
      for (let d = 2; d <= spec.along / 2; d++) {
        add(i, p[i] + d * dir);
        add(i, p[i] - d * dir);
      }
    };
    if (moved) {
      add(moved.i, p[moved.i] + moved.dir);
      add(moved.i, p[moved.i] + 2 * moved.dir);
      add(moved.i, p[moved.i] - moved.dir);
    } else {
      sliders.forEach(steps);
    }
    if (!far) return out;
    // The slider ranges are for the explorer the student moved last in this page: the
    // explorers of a notebook share one kernel, and one that is only shown would keep it busy
    // (the training explorer's ranges are 10 s of SGD on an idle core) while the student moves
    // another.
    const inUse = window.rnnExplorerInUse === id;
    if (inUse && moved) range(moved.i, moved.dir);
    sliders.forEach(steps);
    spec.controls.forEach((c, i) => {
      if (c.kind !== "range") for (let j = 0; j < grid[i]; j++) add(i, j);
    });
    if (inUse) for (const i of sliders) range(i, 1);
    if (spec.prefetch_all) {
      const all = [];
      const walk = (i, q) => {
        if (i === n) { all.push(q.slice()); return; }
        for (let j = 0; j < grid[i]; j++) { q[i] = j; walk(i + 1, q); }
      };
      walk(0, new Array(n).fill(0));
      const dist = (q) => q.reduce((s, v, i) => s + Math.abs(v - p[i]), 0);
      all.sort((a, b) => dist(a) - dist(b));
      for (const q of all) addKey(q);
    }
    return out;
  }

  function unask(key) {                 // a look-ahead request answered or dropped
    const j = ahead.indexOf(key);
    if (j < 0) return false;
    ahead.splice(j, 1);
    asked.prefetch.delete(key);
    return true;
  }

  function pump() {
    // the position shown by the controls first (sent even while look-ahead requests are out),
    // then, while the student's is not out, up to AHEAD look-ahead requests
    const here = keyOf(pos);
    // "held" once every near neighbour is (a harness waits for it, as a student pauses)
    const done = (frames.has(here) || failed.has(here)) && neighbours(pos, false).length === 0;
    root.dataset.near = done ? "held" : "fetching";
    if (failed.has(here)) {
      readout.textContent = failed.get(here);
      root.dataset.waiting = "0";
    }
    if (!frames.has(here) && !failed.has(here)) {
      // the oldest look-ahead request out (the one the kernel computes first of this
      // explorer's): its frame answers this one. For a later one, this request goes out: the
      // kernel answers it first and drops the look-ahead if not started (if started, it is
      // computed twice, and answered twice)
      if (inflight === null && ahead[0] !== here) {
        inflight = here;
        asked.current = performance.now();
        model.send({ type: "want", idx: pos.slice(), current: true });
      }
      return;
    }
    if (inflight !== null || ahead.length >= AHEAD || failed.has(here)) return;
    const base = `${here}|${window.rnnExplorerInUse === id}`;   // in use: the ranges too
    if (prefetch.length === 0 || prefetch.base !== base) {
      prefetch = neighbours(pos);
      prefetch.base = base;
    }
    while (ahead.length < AHEAD) {
      while (prefetch.length && (frames.has(prefetch[0]) || failed.has(prefetch[0])
                                 || ahead.includes(prefetch[0]))) prefetch.shift();
      if (prefetch.length === 0) return;
      const next = prefetch.shift();
      ahead.push(next);
      asked.prefetch.set(next, performance.now());
      model.send({ type: "want", idx: next.split(",").map(Number), current: false });
    }
  }

  function onFrame(f, buffers) {
    const images = new Set(f.artists.filter((a) => a.kind === "image").map((a) => a.rgba));
    f.bufs = buffers.map((b, j) => (j === f.png ? null : images.has(j) ? u8(b) : f32(b)));
    if (f.png !== undefined && !backgrounds.has(f.bg)) {
      const blob = new Blob([buffers[f.png]], { type: "image/png" });
      const t0 = performance.now();
      const p = createImageBitmap(blob).then((bmp) => {
        note(stats.decode, performance.now() - t0);
        backgrounds.set(f.bg, bmp);
        return bmp;
      });
      backgrounds.set(f.bg, p);
    }
    if (f.code > code) flush(f.code);
    const key = keyOf(f.idx);
    if (!f.push) {
      // one request answered per frame: the student's first (a position out both ways is
      // answered twice when the kernel had started the look-ahead)
      const kind = inflight === key ? "current" : ahead.includes(key) ? "prefetch" : null;
      const sent = kind === "current" ? asked.current : asked.prefetch.get(key);
      if (kind === "current") { inflight = null; asked.current = null; }
      if (kind === "prefetch") unask(key);
      if (kind && sent != null) {
        note(stats[kind], { ms: performance.now() - sent, ...f.t });
      }
    }
    if (f.code < code) { pump(); return; }        // computed by replaced code
    if (f.exact) frames.set(key, f);
    if (f.push) {                                 // the kernel moved the controls
      f.idx.forEach((p, i) => { pos[i] = p; setters[i](p); });
      shown = key;
      paint(f);
    } else if (key === keyOf(pos)) {
      shown = key;
      paint(f);
    }
    pump();
  }

  function onError(e) {
    const key = keyOf(e.idx);
    if (inflight === key) inflight = null;
    else unask(key);
    if (e.code >= code) failed.set(key, `could not draw this setting: ${e.message}`);
    pump();
  }

  const onMsg = (msg, buffers) => {
    if (msg.type === "frame") onFrame(msg, buffers || []);
    else if (msg.type === "error") onError(msg);
    else if (msg.type === "dropped") {
      // taken off the kernel's queue unanswered when the student moved: may be asked again,
      // first if still near (the list of what to ask is made anew: the student may be back
      // where it was made, with this key already taken off it)
      const key = keyOf(msg.idx);
      if (msg.code >= code && unask(key)) prefetch = [];
      pump();
    }
    else if (msg.type === "code") {
      if (msg.code > code) flush(msg.code);
      // every slot free: the kernel drops a look-ahead of the old code; a request of the
      // student's still out is asked again, and its old answer dropped (f.code < code)
      inflight = null;
      ahead.length = 0;
      asked.prefetch.clear();
      pump();
    }
  };
  model.on("msg:custom", onMsg);
  model.send({ type: "hello", dpr });
  return () => { model.off("msg:custom", onMsg); frames.clear(); backgrounds.clear(); };
}

export default { render };
