/** Monitoring (admins): the current sample and a plot of the history, refreshed while shown. */
import { ApiError, api, isMissingRoute, query } from './api.js';
import { bytes, h, replace, when } from './dom.js';
import { linePlot } from './plot.js';

/** The page re-reads the sample and the history this often while it is shown. */
const MONITOR_REFRESH_MS = 10_000;
/** The plot covers this much of the past. */
const PLOT_SPAN_MS = 60 * 60_000;
/** Samples asked for per history page (the server's most), and pages read at most. */
const HISTORY_PAGE = 10_000;
const MAX_HISTORY_PAGES = 5;
/** More samples than this are thinned out (every n-th) before they are drawn. */
const MAX_PLOT_POINTS = 600;
/** The plot box's horizontal padding + border (style.css .plot-wrap). */
const PLOT_PADDING_PX = 14;

const fmt = (n, digits = 1) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '–');

export class MonitorView {
  constructor() {
    this.timer = null;
    this.cards = h('div', { class: 'cards' });
    this.anomalies = h('div', { class: 'anomalies' });
    this.plot = h('div', { class: 'plot-wrap' });
    this.status = h('p', { class: 'muted', attrs: { role: 'status' } });
    this.el = h(
      'section',
      { class: 'view monitor-view' },
      h('h2', {}, 'Monitoring'),
      this.status,
      this.cards,
      this.anomalies,
      h('h3', {}, 'CPU and memory'),
      this.plot,
    );
  }

  show() {
    void this.refresh();
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.refresh(), MONITOR_REFRESH_MS);
  }

  hide() {
    clearInterval(this.timer);
    this.timer = null;
  }

  async refresh() {
    try {
      const [{ sample }, samples] = await Promise.all([api('GET', '/api/monitoring/metrics'), this.history()]);
      this.status.textContent = `Sample of ${when(sample.timestamp)}`;
      this.renderSample(sample);
      this.renderPlot(samples);
    } catch (err) {
      replace(this.cards);
      replace(this.anomalies);
      replace(this.plot);
      if (isMissingRoute(err)) this.status.textContent = 'Monitoring is not available on this server yet.';
      else if (err instanceof ApiError && err.status === 403) this.status.textContent = 'Monitoring is for admins.';
      else this.status.textContent = err.message;
    }
  }

  /** The last PLOT_SPAN_MS of samples, oldest first (the route pages forward from `from`). */
  async history() {
    const to = new Date().toISOString();
    let from = new Date(Date.now() - PLOT_SPAN_MS).toISOString();
    const all = [];
    try {
      for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
        const { samples = [] } = await api(
          'GET',
          `/api/monitoring/metrics/history${query({ from, to, limit: HISTORY_PAGE })}`,
        );
        all.push(...samples);
        if (samples.length < HISTORY_PAGE) break;
        from = new Date(Date.parse(samples.at(-1).timestamp) + 1).toISOString();
      }
    } catch (err) {
      if (!isMissingRoute(err)) throw err;
    }
    return all;
  }

  renderSample(s) {
    const card = (label, value, sub) =>
      h(
        'div',
        { class: 'card' },
        h('div', { class: 'card-label' }, label),
        h('div', { class: 'card-value' }, value),
        sub ? h('div', { class: 'card-sub muted' }, sub) : null,
      );
    replace(
      this.cards,
      card('CPU', `${fmt(s.cpuPercent)} %`, `load ${(s.loadAvg ?? []).map((v) => fmt(v, 2)).join(' / ')}`),
      card('Memory', `${fmt(s.memory?.percent)} %`, `${bytes(s.memory?.usedBytes)} of ${bytes(s.memory?.totalBytes)}`),
      card(
        'Processes',
        bytes((s.process?.gatewayRssBytes ?? 0) + (s.process?.workersRssBytes ?? 0)),
        `gateway ${bytes(s.process?.gatewayRssBytes)} · workers ${bytes(s.process?.workersRssBytes)}`,
      ),
      card(
        'Sessions',
        String(s.sessions?.active ?? '–'),
        `${s.sessions?.attached ?? '–'} attached · ${s.ws?.connections ?? '–'} sockets`,
      ),
      card('Database', s.db?.ok ? 'ok' : 'DOWN', `${fmt(s.db?.latencyMs, 2)} ms · WAL ${bytes(s.db?.walBytes)}`),
      card('Event loop lag', `${fmt(s.eventLoopLagMs)} ms`),
    );
    const anomalies = s.anomalies ?? [];
    replace(
      this.anomalies,
      anomalies.length === 0
        ? h('p', { class: 'muted' }, 'No anomalies.')
        : h(
            'ul',
            { class: 'anomaly-list' },
            anomalies.map((a) => h('li', {}, `${a.metric}: ${a.message} (${fmt(a.value)} > ${fmt(a.threshold)})`)),
          ),
    );
  }

  renderPlot(samples) {
    const sorted = [...samples].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
    const every = Math.ceil(sorted.length / MAX_PLOT_POINTS);
    const thinned = every > 1 ? sorted.filter((_, i) => i % every === 0 || i === sorted.length - 1) : sorted;
    const points = (pick) =>
      thinned
        .map((s) => ({ t: Date.parse(s.timestamp), v: pick(s) }))
        .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v));
    replace(
      this.plot,
      linePlot(
        [
          { label: 'CPU %', color: '#61afef', points: points((s) => s.cpuPercent) },
          { label: 'memory %', color: '#e5c07b', points: points((s) => s.memory?.percent) },
        ],
        { max: 100, unit: '%', title: 'CPU and memory over time', width: this.plot.clientWidth - PLOT_PADDING_PX },
      ),
    );
  }
}
