import { EventEmitter } from 'node:events';
import type { Config } from '../../common/config.js';
import type { Db } from '../../common/db/open.js';
import { RevokedTokensRepository } from '../../common/db/repositories/revoked-tokens.js';
import { toPublicUser, type UserRow, UsersRepository } from '../../common/db/repositories/users.js';
import { AppError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { PublicUser, Role } from '../../common/models.js';
import { FailureLimiter } from './login-limiter.js';
import type { PasswordHasher } from './password-hasher.js';
import { type IssuedToken, type TokenClaims, TokenService } from './tokens.js';

export interface Principal {
  user: PublicUser;
  claims: TokenClaims;
}

export interface AuthResult {
  user: PublicUser;
  token: string;
  expiresAt: string;
}

export type LoginOutcome = 'success' | 'failure' | 'rate_limited';

interface AuthEvents {
  /** One token stopped working (logout). */
  tokenRevoked: [jti: string];
  /** Every token of a user stopped working (role change, disable, password change). */
  userRevoked: [userId: string];
  login: [outcome: LoginOutcome];
}

export class AuthService extends EventEmitter<AuthEvents> {
  readonly users: UsersRepository;
  private readonly revoked: RevokedTokensRepository;
  private readonly tokens: TokenService;
  private readonly perAccount: FailureLimiter;
  private readonly perAddress: FailureLimiter;

  constructor(
    db: Db,
    private readonly config: Config,
    private readonly hasher: PasswordHasher,
    private readonly log: Logger,
  ) {
    super();
    this.users = new UsersRepository(db);
    this.revoked = new RevokedTokensRepository(db);
    this.tokens = new TokenService(config.jwtSecret, config.jwtExpiresIn);
    this.perAccount = new FailureLimiter(config.loginMaxFailuresPerAccount, config.loginFailureWindowMs);
    this.perAddress = new FailureLimiter(config.loginMaxFailuresPerAddress, config.loginFailureWindowMs);
  }

  private issue(row: UserRow): AuthResult {
    const issued: IssuedToken = this.tokens.issue(row.id, row.token_version);
    return { user: toPublicUser(row), token: issued.token, expiresAt: issued.expiresAt };
  }

  async register(username: string, password: string): Promise<AuthResult> {
    if (!this.config.allowRegistration && this.users.count() > 0) throw new AppError('REGISTRATION_CLOSED');
    if (this.users.findByUsername(username)) throw new AppError('USERNAME_TAKEN');
    const hash = await this.hasher.hash(password);
    let row: UserRow | 'closed';
    try {
      row = this.users.create(username, hash, this.config.allowRegistration);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new AppError('USERNAME_TAKEN');
      throw err;
    }
    if (row === 'closed') throw new AppError('REGISTRATION_CLOSED');
    this.log.info({ userId: row.id, role: row.role }, 'user registered');
    return this.issue(row);
  }

  async login(username: string, password: string, address: string): Promise<AuthResult> {
    const accountKey = username.toLowerCase();
    if (this.perAccount.isLimited(accountKey) || this.perAddress.isLimited(address)) {
      this.emit('login', 'rate_limited');
      const retry = Math.max(this.perAccount.retryAfterSeconds(accountKey), this.perAddress.retryAfterSeconds(address));
      throw new AppError('RATE_LIMITED', undefined, { retryAfterSeconds: retry });
    }
    // Counted as a failure before bcrypt runs, so a burst of parallel guesses cannot all pass
    // the check while the first ones are still being verified; a success takes it back.
    this.perAccount.recordFailure(accountKey);
    this.perAddress.recordFailure(address);
    const row = this.users.findByUsername(username);
    const ok =
      row && !row.disabled
        ? await this.hasher.verify(password, row.password_hash)
        : await this.hasher.verifyAgainstDummy(password);
    if (!ok || !row) {
      this.emit('login', 'failure');
      this.log.warn({ username: accountKey, address }, 'login failed');
      throw new AppError('INVALID_CREDENTIALS');
    }
    this.perAccount.reset(accountKey);
    this.perAddress.forgiveOne(address);
    this.emit('login', 'success');
    this.log.info({ userId: row.id }, 'login');
    return this.issue(row);
  }

  /** Verifies a bearer token and the user behind it, on every request (so revocation is immediate). */
  authenticate(token: string | undefined): Principal {
    if (!token) throw new AppError('UNAUTHENTICATED');
    const claims = this.tokens.verify(token);
    const row = this.users.findById(claims.sub);
    if (!row) throw new AppError('INVALID_TOKEN');
    if (row.disabled || row.token_version !== claims.ver || this.revoked.isRevoked(claims.jti)) {
      throw new AppError('TOKEN_REVOKED');
    }
    return { user: toPublicUser(row), claims };
  }

  logout(principal: Principal): void {
    this.revoked.revoke(principal.claims.jti, principal.user.id, principal.claims.exp * 1000);
    this.log.info({ userId: principal.user.id }, 'logout');
    this.emit('tokenRevoked', principal.claims.jti);
  }

  setRole(userId: string, role: Role): void {
    this.users.setRole(userId, role);
    this.emit('userRevoked', userId);
  }

  setDisabled(userId: string, disabled: boolean): void {
    this.users.setDisabled(userId, disabled);
    this.emit('userRevoked', userId);
  }

  /** Checks the current password, stores the new one, revokes every token and issues a new one. */
  async changePassword(principal: Principal, currentPassword: string, newPassword: string): Promise<AuthResult> {
    const row = this.users.findById(principal.user.id);
    if (!row || !(await this.hasher.verify(currentPassword, row.password_hash))) {
      throw new AppError('INVALID_CREDENTIALS', 'The current password is wrong');
    }
    this.users.setPassword(row.id, await this.hasher.hash(newPassword));
    this.emit('userRevoked', row.id);
    this.log.info({ userId: row.id }, 'password changed');
    return this.issue(this.users.findById(row.id) as UserRow);
  }

  pruneRevoked(): number {
    return this.revoked.pruneExpired(Date.now());
  }
}
