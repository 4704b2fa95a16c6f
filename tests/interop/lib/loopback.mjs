// The peer verifiers' whole network, closed to one loopback origin: the microcred server under test.
//
// Import this module FIRST in every entry script, so the guards are in place before any library
// captures `fetch` or opens a socket. Then every fetch() and every TCP connection of the process
// passes through here:
//   - JSON-LD contexts and OB 3.0 JSON Schemas are answered from microcred's own pinned copies in
//     verifier/contexts and verifier/schemas (never from the internet);
//   - the origin in MICROCRED_INTEROP_ORIGIN (https://127.0.0.1:PORT) is reached for real;
//   - anything else is refused loudly: written to stderr, kept in `takeRefusals()` (each result
//     reports them, and the tests fail on any) and thrown to the caller.
import fs from 'node:fs';
import net from 'node:net';
import {fileURLToPath} from 'node:url';

const VERIFIER_DIR = fileURLToPath(new URL('../../../verifier/', import.meta.url));
const LOOPBACK_HOST = '127.0.0.1';
// The schema ids credentials name (and DCC's schema check guesses), mapped to microcred's copies
// of the same models (verifier/schema.py uses the achievement one under the same id).
const SCHEMA_FILES = {
  'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json':
    'achievementcredential.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json':
    'endorsementcredential.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_profile_schema.json': 'profile.json'
};

export const origin = allowedOrigin(process.env.MICROCRED_INTEROP_ORIGIN);
const allowedPort = Number(new URL(origin).port);
const refusals = [];

function allowedOrigin(value) {
  let url;
  try {
    url = new URL(value ?? '');
  } catch {
    fail('MICROCRED_INTEROP_ORIGIN must be the microcred server under test, e.g. https://127.0.0.1:8443');
  }
  if (url.protocol !== 'https:' || url.hostname !== LOOPBACK_HOST || !url.port) {
    fail(`MICROCRED_INTEROP_ORIGIN must be https://${LOOPBACK_HOST}:PORT (loopback only), not ${value}`);
  }
  return url.origin;
}

function fail(message) {
  process.stderr.write(`interop: ${message}\n`);
  process.exit(2);
}

/** Refuse `what` loudly: remembered for the current result, logged, and thrown. */
export function refuse(what) {
  const message = `interop loopback guard refused ${what}: only ${origin} and pinned documents are reachable`;
  refusals.push(what);
  process.stderr.write(`${message}\n`);
  return new Error(message);
}

/** The refusals since the last call (reported with each verification result). */
export function takeRefusals() {
  return refusals.splice(0, refusals.length);
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** url -> parsed document: microcred's pinned JSON-LD contexts (verifier/contexts/contexts.json). */
export const pinnedContexts = new Map(Object.entries(readJson(`${VERIFIER_DIR}contexts/contexts.json`).contexts)
  .map(([url, file]) => [url, readJson(`${VERIFIER_DIR}contexts/${file}`)]));
const pinnedSchemas = new Map(Object.entries(SCHEMA_FILES)
  .map(([url, file]) => [url, readJson(`${VERIFIER_DIR}schemas/${file}`)]));

/** Whether `url` is on the server under test. */
export function isAllowed(url) {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

// fetch(): pinned documents answered locally, the server under test for real, nothing else.
const realFetch = globalThis.fetch;
globalThis.fetch = async function loopbackFetch(input, init) {
  const url = input instanceof Request ? input.url : String(input);
  const pinned = pinnedContexts.get(url) ?? pinnedSchemas.get(url);
  if (pinned) {
    return new Response(JSON.stringify(pinned), {status: 200, headers: {'content-type': 'application/ld+json'}});
  }
  if (!isAllowed(url)) {
    throw refuse(`fetch ${url}`);
  }
  return realFetch(input, init);
};

// Sockets: whatever client a library uses (fetch/undici, http, https, tls), a connection goes
// through net.Socket#connect; only 127.0.0.1 on the server's port is let through.
const realConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function loopbackConnect(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === 'object' && first !== null ? first :
    {port: first, host: typeof args[1] === 'string' ? args[1] : 'localhost'};
  const host = options.host ?? 'localhost';
  if (options.path !== undefined || host !== LOOPBACK_HOST || Number(options.port) !== allowedPort) {
    throw refuse(`connection to ${options.path ?? `${host}:${options.port}`}`);
  }
  return realConnect.apply(this, args);
};
