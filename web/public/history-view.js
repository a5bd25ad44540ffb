/**
 * History: page through the lines a session printed (live or ended), and search every session's
 * lines (or one session's). Snippets mark matches with [[ ]]; they are split into text and <mark>
 * elements, never parsed as HTML.
 */
import { ApiError, api, isMissingRoute, query } from './api.js';
import { h, replace, when } from './dom.js';

/** Lines per history page. */
const PAGE_LINES = 200;
/** Search results shown. */
const SEARCH_LIMIT = 50;
/** Lines shown above a search hit when it is opened in its session's history. */
const CONTEXT_ABOVE_HIT = 10;
const MARK_OPEN = '[[';
const MARK_CLOSE = ']]';

/** "a [[b]] c" → ['a ', <mark>b</mark>, ' c'] */
export function snippetNodes(snippet) {
  const nodes = [];
  let rest = snippet;
  for (;;) {
    const open = rest.indexOf(MARK_OPEN);
    const close = open < 0 ? -1 : rest.indexOf(MARK_CLOSE, open + MARK_OPEN.length);
    if (open < 0 || close < 0) {
      if (rest) nodes.push(rest);
      return nodes;
    }
    if (open > 0) nodes.push(rest.slice(0, open));
    nodes.push(h('mark', {}, rest.slice(open + MARK_OPEN.length, close)));
    rest = rest.slice(close + MARK_CLOSE.length);
  }
}

export class HistoryView {
  /** @param {import('./store.js').SessionStore} store */
  constructor(store) {
    this.store = store;
    this.sessionId = null;
    this.after = 0;
    this.highlightLine = null;

    this.q = h('input', {
      type: 'search',
      name: 'q',
      placeholder: 'Search history: words, "a phrase", prefix*, AND / OR / NOT',
      attrs: { 'aria-label': 'Search history' },
    });
    this.scope = h(
      'select',
      { attrs: { 'aria-label': 'Search scope' } },
      h('option', { value: 'all' }, 'all sessions'),
      h('option', { value: 'one' }, 'this session'),
    );
    this.results = h('div', { class: 'search-results' });
    this.sessionSelect = h('select', {
      attrs: { 'aria-label': 'Session' },
      onchange: () => this.load(this.sessionSelect.value, 0),
    });
    this.range = h('span', { class: 'muted range' });
    this.older = h('button', { type: 'button', class: 'small', onclick: () => this.page(-1) }, '← Older');
    this.newer = h('button', { type: 'button', class: 'small', onclick: () => this.page(1) }, 'Newer →');
    this.latest = h('button', { type: 'button', class: 'small', onclick: () => this.loadLatest() }, 'Latest');
    this.first = h('button', { type: 'button', class: 'small', onclick: () => this.load(this.sessionId, 0) }, 'First');
    this.lines = h('ol', { class: 'history-lines' });
    this.status = h('p', { class: 'muted', attrs: { role: 'status' } });

    this.el = h(
      'section',
      { class: 'view history-view' },
      h('h2', {}, 'History'),
      h(
        'form',
        {
          class: 'search-form',
          onsubmit: (e) => {
            e.preventDefault();
            void this.search();
          },
        },
        this.q,
        this.scope,
        h('button', { type: 'submit', class: 'primary' }, 'Search'),
      ),
      this.results,
      h(
        'div',
        { class: 'history-nav' },
        this.sessionSelect,
        this.first,
        this.older,
        this.range,
        this.newer,
        this.latest,
      ),
      this.status,
      this.lines,
    );
    store.subscribe(() => this.renderSessions());
  }

  renderSessions() {
    const all = this.store.all();
    const current = this.sessionId ?? this.sessionSelect.value;
    replace(
      this.sessionSelect,
      h('option', { value: '' }, all.length ? 'choose a session' : 'no sessions yet'),
      all.map((s) =>
        h(
          'option',
          { value: s.id, selected: s.id === current },
          `${s.name} · ${s.profile} · ${s.status === 'running' ? s.state : s.status}`,
        ),
      ),
    );
  }

  /** Shown: optionally for one session, starting at a line. */
  show(sessionId = this.sessionId, fromLine = null) {
    this.renderSessions();
    if (sessionId && (sessionId !== this.sessionId || fromLine !== null)) {
      const after = fromLine === null ? 0 : Math.max(0, fromLine - 1 - CONTEXT_ABOVE_HIT);
      this.highlightLine = fromLine;
      void this.load(sessionId, after);
    }
  }

  async load(sessionId, after) {
    this.sessionId = sessionId || null;
    this.sessionSelect.value = sessionId ?? '';
    replace(this.lines);
    this.status.textContent = '';
    this.updateNav(null);
    if (!sessionId) return;
    this.status.textContent = 'Loading…';
    try {
      const res = await api(
        'GET',
        `/api/sessions/${encodeURIComponent(sessionId)}/history${query({ after, limit: PAGE_LINES })}`,
      );
      this.after = after;
      this.renderLines(res.lines);
      this.updateNav(res);
      this.status.textContent =
        res.lines.length === 0
          ? after === 0
            ? 'No lines in history yet (lines are kept once they scroll off the screen).'
            : 'No more lines.'
          : '';
    } catch (err) {
      this.status.textContent = err.message;
    }
  }

  /** The last page: the lines a viewer saw most recently, the screen included. */
  async loadLatest() {
    if (!this.sessionId) return;
    try {
      const res = await api(
        'GET',
        `/api/sessions/${encodeURIComponent(this.sessionId)}/recent${query({ lines: PAGE_LINES })}`,
      );
      const firstLine = res.lines[0]?.lineNumber ?? 1;
      this.after = Math.max(0, firstLine - 1);
      this.renderLines(res.lines);
      this.updateNav({ lines: res.lines, nextAfter: null });
      this.status.textContent = res.lines.length === 0 ? 'Nothing printed yet.' : '';
    } catch (err) {
      this.status.textContent = err.message;
    }
  }

  page(direction) {
    if (!this.sessionId) return;
    const after = direction > 0 ? (this.nextAfter ?? this.after) : Math.max(0, this.after - PAGE_LINES);
    this.highlightLine = null;
    void this.load(this.sessionId, after);
  }

  updateNav(res) {
    const lines = res?.lines ?? [];
    this.nextAfter = res?.nextAfter ?? null;
    this.older.disabled = !res || this.after === 0;
    this.first.disabled = !res || this.after === 0;
    this.newer.disabled = !res || this.nextAfter === null;
    this.latest.disabled = !this.sessionId;
    this.range.textContent = lines.length ? `lines ${lines[0].lineNumber}–${lines.at(-1).lineNumber}` : '';
  }

  renderLines(lines) {
    replace(
      this.lines,
      lines.map((l) =>
        h(
          'li',
          { class: l.lineNumber === this.highlightLine ? 'hit' : '', dataset: { line: l.lineNumber } },
          h('span', { class: 'ln' }, l.lineNumber),
          h('span', { class: 'ts', title: l.timestamp }, when(l.timestamp)),
          h('span', { class: 'text' }, l.text),
        ),
      ),
    );
    const hit = this.lines.querySelector('li.hit');
    if (hit) hit.scrollIntoView({ block: 'center' });
    else this.lines.scrollTop = 0;
  }

  async search() {
    const q = this.q.value.trim();
    if (!q) {
      replace(this.results);
      return;
    }
    const one = this.scope.value === 'one' && this.sessionId;
    const path = one
      ? `/api/sessions/${encodeURIComponent(this.sessionId)}/history${query({ q, limit: SEARCH_LIMIT })}`
      : `/api/sessions/search${query({ q, limit: SEARCH_LIMIT })}`;
    replace(this.results, h('p', { class: 'muted' }, 'Searching…'));
    try {
      const res = await api('GET', path);
      this.renderResults(res.results ?? []);
    } catch (err) {
      let text = err.message;
      if (isMissingRoute(err)) text = 'Search is not available on this server yet.';
      else if (err instanceof ApiError && err.status === 400) text = `Invalid search: ${err.message}`;
      replace(this.results, h('p', { class: 'form-error' }, text));
    }
  }

  renderResults(results) {
    if (results.length === 0) {
      replace(this.results, h('p', { class: 'muted' }, 'No matches.'));
      return;
    }
    replace(
      this.results,
      h('p', { class: 'muted' }, `${results.length} match${results.length === 1 ? '' : 'es'}, newest first`),
      h(
        'ul',
        { class: 'result-list' },
        results.map((r) =>
          h(
            'li',
            {},
            h(
              'button',
              { type: 'button', class: 'result', onclick: () => this.show(r.sessionId, r.lineNumber) },
              h(
                'span',
                { class: 'result-where' },
                `${r.sessionName ?? this.store.get(r.sessionId)?.name ?? r.sessionId} · line ${r.lineNumber} · ${when(r.timestamp)}`,
              ),
              h('span', { class: 'snippet' }, snippetNodes(r.snippet ?? '')),
            ),
          ),
        ),
      ),
    );
  }
}
