/**
 * A TCP proxy between the browser and the gateway whose connections the test can cut, like a
 * network drop: both ends see their socket close (no close handshake), and for a while new
 * connections are refused. Chromium's offline emulation does not touch open WebSockets
 * (playwright #4910), so a real cut needs a real middle.
 */
import net from 'node:net';

export class CuttableProxy {
  private readonly sockets = new Set<net.Socket>();
  private downUntil = 0;
  targetPort = 0;

  private constructor(private readonly server: net.Server) {}

  static async start(): Promise<CuttableProxy> {
    const server = net.createServer();
    const proxy = new CuttableProxy(server);
    server.on('connection', (client) => proxy.onConnection(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** What the browser's Origin header will be (the gateway must allow it). */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  private onConnection(client: net.Socket): void {
    this.track(client);
    if (Date.now() < this.downUntil || this.targetPort === 0) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /** Drops every open connection and refuses new ones for `downForMs`. */
  cut(downForMs: number): void {
    this.downUntil = Date.now() + downForMs;
    for (const s of this.sockets) s.destroy();
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
