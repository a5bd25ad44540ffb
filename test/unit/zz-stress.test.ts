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
  let last = b.length - 1;
  while (last >= 0 && b.getLine(last)!.translateToString(true) === '' && !b.getLine(last)!.isWrapped) last--;
  for (let y = 0; y <= last; y++) {
    const l = b.getLine(y)!; const n = b.getLine(y + 1);
    const wraps = !!n?.isWrapped;
    let part = l.translateToString(!wraps);
    if (wraps) { const lc = l.getCell(l.length - 1); if (lc && lc.getCode() === 0 && lc.getWidth() === 1 && n!.getCell(0)?.getWidth() === 2) part = part.slice(0, -1); }
    cur += part;
    if (!wraps) { out.push(cur.trimEnd()); cur = ''; }
  }
  if (cur) out.push(cur.trimEnd());
  return out;
}
const MODE = process.env.MODE ?? 'boundary';
const parsed = (t: T) => new Promise<void>((r) => t.write('', r));
for (let seed = 1; seed <= Number(process.env.SEEDS ?? 40); seed++) it(`stress ${MODE} ${seed}`, async function () {
  const random = prng(seed);
  const sb = [500, 1000, 300][seed % 3]!;
  const term = new Terminal({ cols: 80, rows: 24, scrollback: sb, allowProposedApi: true });
  const ref = new Terminal({ cols: 80, rows: 24, scrollback: 1_000_000, allowProposedApi: true, scrollOnEraseInDisplay: true });
  const lines: TrackedLine[] = [];
  const tracker = new LineTracker(term, (l) => lines.push(...l));
  const sizes: [number, number][] = [[40, 24], [120, 30], [60, 10], [80, 24], [33, 40], [150, 12], [200, 50], [100, 20]];
  const texts = Array.from({ length: 3000 }, (_, i) => `${i + 1}:` + (random() < Number(process.env.WIDE ?? 0.1) ? '字'.repeat(Math.floor(random() * 100)) : 'y'.repeat(Math.floor(random() * 250))));
  const data = texts.map((t) => `${t}\r\n`).join('');
  let corrupt = false;
  let last: Promise<void> = Promise.resolve();
  for (let p = 0; p < data.length; ) {
    let size = 1 + Math.floor(random() * 4000);
    const resizeNow = random() < 0.15;
    if (resizeNow && MODE === 'boundary') { const nl = data.indexOf('\n', p + size - 1); size = (nl < 0 ? data.length : nl + 1) - p; }
    const chunk = data.slice(p, p + size);
    last = new Promise<void>((res) => term.write(chunk, () => { tracker.poll(); res(); }));
    ref.write(chunk);
    p += size;
    if (resizeNow) {
      await last; await parsed(ref);
      const [cols, rows] = sizes[Math.floor(random() * sizes.length)]!;
      term.resize(cols, rows); ref.resize(cols, rows);
      // Did xterm's overflowing reflow corrupt the tracked buffer? (the same buffer, minus its trimmed head, must end the reference)
      const t = allLines(term).slice(1); const r = allLines(ref); const tail = r.slice(-t.length);
      if (t.some((x, k) => x !== tail[k])) corrupt = true;
    }
  }
  await last; await parsed(ref);
  tracker.flushScreen();
  const expected = MODE === 'boundary' ? texts : allLines(ref);
  const got = lines.map((l) => l.text);
  const nums = lines.every((l, i) => l.lineNumber === i + 1);
  let i = 0; while (i < Math.min(expected.length, got.length) && expected[i] === got[i]) i++;
  tracker.dispose(); term.dispose(); ref.dispose();
  if (i !== expected.length || got.length !== expected.length || !nums) {
    if (corrupt) { console.log(`seed ${seed}: differs, xterm corrupted its own buffer on resize`); return; }
    console.log(`seed ${seed} sb ${sb}: expected ${expected.length} got ${got.length} firstDiff ${i}: nums ${nums}`);
    console.log('  got around:', got.slice(Math.max(0, i - 2), i + 3).map((t) => t.slice(0, 8) + '…' + t.length).join(' | '));
    console.log('  exp around:', expected.slice(Math.max(0, i - 2), i + 3).map((t) => t.slice(0, 8) + '…' + t.length).join(' | '));
    const j = i; console.log('  got', JSON.stringify(got[j])); console.log('  exp', JSON.stringify(expected[j])); console.log('  orig', JSON.stringify(texts[j]));
    throw new Error('mismatch');
  }
  if (corrupt) console.log(`seed ${seed}: exact although xterm's reflow diverged`);
});
