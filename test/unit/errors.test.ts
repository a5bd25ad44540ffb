import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { AppError, ERROR_CATALOGUE, ERROR_CODES, errorBody } from '../../common/errors.js';
import { ROOT } from '../helpers/gateway-process.js';

describe('error catalogue', () => {
  it('has unique codes, each with a 4xx/5xx status and a message', () => {
    expect(new Set(ERROR_CODES).size).to.equal(ERROR_CODES.length);
    for (const code of ERROR_CODES) {
      expect(code).to.match(/^[A-Z][A-Z_]+$/);
      const { status, message } = ERROR_CATALOGUE[code];
      expect(status).to.be.within(400, 599);
      expect(message.length).to.be.greaterThan(5);
    }
  });

  it('documents every code in the README errors table, and nothing that is not a code', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Errors'));
    const documented = [...table.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])] as const);
    expect(documented.map(([c]) => c).sort()).to.deep.equal([...ERROR_CODES].sort());
    for (const [code, status] of documented)
      expect(status, code).to.equal(ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].status);
  });

  it('builds the contract body, with no stack', () => {
    const body = errorBody(new AppError('SESSION_NOT_FOUND'));
    expect(body).to.deep.equal({ error: { code: 'SESSION_NOT_FOUND', message: 'No session with that id' } });
    expect(JSON.stringify(body)).not.to.match(/\n\s+at |stack/);
  });
});
