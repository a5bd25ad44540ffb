import xtermHeadless from '@xterm/headless';
import { LineTracker, type TrackedLine } from '../../worker/line-tracker.js';
const { Terminal } = xtermHeadless;
type T = InstanceType<typeof Terminal>;
const ESC = '\x1b';
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}
function bufLines(term: T): string[] {
  const b = term.buffer.normal; const out: string[] = []; let cur = '';
  for (let y = 0; y < b.length; y++) { const l = b.getLine(y)!; const n = b.getLine(y + 1); let part = l.translateToString(!n?.isWrapped); if (n?.isWrapped) { const lc = l.getCell(l.length - 1); if (lc && lc.getCode() === 0 && lc.getWidth() === 1 && n.getCell(0)?.getWidth() === 2) part = part.slice(0, -1); } cur += part; if (!n?.isWrapped) { out.push(cur.trimEnd()); cur = ''; } }
  return out;
}
for (let seed = 1; seed <= Number(process.env.SEEDS ?? 40); seed++) it(`stress2 ${seed}`, async function () {
  const random = prng(seed * 7919);
  const sb = [50, 300, 1000][seed % 3]!;
  const term = new Terminal({ cols: 80, rows: 24, scrollback: sb, allowProposedApi: true });
  const lines: TrackedLine[] = [];
  const tracker = new LineTracker(term, (l) => lines.push(...l));
  const sizes: [number, number][] = [[40, 24], [120, 30], [60, 10], [80, 24], [100, 20], [70, 40]];
  const texts = Array.from({ length: 4000 }, (_, i) => `${i + 1}:` + (random() < 0.05 ? '字'.repeat(Math.floor(random() * 60)) : 'y'.repeat(Math.floor(random() * (sb === 50 ? 120 : 250)))));
  const colour = (t: string) => (random() < 0.3 ? `${ESC}[3${Math.floor(random() * 8)}m${t.slice(0, 3)}${ESC}[0m${t.slice(3)}` : t);
  const set = new Set(texts);
  let corrupt = false; const ops: string[] = [];
  let last: Promise<void> = Promise.resolve();
  const write = (d: string) => { last = new Promise<void>((res) => term.write(d, () => { tracker.poll(); res(); })); };
  let at = 0;
  while (at < texts.length) {
    const n = 1 + Math.floor(random() * 120);
    const block = texts.slice(at, at + n).map((t) => `${colour(t)}\r\n`).join('');
    at += n;
    // random chunking of the block, then an event at the line boundary, sometimes in the same chunk
    let p = 0; while (p < block.length) { const s = 1 + Math.floor(random() * 3000); write(block.slice(p, p + s)); p += s; }
    const r = random();
    if (r < 0.15) { await last; const [c, rr] = sizes[Math.floor(random() * sizes.length)]!; term.resize(c, rr); ops.push(`@${at} ` + `resize ${c}x${rr}`); const bad = bufLines(term).slice(1).filter((t) => t !== '' && !set.has(t)); const b = term.buffer.normal; const cl = b.getLine(b.baseY + b.cursorY); if (bad.length || b.cursorX !== 0 || cl?.isWrapped || cl?.translateToString(true) !== '') { corrupt = true; if (process.env.V) console.log('corrupt at', at, bad.length, b.cursorX, cl?.isWrapped, JSON.stringify(cl?.translateToString(true).slice(0, 10))); } }
    else if (r < 0.25) { const junk = Array.from({ length: Math.floor(random() * 60) }, (_, i) => `junk ${i}`).join('\r\n'); write(`${ESC}[?1049h${ESC}[H${junk}`); if (random() < 0.4) { await last; const [c, rr] = sizes[Math.floor(random() * sizes.length)]!; term.resize(c, rr); ops.push(`@${at} ` + `alt+resize ${c}x${rr}`); } write(`more${ESC}[?1049l`); ops.push(`@${at} ` + 'alt'); if (ops[ops.length - 2]?.includes('alt+resize')) { await last; const b = term.buffer.normal; const cl = b.getLine(b.baseY + b.cursorY); const prevRow = b.getLine(b.baseY + b.cursorY - 1); if (b.cursorX !== 0 || cl?.isWrapped || cl?.translateToString(true) !== '' || (b.baseY + b.cursorY > 0 && prevRow?.translateToString(true) === '' && !prevRow?.isWrapped)) { corrupt = true; if (process.env.V) console.log('corrupt cursor after alt at', at); } } }
    else if (r < 0.30) { write(`${ESC}[H${ESC}[2J`); ops.push(`@${at} ` + 'clear'); }
    else if (r < 0.35) { write(`${ESC}[H${ESC}[2J${ESC}[3J`); ops.push(`@${at} ` + 'clear+3J'); }
    else if (r < 0.40) { write(`${ESC}[3J`); ops.push(`@${at} ` + '3J'); }
    else if (r < 0.43) { write(`${ESC}c`); ops.push(`@${at} ` + 'RIS'); }
    else if (r < 0.5) { await last; ops.push(`@${at} ` + 'await'); }
  }
  await last;
  tracker.flushScreen();
  const got = lines.map((l) => l.text);
  const nums = lines.every((l, i) => l.lineNumber === i + 1);
  tracker.dispose(); term.dispose();
  let i = 0; while (i < Math.min(texts.length, got.length) && texts[i] === got[i]) i++;
  if (i !== texts.length || got.length !== texts.length || !nums) {
    if (corrupt) { console.log(`seed ${seed}: differs after xterm corrupted its own buffer on resize`); return; }
    console.log(`seed ${seed} sb ${sb}: got ${got.length} firstDiff ${i} nums ${nums}`, got.slice(Math.max(0, i - 1), i + 2).map((t) => t.slice(0, 8) + '…' + t.length), texts.slice(Math.max(0, i - 1), i + 2).map((t) => t.slice(0, 8) + '…' + t.length));
    console.log(ops.filter((o) => { const k = Number(o.slice(1).split(' ')[0]); return k > i - 150 && k < i + 50; }).join(' ; '));
    throw new Error('mismatch');
  }
});
