import { expect } from 'chai';
import { MessageLimiter } from '../../gateway/ws/message-limiter.js';

describe('MessageLimiter', () => {
  it('allows the burst, then the rate, and notices at most once per interval', () => {
    let now = 0;
    const l = new MessageLimiter(10, 5, () => now);
    for (let i = 0; i < 5; i++) expect(l.take(), `message ${i}`).to.equal(true);
    expect(l.take()).to.equal(false);
    expect(l.shouldNotify()).to.equal(true);
    expect(l.shouldNotify()).to.equal(false);
    now += 100; // one token at 10/s
    expect(l.take()).to.equal(true);
    expect(l.take()).to.equal(false);
    now += 1000;
    expect(l.shouldNotify()).to.equal(true);
    for (let i = 0; i < 5; i++) expect(l.take()).to.equal(true); // refilled to the burst, not beyond
    expect(l.take()).to.equal(false);
  });
});
