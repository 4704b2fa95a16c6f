// Digital Bazaar's reference stack, as a relying party runs it: @digitalbazaar/vc verifyCredential
// with the eddsa-rdfc-2022 Data Integrity suite, did:web resolved by did-io's did:web driver, and
// checkStatus from @digitalbazaar/vc-bitstring-status-list. Loading is closed: pinned contexts,
// the microcred server under test (DID document, status lists), nothing else (lib/loopback.mjs).
//
// Prints {peer, verified, results, statusResult, error}: `verified` and `statusResult` as the
// libraries return them, except that a set revocation or suspension bit makes it false (the
// status library reports the bit it read, `status`; acting on it is the relying party's part).
import {origin, pinnedContexts, isAllowed, refuse} from './lib/loopback.mjs';
import {main} from './lib/run.mjs';
import {CachedResolver} from '@digitalbazaar/did-io';
import * as didWeb from '@digitalbazaar/did-method-web';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import {checkStatus as bitstringCheckStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {JsonLdDocumentLoader} from 'jsonld-document-loader';

const FAILING_PURPOSES = new Set(['revocation', 'suspension']);

function documentLoader() {
  const loader = new JsonLdDocumentLoader();
  for (const [url, context] of pinnedContexts) {
    loader.addStatic(url, context);
  }
  // did:web only for the server under test (the driver's own allow list, and the guard below it).
  const didWebDriver = didWeb.driver({allowList: [new URL(origin).host]});
  didWebDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});
  const resolver = new CachedResolver();
  resolver.use(didWebDriver);
  loader.setDidResolver(resolver);
  // https only for the server under test: its status list credentials.
  loader.setProtocolHandler({protocol: 'https', handler: {async get({url}) {
    if (!isAllowed(url)) {
      throw refuse(`document ${url}`);
    }
    const response = await fetch(url, {headers: {accept: 'application/vc+ld+json, application/ld+json, application/json'}});
    if (!response.ok) {
      throw new Error(`NotFoundError: ${url} answered HTTP ${response.status}`);
    }
    return response.json();
  }}});
  return loader.build();
}

async function checkStatus(options) {
  const result = await bitstringCheckStatus(options);
  const set = (result.results ?? []).filter(({status, credentialStatus}) =>
    status === true && FAILING_PURPOSES.has(credentialStatus.statusPurpose));
  if (result.verified && set.length) {
    const purposes = set.map(({credentialStatus}) => credentialStatus.statusPurpose).join(', ');
    return {...result, verified: false, error: new Error(`status bit set: ${purposes}`)};
  }
  return result;
}

const loader = documentLoader();
const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});

async function verify(credential) {
  const result = await vc.verifyCredential({credential, suite, documentLoader: loader, checkStatus});
  const {verified, statusResult, error} = result;
  // Each proof's result without the echoed credential.
  const results = (result.results ?? []).map(({credential: _echo, ...proof}) => proof);
  return {peer: 'digitalbazaar', verified, results, statusResult, error};
}

await main(verify);
