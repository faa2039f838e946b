#!/usr/bin/env node
// importhook-build-js: builds a JavaScript strategy into a plugin component.
//
//   importhook-build-js src/strategy.js -o my_strategy.wasm [--wit DIR]
//
// The strategy module's default export is `{ transform(request, config), validateConfig? }`;
// it imports the SDK as 'importhook-sdk' and its own modules by relative paths. The build
// stages the SDK and the strategy's folder side by side (the engine resolves relative paths
// only), generates the entry module (src/component.js), and runs ComponentizeJS with every
// WASI feature disabled: the component then imports only importhook:plugin/log and /config,
// nothing the host refuses, and no empty WASI either. Needs @bytecodealliance/componentize-js
// installed in the strategy's package (a devDependency: `npm ci`).

import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { DEFAULT_WIT, witVersion } from '../src/wit-version.js';

const SDK_SRC = dirname(fileURLToPath(new URL('../src/index.js', import.meta.url)));
/** Every ComponentizeJS feature that would import WASI (or wasi:http, which the host refuses). */
export const DISABLED_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'];

function usage(message) {
  console.error(`importhook-build-js: ${message}\nusage: importhook-build-js <strategy.js> -o <out.wasm> [--wit DIR]`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { wit: DEFAULT_WIT };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-o' || a === '--out') args.out = argv[++i];
    else if (a === '--wit') args.wit = argv[++i];
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (args.entry) usage(`one strategy module only (got ${args.entry} and ${a})`);
    else args.entry = a;
  }
  if (!args.entry) usage('no strategy module');
  if (!args.out) usage('no output file (-o)');
  return args;
}

/** componentize-js as installed for the strategy's package (searched upwards from `from`). */
async function loadComponentize(from) {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const pkg = join(dir, 'node_modules/@bytecodealliance/componentize-js/package.json');
    if (existsSync(pkg)) {
      const meta = JSON.parse(await readFile(pkg, 'utf8'));
      const main = meta.exports?.import ?? meta.main;
      return (await import(pathToFileURL(join(dirname(pkg), main)).href)).componentize;
    }
    if (dirname(dir) === dir) break;
  }
  console.error(
    'importhook-build-js: @bytecodealliance/componentize-js is not installed for this strategy: ' +
      'add it as a devDependency and run `npm ci` (see the README, "Strategies in JavaScript and Python")',
  );
  process.exit(1);
}

const SDK_IMPORT = /(\b(?:from|import)\s*\(?\s*)(['"])importhook-sdk(\/component)?\2/g;

/** Copies the strategy's folder (JavaScript modules only), pointing SDK imports at the staged SDK. */
async function stageStrategy(from, to, sdkDir) {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) await stageStrategy(source, target, sdkDir);
    else if (/\.m?js$/.test(entry.name)) {
      let sdk = relative(dirname(target), sdkDir).split(sep).join('/');
      if (!sdk.startsWith('.')) sdk = `./${sdk}`;
      const text = await readFile(source, 'utf8');
      await writeFile(
        target,
        text.replace(SDK_IMPORT, (_, head, q, sub) => `${head}${q}${sdk}/${sub ? 'component' : 'index'}.js${q}`),
      );
    }
  }
}

/**
 * Writes the contract's version into the staged SDK: the glue's host imports name it, and
 * `INTERFACE_VERSION` is it (the component has no file system to read the WIT from).
 */
async function pinWitVersion(sdkDir, version) {
  const glue = join(sdkDir, 'component.js');
  const text = await readFile(glue, 'utf8');
  await writeFile(glue, text.replace(/(['"])importhook:plugin\/([\w-]+)\1/g, `$1importhook:plugin/$2@${version}$1`));
  await writeFile(
    join(sdkDir, 'wit-version.js'),
    `// Written by importhook-build-js from the WIT it built against.\nexport const WIT_VERSION = ${JSON.stringify(version)};\n`,
  );
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const entry = resolve(args.entry);
  const out = resolve(args.out);
  if (!(await stat(entry).catch(() => null))?.isFile()) usage(`no such module: ${args.entry}`);
  const componentize = await loadComponentize(dirname(entry));

  const stage = join(dirname(out), `.importhook-build-${basename(out, '.wasm')}`);
  await rm(stage, { recursive: true, force: true });
  const sdkDir = join(stage, 'importhook-sdk');
  await cp(SDK_SRC, sdkDir, { recursive: true });
  await pinWitVersion(sdkDir, witVersion(resolve(args.wit)));
  await stageStrategy(dirname(entry), join(stage, 'strategy'), sdkDir);
  await writeFile(
    join(stage, 'entry.js'),
    [
      `import userStrategy from './strategy/${basename(entry)}';`,
      `import { exportStrategy } from './importhook-sdk/component.js';`,
      'export const strategy = exportStrategy(userStrategy);',
      '',
    ].join('\n'),
  );

  // ComponentizeJS maps the working folder into the engine when the source is inside it.
  const cwd = process.cwd();
  process.chdir(stage);
  try {
    const { component } = await componentize({
      sourcePath: join(stage, 'entry.js'),
      witPath: resolve(cwd, args.wit),
      worldName: 'plugin',
      disableFeatures: DISABLED_FEATURES,
    });
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, component);
  } finally {
    process.chdir(cwd);
    await rm(stage, { recursive: true, force: true });
  }
  console.error(`importhook-build-js: wrote ${relative(cwd, out) || out}`);
}

await main();
