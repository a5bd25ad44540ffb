import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when running from TypeScript sources through tsx (tests, `npm run dev`), false from dist/. */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The project root: this file is common/paths.ts in sources and dist/common/paths.js compiled. */
export const PROJECT_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  RUNNING_FROM_SOURCE ? '..' : '../..',
);

/** Resolves a sibling module of `importMetaUrl` so it is found both from sources and from dist/. */
export function siblingModule(importMetaUrl: string, baseName: string): URL {
  return new URL(`./${baseName}${importMetaUrl.endsWith('.ts') ? '.ts' : '.js'}`, importMetaUrl);
}

/** Node options a child process needs to run a module resolved by siblingModule. */
export const CHILD_EXEC_ARGV: string[] = RUNNING_FROM_SOURCE ? ['--import', 'tsx'] : [];
