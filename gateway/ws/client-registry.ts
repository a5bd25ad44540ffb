import type { Viewer, ViewerDirectory } from '../sessions/viewer.js';

export interface RegisteredClient extends Viewer {
  readonly jti: string;
  close(code: number, reason: string): void;
}

/** Every authenticated socket, by user and by token, so revocation can close them at once. */
export class ClientRegistry implements ViewerDirectory {
  private readonly byUser = new Map<string, Set<RegisteredClient>>();
  private readonly all = new Set<RegisteredClient>();

  add(client: RegisteredClient): void {
    this.all.add(client);
    const set = this.byUser.get(client.userId) ?? new Set<RegisteredClient>();
    this.byUser.set(client.userId, set);
    set.add(client);
  }

  remove(client: RegisteredClient): void {
    this.all.delete(client);
    const set = this.byUser.get(client.userId);
    set?.delete(client);
    if (set?.size === 0) this.byUser.delete(client.userId);
  }

  socketsOf(userId: string): Iterable<RegisteredClient> {
    return [...(this.byUser.get(userId) ?? [])];
  }

  withToken(jti: string): RegisteredClient[] {
    return [...this.all].filter((c) => c.jti === jti);
  }

  get size(): number {
    return this.all.size;
  }
}
