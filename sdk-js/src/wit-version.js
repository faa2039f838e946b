// The WIT package version this SDK speaks, read from the contract itself (plugin-sdk/wit in a
// checkout, the copy in wit/ of a packed SDK): the WIT file is the one place it is written.
// Natively only: importhook-build-js replaces this module in the component with the version
// it built against, and pins the glue's `importhook:plugin/*` imports to it.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHECKOUT_WIT = resolve(HERE, '../../plugin-sdk/wit');

/** The folder of the contract: the checkout's plugin-sdk/wit, else the packed copy. */
export const DEFAULT_WIT = existsSync(join(CHECKOUT_WIT, 'importhook.wit')) ? CHECKOUT_WIT : resolve(HERE, '../wit');

/** The `X.Y.Z` of `package importhook:plugin@X.Y.Z;` in `dir`/importhook.wit. */
export function witVersion(dir = DEFAULT_WIT) {
  const path = join(dir, 'importhook.wit');
  const found = /^\s*package importhook:plugin@([^;\s]+);/m.exec(readFileSync(path, 'utf8'));
  if (!found) throw new Error(`${path} has no \`package importhook:plugin@X.Y.Z;\` line`);
  return found[1];
}

export const WIT_VERSION = witVersion();
