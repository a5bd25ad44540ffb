import xtermHeadless from '@xterm/headless';
import { LineTracker, type TrackedLine } from '../../worker/line-tracker.js';
const { Terminal } = xtermHeadless;
type T = InstanceType<typeof Terminal>;
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}
function allLines(term: T): string[] {
  const b = term.buffer.normal; const out: string[] = []; let cur = '';
  let lastNonBlank = b.length - 1;
  while (lastNonBlank >= 0 && b.getLine(lastNonBlank)!.translateToString(true) === '' && !b.getLine(lastNonBlank)!.isWrapped) lastNonBlank--;
  for (let y = 0; y <= lastNonBlank; y++) {
    const l = b.getLine(y)!; const n = b.getLine(y + 1);
    const wraps = !!n?.isWrapped && y < lastNonBlank + 1;
    cur += l.translateToString(!wraps);
    if (!wraps) { out.push(cur.trimEnd()); cur = ''; }
  }
  if (cur) out.push(cur.trimEnd());
  return out;
}
const MODE = process.env.MODE ?? 'boundary';
for (let seed = 1; seed <= Number(process.env.SEEDS ?? 40); seed++) it(`stress ${MODE} ${seed}`, async function () {
  const random = prng(seed);
  const sb = [500, 1000, 300][seed % 3]!;
  const term = new Terminal({ cols: 80, rows: 24, scrollback: sb, allowProposedApi: true });
  const ref = new Terminal({ cols: 80, rows: 24, scrollback: 1_000_000, allowProposedApi: true, scrollOnEraseInDisplay: true });
  const lines: TrackedLine[] = [];
  const log: (string & { at: number })[] = [];
  let corrupt = false;
  const tracker = new LineTracker(term, (l) => lines.push(...l));
  const sizes: [number, number][] = [[40, 24], [120, 30], [60, 10], [80, 24], [33, 40], [150, 12], [200, 50], [100, 20]];
  const n = 3000;
  const texts = Array.from({ length: n }, (_, i) => `${i + 1}:` + (random() < Number(process.env.WIDE ?? 0.1) ? '字'.repeat(Math.floor(random() * 100)) : 'y'.repeat(Math.floor(random() * 250))));
  const data = texts.map((t) => `${t}\r\n`).join('');
  let last: Promise<void> = Promise.resolve();
  for (let p = 0; p < data.length; ) {
    let s = 1 + Math.floor(random() * 4000);
    const resizeNow = random() < 0.15;
    if (resizeNow && MODE === 'boundary') { const nl = data.indexOf('\n', p + s - 1); s = (nl < 0 ? data.length : nl + 1) - p; }
    const chunk = data.slice(p, p + s);
    last = new Promise<void>((r) => term.write(chunk, () => { tracker.poll(); r(); }));
    ref.write(chunk);
    p += s;
    if (resizeNow) {
      if (MODE === 'boundary') await last;
      const [c, r] = sizes[Math.floor(random() * sizes.length)]!;
      if (MODE === 'interleave' && random() < 0.5) await last; // resize between ticks, sometimes mid-queue
      const b = term.buffer.normal;
      const before = `${term.cols}x${term.rows} len ${b.length} baseY ${b.baseY} y ${b.cursorY} emitted ${lines.length}`;
      term.resize(c, r); ref.resize(c, r);
      if (process.env.CHECK) { const all = allLines(term); const set = new Set(texts); const bad = all.slice(1).filter((t) => t !== '' && !set.has(t)); if (bad.length) corrupt = true; if (bad.length && process.env.VERBOSE) console.log('CORRUPT after', before, '->', c, r, bad.map(t => t.slice(0, 6) + '…' + t.length).slice(0, 3)); }
      log.push(Object.assign(`${before} -> ${c}x${r} len ${b.length} baseY ${b.baseY} y ${b.cursorY}`, { at: lines.length }));
    }
  }
  await last;
  await new Promise<void>((r) => ref.write('', r));
  if (process.env.DUMP) { const b = term.buffer.normal; for (let y = 0; y < b.length; y++) { const l = b.getLine(y)!; const t = l.translateToString(true); if (/^1(16[4-7]|05[4-7]|45[0-3]):/.test(t) || (l.isWrapped && y > 0 && /^1(16[4-7]|05[4-7]|45[0-3]):/.test(b.getLine(y-1)!.translateToString(true)))) console.log('row', y, l.isWrapped, JSON.stringify(t.slice(0, 50)), t.length); } }
  tracker.flushScreen();
  const expected = MODE === 'boundary' ? texts : allLines(ref);
  const got = lines.map((l) => l.text);
  const nums = lines.every((l, i) => l.lineNumber === i + 1);
  let i = 0; while (i < Math.min(expected.length, got.length) && expected[i] === got[i]) i++;
  if (i !== expected.length || got.length !== expected.length || !nums) {
    if (corrupt) { console.log(`seed ${seed}: xterm corrupted its own buffer on resize`); return; }
    console.log(`seed ${seed} sb ${sb}: expected ${expected.length} got ${got.length} firstDiff ${i}: exp ${expected[i]?.slice(0, 12)} got ${got[i]?.slice(0, 12)} nums ${nums}`);
    console.log('  got around:', got.slice(Math.max(0,i-2), i+3).map(t=>t.slice(0,8)+'…'+t.length).join(' | '));
    console.log('  exp around:', expected.slice(Math.max(0,i-2), i+3).map(t=>t.slice(0,8)+'…'+t.length).join(' | '));
    console.log('  log:', log.filter(e => e.at <= i + 5).slice(-4).join(' ; '));
    throw new Error('mismatch');
  }
  tracker.dispose(); term.dispose(); ref.dispose();
});
