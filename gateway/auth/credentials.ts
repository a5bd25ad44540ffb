import { z } from 'zod';

/** bcrypt ignores bytes past 72, so a longer password would be silently truncated: refuse it. */
export const PASSWORD_MIN_BYTES = 8;
export const PASSWORD_MAX_BYTES = 72;
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;

export const usernameSchema = z
  .string({ message: 'username must be a string' })
  .min(USERNAME_MIN, { message: `username must be ${USERNAME_MIN}–${USERNAME_MAX} characters` })
  .max(USERNAME_MAX, { message: `username must be ${USERNAME_MIN}–${USERNAME_MAX} characters` })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
    message: 'username may contain letters, digits, _ . - and must start with a letter or digit',
  });

export const passwordSchema = z
  .string({ message: 'password must be a string' })
  .refine((p) => Buffer.byteLength(p, 'utf8') >= PASSWORD_MIN_BYTES, {
    message: `password must be at least ${PASSWORD_MIN_BYTES} bytes`,
  })
  .refine((p) => Buffer.byteLength(p, 'utf8') <= PASSWORD_MAX_BYTES, {
    message: `password must be at most ${PASSWORD_MAX_BYTES} bytes (UTF-8)`,
  });

export const credentialsSchema = z.object({ username: usernameSchema, password: passwordSchema }).strict();

/** Login checks only shape (not the registration rules) so that old accounts keep working. */
export const loginSchema = z
  .object({
    username: z.string().min(1).max(256),
    password: z.string().min(1).max(1024),
  })
  .strict();

export const passwordChangeSchema = z
  .object({ currentPassword: z.string().min(1).max(1024), newPassword: passwordSchema })
  .strict();
