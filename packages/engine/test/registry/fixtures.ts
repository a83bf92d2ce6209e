/**
 * Real servers on loopback for the registry, publish and download tests, in one import:
 * Debian's docker-registry (the CNCF distribution registry) with htpasswd auth and/or TLS, a
 * Bearer token server, and a plain node:http file server, with what clients need to use them.
 * Each server records the requests it served so tests can count them.
 */
export { type Credentials, clientEnv, seed, skopeoDigest, writeAuthFile } from './clients';
export {
  type RegistryOptions,
  type Served,
  startAuthRegistry,
  startRegistry,
  type TestRegistry,
} from './docker-registry';
export { type FileServer, type ServedFile, sha256Hex, startFileServer } from './file-server';
export { freePort, selfSignedCert } from './loopback';
export { startTokenServer, type TokenServer } from './token-server';
