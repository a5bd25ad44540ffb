/**
 * Keeps the benchmarks from rotting: `npm run bench -- --quick` runs every benchmark once with
 * small sizes (real gateway, workers, PTYs). Asserts that each produced finite figures and that
 * the results were written — never a timing (speed is judged by `npm run bench` itself).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Results } from '../../bench/lib/report.js';
import { SUITE } from '../../bench/suite.js';
import { ROOT } from '../helpers/gateway-process.js';

/** The quick suite takes well under a minute; a loaded machine gets this much room. */
const QUICK_RUN_TIMEOUT_MS = 180_000;

function runQuick(outDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', outDir], {
      cwd: ROOT,
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), QUICK_RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('benchmarks (npm run bench -- --quick)', function () {
  this.timeout(QUICK_RUN_TIMEOUT_MS + 10_000);
  let outDir: string;
  let run: { code: number | null; stdout: string; stderr: string };
  let results: Results;

  before(async () => {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccm-bench-quick-'));
    run = await runQuick(outDir);
  });
  after(() => fs.rmSync(outDir, { recursive: true, force: true }));

  it('exits 0 and writes latest.json and latest.md', () => {
    expect(run.code, run.stderr.slice(-3000)).to.equal(0);
    results = JSON.parse(fs.readFileSync(path.join(outDir, 'latest.json'), 'utf8')) as Results;
    const table = fs.readFileSync(path.join(outDir, 'latest.md'), 'utf8');
    expect(table).to.include('| benchmark | metric | value | baseline | ratio | target | verdict |');
    expect(run.stdout).to.include(table.split('\n')[0] as string);
  });

  it('records the machine and the commit', () => {
    expect(results.quick).to.equal(true);
    expect(results.machine.cpus).to.be.greaterThan(0);
    expect(results.machine.totalMemBytes).to.be.greaterThan(0);
    expect(results.machine.node).to.equal(process.version);
    expect(results.commit).to.be.a('string').and.not.equal('');
  });

  it('ran every benchmark, each producing finite figures', () => {
    expect(results.benchmarks.map((b) => b.name)).to.deep.equal(SUITE.map((b) => b.name));
    for (const b of results.benchmarks) {
      expect(b.error, `${b.name} failed: ${b.error}`).to.equal(undefined);
      expect(b.metrics.length, b.name).to.be.greaterThan(0);
      for (const m of b.metrics) {
        const what = `${b.name}: ${m.metric}`;
        expect(m.values.length, what).to.equal(b.rounds);
        for (const v of m.values) expect(Number.isFinite(v), `${what} = ${v}`).to.equal(true);
        expect(Number.isFinite(m.median), what).to.equal(true);
        if (m.baseline) expect(Number.isFinite(m.baseline.median), `${what} baseline`).to.equal(true);
        if (m.target) expect(m.verdict, what).to.be.oneOf(['met', 'not met']);
      }
    }
  });
});
