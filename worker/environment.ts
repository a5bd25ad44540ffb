/**
 * A PTY's environment is built from an allowlist, never inherited wholesale: no server secret
 * (JWT_SECRET, ENCRYPTION_KEY, METRICS_TOKEN) can reach a session, and an API key reaches only
 * the session it was given to.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Variables a shell or Claude Code reasonably needs from the server's environment. */
export const ENV_ALLOWLIST = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
] as const;

/** Fallback when the server itself runs without PATH (e.g. under a bare init). */
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

export function buildSessionEnv(source: NodeJS.ProcessEnv, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ENV_ALLOWLIST) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  env.LANG ??= 'C.UTF-8';
  env.TERM = 'xterm-256color';
  env.COLORTERM = 'truecolor';
  for (const [k, v] of Object.entries(extra)) env[k] = v;
  return env;
}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Finds `command` the way execvp would; undefined when it cannot be run. */
export function resolveExecutable(command: string, searchPath: string): string | undefined {
  if (command.includes('/')) return isExecutableFile(command) ? path.resolve(command) : undefined;
  for (const dir of searchPath.split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}
