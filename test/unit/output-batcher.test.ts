import { expect } from 'chai';
import {
  INTERACTIVE_WINDOW_CHARS,
  OUTPUT_BATCH_MAX_CHARS,
  OUTPUT_BATCH_WINDOW_MS,
  OutputBatcher,
} from '../../worker/output-batcher.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('OutputBatcher', () => {
  it('forwards interactive output at once and batches heavy output per window', async () => {
    const out: string[] = [];
    const b = new OutputBatcher((d) => out.push(d));
    b.push('a');
    b.push('b');
    expect(out).to.deep.equal(['a', 'b']); // echo-sized: no waiting
    const heavy = 'h'.repeat(INTERACTIVE_WINDOW_CHARS);
    b.push(heavy);
    b.push('c');
    expect(out).to.deep.equal(['a', 'b']);
    await wait(OUTPUT_BATCH_WINDOW_MS * 4);
    expect(out).to.deep.equal(['a', 'b', `${heavy}c`]);
    await wait(OUTPUT_BATCH_WINDOW_MS * 4);
    b.push('d'); // quiet again: immediate
    expect(out).to.deep.equal(['a', 'b', `${heavy}c`, 'd']);
    b.dispose();
  });

  it('never reorders or loses output, and cuts batches at the size cap', async () => {
    const out: string[] = [];
    const b = new OutputBatcher((d) => out.push(d));
    const big = 'x'.repeat(OUTPUT_BATCH_MAX_CHARS);
    b.push('1');
    b.push(big);
    expect(out.length).to.equal(2);
    b.push('2');
    b.flush();
    b.push('3');
    b.dispose();
    expect(out.join('')).to.equal(`1${big}23`);
  });
});
