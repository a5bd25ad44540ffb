import xtermHeadless from '@xterm/headless';
import { expect } from 'chai';
import { LineTracker, type TrackedLine } from '../../worker/line-tracker.js';

const { Terminal } = xtermHeadless;
type HeadlessTerminal = InstanceType<typeof Terminal>;

/** Largest random chunk: spans many lines, like a PTY read, and often cuts escape sequences. */
const MAX_CHUNK = 3000;
const ESC = '\x1b';

/** Deterministic PRNG (mulberry32), so a failing chunking can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function numbered(count: number, from = 1): string[] {
  return Array.from({ length: count }, (_, i) => `line ${from + i}`);
}

class Harness {
  readonly term: HeadlessTerminal;
  readonly tracker: LineTracker;
  readonly lines: TrackedLine[] = [];

  constructor(cols: number, rows: number, scrollback: number, options?: ConstructorParameters<typeof LineTracker>[2]) {
    this.term = new Terminal({ cols, rows, scrollback, allowProposedApi: true });
    this.tracker = new LineTracker(this.term, (lines) => this.lines.push(...lines), options);
  }

  /** One term.write, wired as the worker does it; resolves after its callback polled. */
  write(data: string): Promise<void> {
    return new Promise((resolve) =>
      this.term.write(data, () => {
        this.tracker.poll();
        resolve();
      }),
    );
  }

  /** Writes data in random chunks queued back to back (as PTY reads arrive), then waits for all. */
  async writeChunked(data: string, random: () => number, maxChunk = MAX_CHUNK): Promise<void> {
    let last: Promise<void> = Promise.resolve();
    for (let at = 0; at < data.length; ) {
      const size = 1 + Math.floor(random() * maxChunk);
      last = this.write(data.slice(at, at + size));
      at += size;
    }
    await last;
  }

  close(): void {
    this.tracker.dispose();
    this.term.dispose();
  }
}

/** Exactly these texts, numbered first..first+n-1 in order. */
function expectHistory(lines: TrackedLine[], texts: string[], first = 1): void {
  expect(lines.map((l) => l.lineNumber)).to.deep.equal(texts.map((_, i) => first + i));
  expect(lines.map((l) => l.text)).to.deep.equal(texts);
}

describe('LineTracker', () => {
  const harnesses: Harness[] = [];
  const open = (...args: ConstructorParameters<typeof Harness>): Harness => {
    const h = new Harness(...args);
    harnesses.push(h);
    return h;
  };
  afterEach(() => {
    for (const h of harnesses.splice(0)) h.close();
  });

  for (const scrollback of [1000, 50]) {
    it(`emits 10 000 lines written in random chunks exactly once, in order (scrollback ${scrollback})`, async () => {
      const h = open(80, 24, scrollback);
      const texts = numbered(10_000);
      await h.writeChunked(texts.map((t) => `${t}\r\n`).join(''), prng(scrollback));
      h.tracker.flushScreen();
      expectHistory(h.lines, texts);
    });
  }

  it('joins lines wider than the screen, with random lengths and chunking, over a small scrollback', async () => {
    const h = open(80, 24, 50);
    const random = prng(7);
    const texts = Array.from({ length: 3000 }, (_, i) => `${i + 1}:${'x'.repeat(Math.floor(random() * 300))}`);
    await h.writeChunked(texts.map((t) => `${t}\r\n`).join(''), random);
    h.tracker.flushScreen();
    expectHistory(h.lines, texts);
  });

  it('keeps a progress bar redrawn with \\r as one line in its final state', async () => {
    const h = open(80, 24, 1000);
    let bar = '';
    for (let p = 0; p <= 100; p += 5) bar += `\rProgress [${'#'.repeat(p / 5).padEnd(20, '.')}] ${p}%`;
    await h.writeChunked(`before\r\n${bar}\r\n${numbered(30).join('\r\n')}\r\n`, prng(3), 7);
    h.tracker.flushScreen();
    expectHistory(h.lines, ['before', `Progress [${'#'.repeat(20)}] 100%`, ...numbered(30)]);
  });

  it('joins a wrapped line into one, keeping spaces that fall on a row boundary', async () => {
    const h = open(80, 24, 1000);
    const long = `${'a'.repeat(79)} ${'b'.repeat(170)}`;
    await h.write(`${long}\r\nshort   \r\n`);
    h.tracker.flushScreen();
    expectHistory(h.lines, [long, 'short']);
  });

  it('joins a wide character that moved to the next row without the padding cell', async () => {
    const h = open(79, 24, 1000);
    const wide = '日本語'.repeat(20); // 120 cells: the 40th character does not fit in 79 columns
    await h.write(`${wide}\r\n`);
    h.tracker.flushScreen();
    expectHistory(h.lines, [wide]);
  });

  it('loses nothing when a single chunk is longer than the whole scrollback', async () => {
    const h = open(80, 24, 50);
    const texts = numbered(5000);
    await h.write(texts.map((t) => `${t}\r\n`).join(''));
    h.tracker.flushScreen();
    expectHistory(h.lines, texts);
  });

  it('keeps a single logical line longer than the whole buffer intact', async () => {
    const h = open(80, 24, 50);
    const huge = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' '); // ~11 000 chars, ~140 rows
    await h.write(`first\r\n${huge}\r\n${numbered(100).join('\r\n')}\r\n`);
    h.tracker.flushScreen();
    expectHistory(h.lines, ['first', huge, ...numbered(100)]);
  });

  it('leaves alternate screen output out of history and continues numbering after it', async () => {
    const h = open(80, 24, 50);
    const alt = `${ESC}[?1049h${ESC}[H${Array.from({ length: 200 }, (_, i) => `alt ${i}`).join('\r\n')}`;
    await h.write(`${numbered(30).join('\r\n')}\r\n${alt}`);
    expectHistory(h.lines, numbered(7)); // what scrolled before the switch, in the same chunk
    await h.write(`more alt\r\n`.repeat(100)); // polled while the alternate screen is shown
    await h.write(`${ESC}[?1049l${numbered(70, 31).join('\r\n')}\r\n`);
    h.tracker.flushScreen();
    expectHistory(h.lines, numbered(100));
  });

  it('keeps the screen that `clear` (CSI H CSI 2J) erased', async () => {
    const h = open(80, 24, 1000);
    await h.write(`${numbered(30).join('\r\n')}\r\n${ESC}[H${ESC}[2J`);
    expectHistory(h.lines, numbered(30));
    await h.write('after clear\r\n');
    h.tracker.flushScreen();
    expectHistory(h.lines, [...numbered(30), 'after clear']);
  });

  it('loses no line to CSI 3J, in the same chunk or its own, nor to clear + CSI 3J', async () => {
    const h = open(80, 24, 50);
    await h.write(`${numbered(40).join('\r\n')}\r\n${ESC}[3J${numbered(40, 41).join('\r\n')}\r\n`);
    await h.write(`${ESC}[3J`);
    await h.write(
      `${numbered(40, 81).join('\r\n')}\r\n${ESC}[H${ESC}[2J${ESC}[3J${numbered(20, 121).join('\r\n')}\r\n`,
    );
    h.tracker.flushScreen();
    expectHistory(h.lines, numbered(140));
  });

  it('loses no line to CSI 3J while a wrapped line straddles the screen top', async () => {
    const h = open(80, 24, 50);
    const long = 'z'.repeat(80 * 30); // 30 rows: starts in scrollback, ends on screen
    await h.write(`before\r\n${long}${ESC}[3J\r\nafter\r\n`);
    h.tracker.flushScreen();
    expectHistory(h.lines, ['before', long, 'after']);
  });

  it('loses no line to a reset (ESC c), screen included, in the same chunk or its own', async () => {
    const h = open(80, 24, 50);
    await h.write(`${numbered(40).join('\r\n')}\r\n${ESC}c${numbered(40, 41).join('\r\n')}\r\n`);
    await h.write(`${ESC}c`);
    await h.write(`${numbered(10, 81).join('\r\n')}\r\n`);
    h.tracker.flushScreen();
    expectHistory(h.lines, numbered(90));
  });

  // Resizes land on line boundaries: xterm never reflows the cursor's line, and narrowing cuts it.
  it('neither duplicates nor loses lines across resizes between writes', async () => {
    const h = open(80, 24, 50);
    const random = prng(11);
    const sizes: [number, number][] = [
      [40, 24],
      [120, 30],
      [60, 10],
      [80, 24],
      [33, 40],
      [150, 12],
    ];
    const texts = Array.from({ length: 4000 }, (_, i) => `${i + 1}:${'y'.repeat(Math.floor(random() * 200))}`);
    for (let at = 0; at < texts.length; ) {
      const count = 1 + Math.floor(random() * 150);
      await h.writeChunked(
        texts
          .slice(at, at + count)
          .map((t) => `${t}\r\n`)
          .join(''),
        random,
      );
      at += count;
      const [cols, rows] = sizes[Math.floor(random() * sizes.length)] ?? [80, 24];
      h.term.resize(cols, rows);
    }
    h.tracker.flushScreen();
    expectHistory(h.lines, texts);
  });

  // xterm 6.0 misplaces markers when a narrowing reflow overflows the buffer; the tracker re-finds
  // its place. (Overflowing reflows whose cursor xterm also misplaces corrupt the screen itself.)
  it('neither duplicates nor loses lines when narrowing a full buffer, on either screen', async () => {
    const h = open(80, 24, 50);
    const long = (n: number) => Array.from({ length: n }, (_, i) => `L${i + 1}:${'n'.repeat(40 + ((i * 37) % 160))}`);
    const short = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
    const texts = [
      ...long(100),
      ...short('a', 30),
      ...short('b', 100),
      ...long(100),
      ...short('c', 30),
      ...short('d', 100),
    ];
    const written = (from: number, to: number) =>
      texts
        .slice(from, to)
        .map((t) => `${t}\r\n`)
        .join('');
    await h.write(written(0, 130));
    h.term.resize(33, 24);
    await h.write(written(130, 230));
    h.term.resize(80, 24);
    await h.write(`${written(230, 360)}${ESC}[?1049halternate`);
    h.term.resize(33, 24);
    await h.write(`${ESC}[?1049l${written(360, 460)}`);
    h.tracker.flushScreen();
    expectHistory(h.lines, texts);
  });

  it('does not emit twice the rows a taller screen pulled back from scrollback', async () => {
    const h = open(80, 24, 1000);
    await h.write(`${numbered(40).join('\r\n')}\r\n`);
    h.term.resize(80, 34);
    await h.write(`${numbered(40, 41).join('\r\n')}\r\n`);
    h.term.resize(80, 10);
    await h.write(`${numbered(20, 81).join('\r\n')}\r\n`);
    h.tracker.flushScreen();
    expectHistory(h.lines, numbered(100));
  });

  it('resizes while the alternate screen is shown without disturbing history', async () => {
    const h = open(80, 24, 50);
    await h.write(`${numbered(30).join('\r\n')}\r\n${ESC}[?1049hfull screen app`);
    h.term.resize(50, 20);
    await h.write(`${ESC}[?1049l${numbered(30, 31).join('\r\n')}\r\n`);
    h.tracker.flushScreen();
    expectHistory(h.lines, numbered(60));
  });

  it('is not disturbed by screen edits: delete line, erase above', async () => {
    const h = open(80, 24, 1000);
    // Delete the top screen row (line 8) and continue at the first blank row.
    await h.write(`${numbered(30).join('\r\n')}\r\n${ESC}[H${ESC}[M${ESC}[23;1H`);
    await h.write(`${numbered(30, 31).join('\r\n')}\r\n`);
    // Erase rows 1..12 of the screen (lines 38..49), then continue at the bottom.
    await h.write(`${ESC}[12;80H${ESC}[1J${ESC}[24;1H${numbered(10, 61).join('\r\n')}\r\n`);
    h.tracker.flushScreen();
    const deleted = numbered(60).filter((t) => t !== 'line 8');
    const erased = deleted.map((t) => (/^line (3[89]|4\d)$/.test(t) ? '' : t));
    expectHistory(h.lines, [...erased, ...numbered(10, 61)]);
  });

  it('emits SGR-coloured lines as plain text', async () => {
    const h = open(80, 24, 1000);
    await h.write(
      `${ESC}[1;31mred${ESC}[0m and ${ESC}[38;5;42mgreen${ESC}[m ${ESC}[48;2;1;2;3m  \r\n${ESC}[7mplain${ESC}[0m\r\n`,
    );
    h.tracker.flushScreen();
    expectHistory(h.lines, ['red and green', 'plain']);
  });

  it('reports the unfinished screen without emitting it', async () => {
    const h = open(80, 24, 1000);
    await h.write(`${numbered(30).join('\r\n')}\r\n`);
    expectHistory(h.lines, numbered(7));
    expect(h.tracker.pendingScreenLines()).to.deep.equal(numbered(23, 8));
    expect(h.tracker.pendingScreenLines()).to.deep.equal(numbered(23, 8));
    expect(h.lines).to.have.length(7);
    expect(h.tracker.nextLineNumber).to.equal(8);
  });

  it('flushes the screen once, numbering from firstLineNumber with the given clock', async () => {
    const h = open(80, 24, 1000, { firstLineNumber: 101, now: () => 1234 });
    await h.write(`one\r\ntwo\r\n\r\nfour\r\n\r\n\r\n`);
    h.tracker.flushScreen();
    h.tracker.flushScreen();
    expectHistory(h.lines, ['one', 'two', '', 'four'], 101);
    expect(h.lines.every((l) => l.timestamp === 1234)).to.equal(true);
    expect(h.tracker.nextLineNumber).to.equal(105);
    expect(h.tracker.pendingScreenLines()).to.deep.equal([]);
    await h.write('late\r\n'.repeat(40));
    expect(h.lines).to.have.length(4);
  });

  it('refuses a terminal without the proposed API or without scrollback', () => {
    const noApi = new Terminal({ cols: 80, rows: 24 });
    const noScrollback = new Terminal({ cols: 80, rows: 24, scrollback: 0, allowProposedApi: true });
    try {
      expect(() => new LineTracker(noApi, () => {})).to.throw(/allowProposedApi/);
      expect(() => new LineTracker(noScrollback, () => {})).to.throw(/scrollback/);
    } finally {
      noApi.dispose();
      noScrollback.dispose();
    }
  });
});
