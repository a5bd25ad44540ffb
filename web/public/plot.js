/**
 * A small line plot as inline SVG, built with DOM APIs (no library, no markup strings):
 * several series over time on one 0..max axis, with a legend.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Used when the caller does not know its box's width yet. */
const DEFAULT_WIDTH = 640;
const HEIGHT = 220;
/** Narrowest plot drawn (a phone in portrait is ~370 px inside its padding). */
const MIN_WIDTH = 240;
/** Margins: the legend sits in the top one, the time axis in the bottom one. */
const PAD = { left: 40, right: 12, top: 26, bottom: 22 };
/** Below this time span the axis shows seconds too. */
const SECONDS_SPAN_MS = 10 * 60_000;
/** Horizontal grid lines (and axis labels) drawn. */
const GRID_STEPS = 4;

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * @param {{label: string, color: string, points: {t: number, v: number}[]}[]} series
 * @param {{max?: number, unit?: string, title?: string, width?: number}} opts
 *   width: the box's width in CSS pixels, so text is drawn at its real size (no stretching)
 */
export function linePlot(series, opts = {}) {
  const WIDTH = Math.max(MIN_WIDTH, Math.round(opts.width || DEFAULT_WIDTH));
  const all = series.flatMap((s) => s.points);
  const root = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    width: WIDTH,
    height: HEIGHT,
    class: 'plot',
    role: 'img',
    'aria-label': opts.title ?? 'plot',
  });
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const tMin = Math.min(...all.map((p) => p.t));
  const tMax = Math.max(...all.map((p) => p.t));
  const vMax = opts.max ?? Math.max(1, ...all.map((p) => p.v)) * 1.1;
  const x = (t) => PAD.left + (tMax === tMin ? innerW : ((t - tMin) / (tMax - tMin)) * innerW);
  const y = (v) => PAD.top + innerH - (Math.max(0, Math.min(vMax, v)) / vMax) * innerH;

  for (let i = 0; i <= GRID_STEPS; i++) {
    const v = (vMax / GRID_STEPS) * i;
    root.appendChild(svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), class: 'grid' }));
    root.appendChild(
      svg(
        'text',
        { x: PAD.left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' },
        `${Math.round(v)}${opts.unit ?? ''}`,
      ),
    );
  }
  if (all.length === 0) {
    root.appendChild(
      svg('text', { x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle', class: 'axis' }, 'no samples yet'),
    );
    return root;
  }
  const withSeconds = tMax - tMin < SECONDS_SPAN_MS;
  const time = (t) =>
    new Date(t).toLocaleTimeString([], {
      hour: '2-digit',
      minute: '2-digit',
      ...(withSeconds ? { second: '2-digit' } : {}),
    });
  root.appendChild(svg('text', { x: PAD.left, y: HEIGHT - 6, class: 'axis' }, time(tMin)));
  root.appendChild(
    svg('text', { x: WIDTH - PAD.right, y: HEIGHT - 6, 'text-anchor': 'end', class: 'axis' }, time(tMax)),
  );
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    root.appendChild(svg('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, class: 'series' }));
    root.appendChild(svg('rect', { x: PAD.left + i * 110, y: 6, width: 10, height: 10, fill: s.color }));
    root.appendChild(svg('text', { x: PAD.left + 14 + i * 110, y: 15, class: 'legend' }, s.label));
  });
  return root;
}
