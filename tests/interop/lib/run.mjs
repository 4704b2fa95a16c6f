// How each peer script is run: one credential from a file or stdin (prints one JSON result, exit 0
// verified, 1 not verified, 2 unreadable), or `--lines`: one credential per stdin line, one JSON
// result per stdout line, in order, for as long as stdin stays open (the tests keep one process
// per peer and feed it many credentials).
import fs from 'node:fs';
import readline from 'node:readline';
import {takeRefusals} from './loopback.mjs';

const USAGE = 'usage: node SCRIPT [CREDENTIAL.json | -]   or   node SCRIPT --lines';

/** Errors as plain JSON (name, message, cause, nested errors); stack traces left out. */
function plain(key, value) {
  if (key === 'stack' || key === 'stackTrace') {
    return undefined;
  }
  if (value instanceof Error) {
    return {
      name: value.name, message: value.message,
      ...(value.code && {code: value.code}),
      ...(value.cause && {cause: value.cause}),
      ...(value.errors && {errors: value.errors}),
      ...(value.details && {details: value.details})
    };
  }
  return value;
}

async function verifyText(verify, text) {
  let credential;
  try {
    credential = JSON.parse(text);
  } catch (error) {
    return {verified: false, unreadable: `not JSON: ${error.message}`, refused: takeRefusals()};
  }
  try {
    return {...await verify(credential), refused: takeRefusals()};
  } catch (error) {
    // A peer that throws (instead of reporting) is a result too: not verified, with its error.
    return {verified: false, thrown: error, refused: takeRefusals()};
  }
}

export async function main(verify) {
  const args = process.argv.slice(2);
  if (args.length > 1 || args[0] === '-h' || args[0] === '--help') {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  if (args[0] === '--lines') {
    const lines = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
    for await (const line of lines) {
      if (line.trim()) {
        process.stdout.write(`${JSON.stringify(await verifyText(verify, line), plain)}\n`);
      }
    }
    return;
  }
  const source = args[0] === undefined || args[0] === '-' ? 0 : args[0];
  let text;
  try {
    text = fs.readFileSync(source, 'utf8');
  } catch (error) {
    process.stderr.write(`cannot read ${args[0]}: ${error.message}\n`);
    process.exit(2);
  }
  const result = await verifyText(verify, text);
  process.stdout.write(`${JSON.stringify(result, plain, 2)}\n`);
  process.exitCode = result.unreadable ? 2 : (result.verified ? 0 : 1);
}
