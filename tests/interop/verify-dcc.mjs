// The Digital Credentials Consortium stack: @digitalcredentials/verifier-core's verifyCredential,
// exactly as VerifierPlus and the Learner Credential Wallet call it (its own document loader with
// its bundled contexts and did:web driver). It has no loader hook, so lib/loopback.mjs closes the
// network under it: only the microcred server under test answers, and microcred's pinned copies
// stand in for the few contexts/schemas it would fetch. No issuer registries are passed (ours is
// in none), so `registered_issuer` is false by design.
//
// Prints {peer, verified, steps, log, errors, additionalInformation}: `log` and `errors` as
// verifier-core returns them; `steps` maps each step id to true/false (`valid`) or its error
// name; `verified` is what VerifierPlus shows as a pass: no errors, and the signature, expiry and
// status steps all valid (the registry step aside).
import './lib/loopback.mjs';
import {main} from './lib/run.mjs';
import {verifyCredential} from '@digitalcredentials/verifier-core';

const REGISTRY_STEP = 'registered_issuer';

async function verify(credential) {
  const {log = [], errors, additionalInformation} = await verifyCredential({credential, knownDIDRegistries: []});
  const steps = Object.fromEntries(log.map(step => [step.id, 'valid' in step ? step.valid : step.error?.name ?? 'error']));
  const checked = log.filter(step => step.id !== REGISTRY_STEP);
  const verified = !errors?.length && checked.length > 0 && checked.every(step => step.valid === true);
  return {peer: 'dcc', verified, steps, log, errors, additionalInformation};
}

await main(verify);
