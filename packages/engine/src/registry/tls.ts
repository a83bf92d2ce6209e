import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

/** Where Debian (and most distributions) keep the system's trusted certificates. */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
];

const cache = new Map<string, string[]>();

/**
 * The certificates a server's must chain to: Node's bundled roots, the system's bundle
 * (`$SSL_CERT_FILE`, else the first of SYSTEM_BUNDLES that exists) and `$NODE_EXTRA_CA_CERTS`.
 * Node alone trusts only its bundle (and NODE_EXTRA_CA_CERTS read at start-up), so a registry
 * signed by a company CA installed with update-ca-certificates would be refused; stacker,
 * being Go, trusts the system store. Read once per distinct set of paths. Files that cannot
 * be read are skipped: a broken system bundle must not break registries Node trusts anyway.
 */
export function trustedCertificates(env: NodeJS.ProcessEnv): string[] {
  const system = env.SSL_CERT_FILE ? [env.SSL_CERT_FILE] : SYSTEM_BUNDLES;
  const extra = env.NODE_EXTRA_CA_CERTS ? [env.NODE_EXTRA_CA_CERTS] : [];
  const key = [...system, '|', ...extra].join('\n');
  const cached = cache.get(key);
  if (cached) return cached;

  const certs = [...rootCertificates];
  const bundle = system.map(readIfExists).find((text) => text !== undefined);
  if (bundle) certs.push(bundle);
  for (const path of extra) {
    const text = readIfExists(path);
    if (text) certs.push(text);
  }
  cache.set(key, certs);
  return certs;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
