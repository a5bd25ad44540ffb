/** gen-output's lines as plain text (what history stores), produced by running it on a pipe. */
import { execFileSync } from 'node:child_process';
import { GEN_OUTPUT } from './gateway.js';

/** Room for the largest run (500k lines ≈ 50 MB of output with colours). */
const MAX_PIPE_BYTES = 512 * 1024 * 1024;

export function genLines(count: number): string[] {
  const out = execFileSync(process.execPath, [GEN_OUTPUT, '--lines', String(count), '--nonce', 'lines'], {
    encoding: 'latin1',
    maxBuffer: MAX_PIPE_BYTES,
  });
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  return plain.filter((l) => /^\d{8} /.test(l));
}
