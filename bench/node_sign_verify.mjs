// The Node reference stack on bench/sign_verify.py's documents: Digital Bazaar's @digitalbazaar/vc
// issue and verifyCredential with the eddsa-rdfc-2022 Data Integrity suite, a did:key made here,
// and a closed document loader (the pinned contexts and this key's documents, nothing else).
// sign_verify.py runs it with --eval from tests/interop, where the pinned packages resolve.
// stdin: {"contexts": {url: context}, "credentials": [unsigned, ...]}; stdout: one JSON line.
// The credentials' status is not checked (microcred's figure does not check it either).
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import {JsonLdDocumentLoader} from 'jsonld-document-loader';

let text = '';
for await (const chunk of process.stdin) {
  text += chunk;
}
const {contexts, credentials} = JSON.parse(text);

const key = await Ed25519Multikey.generate();
const did = `did:key:${key.publicKeyMultibase}`;
key.controller = did;
key.id = `${did}#${key.publicKeyMultibase}`;
const method = await key.export({publicKey: true, includeContext: true});
const loader = new JsonLdDocumentLoader();
for (const [url, context] of Object.entries(contexts)) {
  loader.addStatic(url, context);
}
loader.addStatic(key.id, method);
loader.addStatic(did, {
  '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
  id: did, verificationMethod: [{...method, '@context': undefined}], assertionMethod: [key.id]
});
const documentLoader = loader.build();
const checkStatus = async () => ({verified: true});

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function timed(items, operation) {
  const results = [];
  const times = [];
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (const item of items) {
    const t0 = process.hrtime.bigint();
    results.push(await operation(item));
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const used = process.cpuUsage(cpu);
  return {results, seconds: Number(process.hrtime.bigint() - start) / 1e9, times,
          cpuSeconds: (used.user + used.system) / 1e6};
}

const ours = credentials.map(credential => {
  const copy = structuredClone(credential);
  copy.issuer.id = did;
  copy.credentialSubject.achievement.creator.id = did;
  return copy;
});
const signing = await timed(ours, credential => vc.issue({
  credential, suite: new DataIntegrityProof({signer: key.signer(), cryptosuite}), documentLoader
}));
const verifying = await timed(signing.results, credential => vc.verifyCredential({
  credential, suite: new DataIntegrityProof({cryptosuite}), documentLoader, checkStatus
}));
const failed = verifying.results.filter(result => !result.verified);
if (failed.length) {
  process.stderr.write(JSON.stringify(failed[0].error ?? failed[0], null, 1).slice(0, 2000) + '\n');
  process.exit(1);
}
const n = credentials.length;
process.stdout.write(JSON.stringify({
  sign_per_s: n / signing.seconds, sign_ms_median: median(signing.times), sign_per_cpu_s: n / signing.cpuSeconds,
  verify_per_s: n / verifying.seconds, verify_ms_median: median(verifying.times),
  verify_per_cpu_s: n / verifying.cpuSeconds,
  versions: process.versions.node
}) + '\n');
