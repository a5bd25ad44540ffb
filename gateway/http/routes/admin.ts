/**
 * /api/admin: user management for admins. Role and disable changes go through AuthService, which
 * bumps the user's token version (every token of theirs fails on its very next use) and closes
 * their sockets at once. The last active admin cannot be demoted or disabled (LAST_ADMIN).
 */
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../../common/db/open.js';
import { toPublicUser, type UserRow } from '../../../common/db/repositories/users.js';
import { AppError } from '../../../common/errors.js';
import type { Logger } from '../../../common/log.js';
import type { PublicUser } from '../../../common/models.js';
import type { AuthService } from '../../auth/auth-service.js';
import { principalOf, requireAdmin, requireAuth } from '../authenticate.js';
import { parseOrThrow } from '../errors.js';

export type AdminUserView = PublicUser & { disabled: boolean };

const toAdminView = (row: UserRow): AdminUserView => ({ ...toPublicUser(row), disabled: row.disabled !== 0 });

const patchSchema = z
  .strictObject({
    role: z.enum(['admin', 'user']).optional(),
    disabled: z.boolean().optional(),
  })
  .refine((b) => b.role !== undefined || b.disabled !== undefined, { message: 'send role or disabled' });

type UserPatch = z.infer<typeof patchSchema>;

/**
 * Applies a patch in one IMMEDIATE transaction, so two admins demoting each other at once cannot
 * leave nobody in charge. Only real changes are applied (and so revoke tokens).
 */
export function applyUserPatch(db: Db, auth: AuthService, userId: string, patch: UserPatch): UserRow {
  return db
    .transaction((): UserRow => {
      const row = auth.users.findById(userId);
      if (!row) throw new AppError('USER_NOT_FOUND');
      const disabledNow = row.disabled !== 0;
      const role = patch.role ?? row.role;
      const disabled = patch.disabled ?? disabledNow;
      const activeAdminBefore = row.role === 'admin' && !disabledNow;
      const activeAdminAfter = role === 'admin' && !disabled;
      if (activeAdminBefore && !activeAdminAfter && auth.users.countActiveAdmins() <= 1) {
        throw new AppError('LAST_ADMIN');
      }
      if (role !== row.role) auth.setRole(userId, role);
      if (disabled !== disabledNow) auth.setDisabled(userId, disabled);
      return auth.users.findById(userId) as UserRow;
    })
    .immediate();
}

export function adminRoutes(db: Db, auth: AuthService, log: Logger): Router {
  const r = Router();
  r.use(requireAuth(auth), requireAdmin);

  r.get('/users', (_req, res) => {
    res.json({ users: auth.users.list().map(toAdminView) });
  });

  r.patch('/users/:id', (req, res) => {
    const admin = principalOf(req).user;
    const patch = parseOrThrow(patchSchema, req.body ?? {});
    const row = applyUserPatch(db, auth, req.params.id, patch);
    log.info(
      { adminId: admin.id, userId: row.id, role: row.role, disabled: row.disabled !== 0 },
      'user changed by an admin',
    );
    res.json({ user: toAdminView(row) });
  });

  return r;
}
