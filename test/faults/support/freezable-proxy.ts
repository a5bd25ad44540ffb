/**
 * A TCP proxy whose connections can be frozen: it stops forwarding in both directions but keeps
 * every socket open, so the server sees a half-open connection — no FIN, no RST, no pong — as
 * after a network cut or a sleeping laptop. (test/e2e/cuttable-proxy.ts closes them instead.)
 */
import net from 'node:net';

export class FreezableProxy {
  private readonly pairs: { client: net.Socket; upstream: net.Socket }[] = [];

  private constructor(
    private readonly server: net.Server,
    private readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<FreezableProxy> {
    const server = net.createServer();
    const proxy = new FreezableProxy(server, targetPort);
    server.on('connection', (client) => proxy.onConnection(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  private onConnection(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    for (const s of [client, upstream]) s.on('error', () => undefined);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    this.pairs.push({ client, upstream });
  }

  /** Stops forwarding on every connection; nothing is closed and nothing is read any more. */
  freeze(): void {
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
