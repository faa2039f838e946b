'use strict';
// The peer of the benchmark: the Okta User Import Inline Hook a user writes by following
// Okta's guide, in plain Node.js with no dependencies. One https server per worker of a
// `cluster` (as many workers as cores unless told otherwise), the login-middle-name strategy
// hard-coded:
//
//   POST /okta/import, Authorization: <secret>, body: the Okta import request
//   -> 200 {"commands":[{"type":"com.okta.user.profile.update","value":{"login":"..."}}]}
//      when the login is in conflict and the app user has a middle name, else 204; 404 for
//      another path or method, 401 for a wrong secret, 415 for a body not declared JSON, 413
//      over 256 KiB, 400 for a body that does not parse.
//
// Options, each as a flag or an env var (flags win):
//   --port N        PORT         listening port (default 8443)
//   --host ADDR     HOST         listening address (default 127.0.0.1)
//   --cert FILE     TLS_CERT     PEM certificate chain (required)
//   --key FILE      TLS_KEY      PEM private key (required)
//   --secret S      HOOK_SECRET  expected Authorization header value (required; prefer the env
//                                var: flags show in `ps`)
//   --workers N     WORKERS      cluster workers (default os.availableParallelism())

const cluster = require('node:cluster');
const crypto = require('node:crypto');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');

const HOOK_PATH = '/okta/import';
const MAX_BODY_BYTES = 256 * 1024;
// Longer than any benchmark pause so that wrk's keep-alive connections are never dropped.
const KEEP_ALIVE_MS = 65_000;

/** Options from `--name value` flags, falling back to env vars, then to defaults. */
function readOptions(argv, env) {
  const flags = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      throw new Error(`unexpected argument ${arg}`);
    }
    const eq = arg.indexOf('=');
    if (eq > 0) {
      flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) {
        throw new Error(`${arg} needs a value`);
      }
      flags[arg.slice(2)] = argv[i + 1];
      i += 1;
    }
  }
  const known = new Set(['port', 'host', 'cert', 'key', 'secret', 'workers']);
  for (const name of Object.keys(flags)) {
    if (!known.has(name)) {
      throw new Error(`unknown flag --${name}`);
    }
  }
  const options = {
    port: Number(flags.port ?? env.PORT ?? 8443),
    host: flags.host ?? env.HOST ?? '127.0.0.1',
    cert: flags.cert ?? env.TLS_CERT,
    key: flags.key ?? env.TLS_KEY,
    secret: flags.secret ?? env.HOOK_SECRET,
    workers: Number(flags.workers ?? env.WORKERS ?? os.availableParallelism()),
  };
  if (!options.cert || !options.key) {
    throw new Error('a certificate and key are required (--cert/--key or TLS_CERT/TLS_KEY)');
  }
  if (!options.secret) {
    throw new Error('a secret is required (HOOK_SECRET or --secret)');
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new Error(`bad port ${options.port}`);
  }
  if (!Number.isInteger(options.workers) || options.workers < 1) {
    throw new Error(`bad worker count ${options.workers}`);
  }
  return options;
}

/** The middle name as it goes into a login: trimmed, lowercase, inner whitespace as dots. */
function slug(middleName) {
  return middleName.trim().toLowerCase().split(/\s+/).filter((w) => w !== '').join('.');
}

/**
 * `login` with `middle` after the first dot-separated part of its local part
 * (`sally.admin@x` -> `sally.elizabeth.admin@x`; no dot: `jo@x` -> `jo.elizabeth@x`), or null
 * when the local part already holds it (a retried request must not infix twice).
 */
function infix(login, middle) {
  const at = login.lastIndexOf('@');
  const local = at >= 0 ? login.slice(0, at) : login;
  const domain = at >= 0 ? login.slice(at) : '';
  const parts = local.split('.');
  if (parts.some((part) => part.toLowerCase() === middle)) {
    return null;
  }
  const dot = local.indexOf('.');
  const newLocal = dot >= 0
    ? `${local.slice(0, dot)}.${middle}.${local.slice(dot + 1)}`
    : `${local}.${middle}`;
  return newLocal + domain;
}

/** The commands answering one parsed Okta request, or null for "no change" (204). */
function commandsFor(event) {
  const data = event && typeof event === 'object' ? event.data : undefined;
  const conflicts = data?.context?.conflicts;
  if (!Array.isArray(conflicts) || !conflicts.includes('login')) {
    return null;
  }
  const middleName = data?.appUser?.profile?.middleName;
  const login = data?.user?.profile?.login;
  if (typeof middleName !== 'string' || typeof login !== 'string') {
    return null;
  }
  const middle = slug(middleName);
  if (middle === '') {
    return null;
  }
  const newLogin = infix(login, middle);
  if (newLogin === null) {
    return null;
  }
  return [{ type: 'com.okta.user.profile.update', value: { login: newLogin } }];
}

/** Whether the Authorization header equals the secret, in constant time for equal lengths. */
function authorized(header, secretBytes) {
  if (typeof header !== 'string') {
    return false;
  }
  const given = Buffer.from(header, 'utf8');
  if (given.length !== secretBytes.length) {
    return false;
  }
  return crypto.timingSafeEqual(given, secretBytes);
}

/** Sends a short plain-text or JSON answer. */
function answer(res, status, body, contentType = 'text/plain; charset=utf-8') {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.length });
  res.end(bytes);
}

/** The request handler of one worker. */
function makeHandler(secretBytes) {
  return (req, res) => {
    const path = req.url.split('?', 1)[0];
    if (req.method !== 'POST' || path !== HOOK_PATH) {
      answer(res, 404, 'not found\n');
      req.resume();
      return;
    }
    if (!authorized(req.headers.authorization, secretBytes)) {
      answer(res, 401, 'unauthorized\n');
      req.resume();
      return;
    }
    // importhook refuses a body not declared JSON (415) before reading it: so does the peer.
    const type = req.headers['content-type'];
    if (typeof type !== 'string' || !type.toLowerCase().startsWith('application/json')) {
      answer(res, 415, 'content type must be application/json\n');
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) {
      res.setHeader('Connection', 'close');
      answer(res, 413, 'request body too large\n');
      req.resume();
      return;
    }
    const chunks = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk) => {
      if (refused) {
        return;
      }
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        refused = true;
        res.setHeader('Connection', 'close');
        answer(res, 413, 'request body too large\n');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) {
        return;
      }
      let event;
      try {
        event = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
      } catch {
        answer(res, 400, 'body is not JSON\n');
        return;
      }
      const commands = commandsFor(event);
      if (commands === null) {
        answer(res, 204);
      } else {
        answer(res, 200, JSON.stringify({ commands }), 'application/json');
      }
    });
    req.on('error', () => {
      res.destroy();
    });
  };
}

/** One worker: an https server on the shared port. */
function runWorker(options) {
  const server = https.createServer(
    { cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) },
    makeHandler(Buffer.from(options.secret, 'utf8')),
  );
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // Must outlast keepAliveTimeout, or idle connections are cut at the headers deadline.
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  server.listen(options.port, options.host);
}

/** The primary: forks the workers, replaces any that dies, stops them all on SIGTERM/SIGINT. */
function runPrimary(options) {
  let stopping = false;
  for (let i = 0; i < options.workers; i += 1) {
    cluster.fork();
  }
  let listening = 0;
  cluster.on('listening', () => {
    listening += 1;
    if (listening === options.workers) {
      console.log(`node-peer: ${options.workers} worker(s) on https://${options.host}:${options.port}${HOOK_PATH}`);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      console.error(`node-peer: worker ${worker.process.pid} died (${signal || code}); forking another`);
      cluster.fork();
    }
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) {
      worker.kill('SIGTERM');
    }
    setTimeout(() => process.exit(0), 2_000).unref();
    cluster.disconnect(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function main() {
  let options;
  try {
    options = readOptions(process.argv.slice(2), process.env);
  } catch (e) {
    console.error(`node-peer: ${e.message}`);
    process.exit(2);
  }
  if (cluster.isPrimary) {
    runPrimary(options);
  } else {
    runWorker(options);
  }
}

if (require.main === module) {
  main();
}

module.exports = { slug, infix, commandsFor, authorized };
