import { Router } from 'express';
import type { AuthService } from '../../auth/auth-service.js';
import { credentialsSchema, loginSchema, passwordChangeSchema } from '../../auth/credentials.js';
import { principalOf, requireAuth } from '../authenticate.js';
import { parseOrThrow } from '../errors.js';

export function authRoutes(auth: AuthService): Router {
  const r = Router();
  r.post('/register', async (req, res) => {
    const { username, password } = parseOrThrow(credentialsSchema, req.body);
    res.status(201).json(await auth.register(username, password));
  });
  r.post('/login', async (req, res) => {
    const { username, password } = parseOrThrow(loginSchema, req.body);
    res.status(200).json(await auth.login(username, password, req.ip ?? 'unknown'));
  });
  r.post('/logout', requireAuth(auth), (req, res) => {
    auth.logout(principalOf(req));
    res.status(204).end();
  });
  r.post('/password', requireAuth(auth), async (req, res) => {
    const p = principalOf(req);
    const { currentPassword, newPassword } = parseOrThrow(passwordChangeSchema, req.body);
    // Every token of the user (this one included) stops working; the reply carries a fresh one.
    res.status(200).json(await auth.changePassword(p, currentPassword, newPassword));
  });
  r.get('/me', requireAuth(auth), (req, res) => {
    res.json({ user: principalOf(req).user });
  });
  return r;
}
