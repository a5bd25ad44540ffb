/** /api/keys (API.md): the caller's own API keys. The value goes in, never comes out. */
import { Router } from 'express';
import { z } from 'zod';
import type { AuthService } from '../../auth/auth-service.js';
import type { ApiKeyService } from '../../keys/api-key-service.js';
import { principalOf, requireAuth } from '../authenticate.js';
import { parseOrThrow } from '../errors.js';

export const MAX_KEY_NAME_CHARS = 100;
/** Real provider keys are ~100 characters; this leaves room for any format without inviting blobs. */
export const MAX_KEY_VALUE_CHARS = 4096;
/** The providers a key can be for; each maps to the variable a session receives (ANTHROPIC_API_KEY). */
export const KEY_PROVIDERS = ['anthropic'] as const;

const noControlChars = /^[^\p{Cc}]*$/u;

/** Printable names: they are shown in every client that lists keys. */
const nameSchema = z
  .string()
  .trim()
  .min(1)
  .max(MAX_KEY_NAME_CHARS)
  .regex(noControlChars, { message: 'must not contain control characters' });

/**
 * Surrounding whitespace is trimmed (a pasted key often carries some); control characters are
 * refused because a value goes verbatim into a process environment.
 */
const valueSchema = z
  .string()
  .trim()
  .min(1)
  .max(MAX_KEY_VALUE_CHARS)
  .regex(noControlChars, { message: 'must not contain control characters' });

const createSchema = z.strictObject({
  name: nameSchema,
  provider: z.enum(KEY_PROVIDERS).default('anthropic'),
  value: valueSchema.optional(),
});

const updateSchema = z
  .strictObject({
    name: nameSchema.optional(),
    /** null clears the value (the key stays, hasValue becomes false). */
    value: valueSchema.nullable().optional(),
  })
  .refine((b) => b.name !== undefined || b.value !== undefined, { message: 'send name or value' });

export function keyRoutes(auth: AuthService, keys: ApiKeyService): Router {
  const r = Router();
  r.use(requireAuth(auth));

  r.get('/', (req, res) => {
    res.json({ keys: keys.list(principalOf(req).user.id) });
  });

  r.post('/', (req, res) => {
    const body = parseOrThrow(createSchema, req.body ?? {});
    res.status(201).json({ key: keys.create(principalOf(req).user.id, body) });
  });

  r.put('/:id', (req, res) => {
    const userId = principalOf(req).user.id;
    const body = parseOrThrow(updateSchema, req.body ?? {});
    res.json({ key: keys.update(userId, req.params.id, body) });
  });

  r.delete('/:id', (req, res) => {
    keys.delete(principalOf(req).user.id, req.params.id);
    res.status(204).end();
  });

  return r;
}
